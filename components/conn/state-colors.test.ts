import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compareStates, stateColor, stateTone, TONE_COLOR } from './state-colors';

describe('stateTone', () => {
  it.each([
    ['ESTABLISHED', 'established'], ['SYN_RECV', 'synrecv'], ['FIN_WAIT', 'finwait'],
    ['TIME_WAIT', 'timewait'], ['CLOSE', 'close'], ['UDP', 'udp'], ['NONE', 'other'],
    ['syn_recv', 'synrecv'], ['C-ECHOED', 'synrecv'], ['ERR!', 'other'],
  ])('%s → %s', (s, t) => expect(stateTone(s)).toBe(t));

  it('gives established and syn_recv different colours', () => {
    expect(stateColor('ESTABLISHED')).not.toBe(stateColor('SYN_RECV'));
  });
});

describe('compareStates', () => {
  it('orders the TCP lifecycle, then UDP, then unknown names alphabetically', () => {
    const sorted = ['UDP', 'ZED', 'TIME_WAIT', 'ESTABLISHED', 'SYN_RECV', 'ABC', 'CLOSE'].sort(compareStates);
    expect(sorted).toEqual(['SYN_RECV', 'ESTABLISHED', 'TIME_WAIT', 'CLOSE', 'UDP', 'ABC', 'ZED']);
  });
});

describe('palette', () => {
  it('matches the CSS tokens in app/globals.css', () => {
    const css = readFileSync(path.join(import.meta.dirname, '../../app/globals.css'), 'utf8');
    for (const [tone, hex] of Object.entries(TONE_COLOR)) {
      expect(css).toContain(`--color-st-${tone}: ${hex};`);
    }
  });
});
