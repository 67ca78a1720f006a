import { describe, expect, it } from 'vitest';
import { isMissingProcedure, notEnabledStatus, parseStatusMessage } from './ha-client';
import { haStatus } from './fixtures';
import { haStatusSchema } from '@/lib/schemas/ha';

describe('parseStatusMessage', () => {
  it('accepts a bare status and a tracked() envelope', () => {
    const s = haStatus('lvs1');
    expect(parseStatusMessage(s)).toEqual({ ok: true, status: s });
    expect(parseStatusMessage({ id: '17', data: s })).toEqual({ ok: true, status: s });
  });
  it('names the field that breaks the contract', () => {
    const bad = { ...haStatus('lvs1'), zookeeper: { state: 'sleepy' } };
    const r = parseStatusMessage(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/zookeeper\.state/);
  });
});

describe('isMissingProcedure', () => {
  it('tells an agent without the ha router from an unreachable one', () => {
    const notFound = Object.assign(new Error('No procedure found on path "ha.status"'), { data: { code: 'NOT_FOUND' } });
    expect(isMissingProcedure(notFound)).toBe(true);
    const down = Object.assign(new Error('The agent at http://169.254.150.2:9582 did not answer'), { data: { code: 'BAD_GATEWAY' } });
    expect(isMissingProcedure(down)).toBe(false);
  });
});

describe('notEnabledStatus', () => {
  it('is a valid status of the contract', () => {
    expect(haStatusSchema.safeParse(notEnabledStatus('lab', 1, 'no ha router')).success).toBe(true);
  });
});
