/**
 * Connection state → colour and grouping. Names are the kernel's, as printed
 * in /proc/net/ip_vs_conn (TCP, UDP, SCTP machines). The colours are the CSS
 * tokens declared in app/globals.css (--color-st-*), so charts (which need a
 * literal colour) and Tailwind classes agree.
 */

export type StateTone = 'established' | 'synrecv' | 'synsent' | 'finwait' | 'timewait' | 'close' | 'udp' | 'other';

export const TONE_COLOR: Record<StateTone, string> = {
  established: '#2f9e5b',
  synrecv: '#e0782f',
  synsent: '#d4a72c',
  finwait: '#3b82c4',
  timewait: '#7f93ad',
  close: '#8a8f98',
  udp: '#8b5cc7',
  other: '#b0b6bf',
};

/** Tailwind background classes; written out in full so Tailwind's scanner sees them. */
export const TONE_BG: Record<StateTone, string> = {
  established: 'bg-st-established',
  synrecv: 'bg-st-synrecv',
  synsent: 'bg-st-synsent',
  finwait: 'bg-st-finwait',
  timewait: 'bg-st-timewait',
  close: 'bg-st-close',
  udp: 'bg-st-udp',
  other: 'bg-st-other',
};

const BY_NAME: Record<string, StateTone> = {
  ESTABLISHED: 'established',
  SYN_RECV: 'synrecv',
  SYNACK: 'synrecv',
  SYN_SENT: 'synsent',
  FIN_WAIT: 'finwait',
  CLOSE_WAIT: 'finwait',
  LAST_ACK: 'finwait',
  TIME_WAIT: 'timewait',
  CLOSE: 'close',
  CLOSED: 'close',
  NONE: 'other',
  LISTEN: 'other',
  ASSURED: 'other',
  UDP: 'udp',
  // SCTP handshake and shutdown states, by analogy with TCP.
  INIT1: 'synrecv',
  INIT: 'synrecv',
  'C-SENT': 'synrecv',
  'C-REPLIED': 'synrecv',
  'C-WAIT': 'synrecv',
  COOKIE: 'synrecv',
  'C-ECHOED': 'synrecv',
  'S-SENT': 'finwait',
  'S-RECEIVED': 'finwait',
  'S-ACK-SENT': 'finwait',
  REJECTED: 'close',
};

export function stateTone(state: string): StateTone {
  return BY_NAME[state.toUpperCase()] ?? 'other';
}

export function stateColor(state: string): string {
  return TONE_COLOR[stateTone(state)];
}

/**
 * Display order for histograms: the lifecycle of a TCP connection left to
 * right, then UDP, then whatever else the kernel printed, alphabetically.
 */
const ORDER = ['SYN_SENT', 'SYN_RECV', 'SYNACK', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'UDP'];

export function compareStates(a: string, b: string): number {
  const ia = ORDER.indexOf(a);
  const ib = ORDER.indexOf(b);
  if (ia !== -1 && ib !== -1) return ia - ib;
  if (ia !== -1) return -1;
  if (ib !== -1) return 1;
  return a.localeCompare(b);
}
