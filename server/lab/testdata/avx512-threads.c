#include <pthread.h>
#include <stdio.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
// Threads of one process share one host process under UML: each keeps its own AVX-512 value
// in zmm17 across yields and preemption, which only holds if the guest saves and restores it.
static long bad[4];
static void *run(void *arg) {
  long seed = (long)arg; uint64_t in[8], out[8];
  for (int i = 0; i < 8; i++) in[i] = seed * 1000 + i;
  for (long it = 0; it < 100000; it++) {
    __asm__ volatile("vmovdqu64 %0, %%zmm17" :: "m"(in) : "xmm17");
    if (it % 64 == 0) sched_yield();
    else { volatile long x = 0; for (int j = 0; j < 300; j++) x += j; }
    __asm__ volatile("vmovdqu64 %%zmm17, %0" : "=m"(out) :: );
    if (memcmp(in, out, 64)) bad[seed]++;
  }
  return 0;
}
int main(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, run, (void *)i);
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  long total = 0; for (int i = 0; i < 4; i++) total += bad[i];
  printf("threads: corrupted %ld of 400000\n", total);
  return total != 0;
}
