/*
 * LD_PRELOAD shim for Debian's user-mode Linux 6.1 on hosts with a large
 * XSAVE area (AVX-512, AMX).
 *
 * Why: UML saves and restores each guest task's FPU state with
 * PTRACE_GETREGSET/PTRACE_SETREGSET(NT_X86_XSTATE) using a fixed 832-byte
 * buffer (x87 + SSE + AVX). The host kernel accepts a short GETREGSET but
 * refuses a SETREGSET that is not exactly the host's full XSAVE size with
 * EFAULT, so on such hosts the guest's init dies at once ("userspace - ptrace
 * set fp regs failed, errno = 14", then "Attempted to kill init").
 *
 * What it does: for a short xstate GETREGSET it reads the full state into a
 * shadow buffer kept per UML buffer address (UML uses one buffer per guest
 * task, so the address names the task) and hands UML its first bytes; for a
 * short SETREGSET it lays UML's bytes over that shadow and sets the full
 * state. The registers UML does not know about (AVX-512, PKRU, ...) thus
 * travel with their task instead of being lost or leaking between tasks.
 * A buffer never read before (a new task: UML copied its bytes from the
 * parent) gets the other components in their initial state. Every other
 * ptrace request goes to glibc untouched; on a host whose XSAVE area fits
 * UML's buffer the shim changes nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#define NT_X86_XSTATE_NOTE 0x202
#define XSAVE_HEADER 512 /* xstate_bv at +0, xcomp_bv at +8 */
#define AVX_END 832

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

static ptrace_fn real_ptrace;
static size_t full_size; /* 0: not known yet */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct shadow { void *key; struct shadow *next; int valid; unsigned char state[]; };
#define BUCKETS 4096
static struct shadow *table[BUCKETS];

static struct shadow *shadow_for(void *key, int create) {
  size_t b = ((uintptr_t)key >> 4) % BUCKETS;
  for (struct shadow *s = table[b]; s; s = s->next)
    if (s->key == key) return s;
  if (!create) return NULL;
  struct shadow *s = calloc(1, sizeof *s + full_size);
  if (!s) return NULL;
  s->key = key;
  s->next = table[b];
  table[b] = s;
  return s;
}

/* The host's xstate regset size: the kernel trims a long iovec to it. */
static size_t host_size(pid_t pid) {
  if (full_size) return full_size;
  static unsigned char probe[1 << 16];
  struct iovec iov = { probe, sizeof probe };
  if (real_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE_NOTE, &iov) == 0) full_size = iov.iov_len;
  return full_size;
}

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (!real_ptrace) real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");

  int get = request == PTRACE_GETREGSET, set = request == PTRACE_SETREGSET;
  if ((!get && !set) || (uintptr_t)addr != NT_X86_XSTATE_NOTE || data == NULL)
    return real_ptrace(request, pid, addr, data);

  struct iovec *iov = data;
  pthread_mutex_lock(&lock);
  size_t full = host_size(pid);
  if (full == 0 || iov->iov_len >= full) {
    pthread_mutex_unlock(&lock);
    return real_ptrace(request, pid, addr, data);
  }
  size_t len = iov->iov_len;
  long r;
  struct shadow *s = shadow_for(iov->iov_base, 1);
  if (!s) {
    pthread_mutex_unlock(&lock);
    errno = ENOMEM;
    return -1;
  }
  struct iovec big = { s->state, full };
  if (get) {
    r = real_ptrace(PTRACE_GETREGSET, pid, addr, &big);
    if (r == 0) {
      memcpy(iov->iov_base, s->state, len);
      s->valid = 1;
    }
  } else {
    memcpy(s->state, iov->iov_base, len);
    if (!s->valid && len >= XSAVE_HEADER + 16) {
      /* only the components inside UML's bytes are valid; the rest start from their init state */
      uint64_t bv;
      memcpy(&bv, s->state + XSAVE_HEADER, 8);
      bv &= len >= AVX_END ? 0x7 : 0x3;
      memcpy(s->state + XSAVE_HEADER, &bv, 8);
      memset(s->state + XSAVE_HEADER + 8, 0, 8);
    }
    r = real_ptrace(PTRACE_SETREGSET, pid, addr, &big);
    if (r == 0) s->valid = 1;
  }
  pthread_mutex_unlock(&lock);
  return r;
}
