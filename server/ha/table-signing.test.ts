import { describe, expect, it } from 'vitest';
import { signedTableMessage } from '@/lib/ha/zk-layout';
import { encodeSignedTable, nextSeq, signTable, verifyTable } from './table-signing';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const TABLE = '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n';
const signed = (o: Partial<{ seq: number; ts: number; director: string; table: string }> = {}, key = KEY, root = '/director') =>
  signTable(key, root, { seq: 100, ts: 1_700_000_000_000, director: 'lvs2', table: TABLE, ...o });
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('signing the replicated table', () => {
  it('a payload signed with the key verifies, with its fields', () => {
    const v = verifyTable(KEY, '/director', encodeSignedTable(signed()), null);
    expect(v).toEqual({ ok: true, same: false, payload: expect.objectContaining({ seq: 100, director: 'lvs2', table: TABLE }) });
  });

  it('the MAC is HMAC-SHA256 over the documented message (golden value)', () => {
    const { createHmac } = require('node:crypto') as typeof import('node:crypto');
    const p = signed();
    expect(p.mac).toBe(createHmac('sha256', KEY).update(signedTableMessage('/director', p)).digest('hex'));
    expect(signedTableMessage('/director', p)).toBe(`director-table/1\n/director\n100\n1700000000000\nlvs2\n${TABLE}`);
  });

  it.each([
    ['the table', { table: TABLE.replace('10.0.1.1', '203.0.113.66') }],
    ['the sequence', { seq: 101 }],
    ['the time', { ts: 1 }],
    ['the publisher', { director: 'lvs1' }],
  ])('changing %s after signing breaks the signature', (_what, change) => {
    const v = verifyTable(KEY, '/director', bytes({ ...signed(), ...change }), null);
    expect(v).toMatchObject({ ok: false, reason: expect.stringMatching(/^invalid signature/) });
  });

  it('another key, or another cluster root, does not verify', () => {
    expect(verifyTable(KEY, '/director', encodeSignedTable(signed({}, Buffer.from('another key, 32 characters long!'))), null))
      .toMatchObject({ ok: false, reason: expect.stringMatching(/invalid signature/) });
    expect(verifyTable(KEY, '/director', encodeSignedTable(signed({}, KEY, '/other')), null)).toMatchObject({ ok: false });
  });

  it.each([
    ['nothing', null, /znode is empty/],
    ['empty bytes', Buffer.alloc(0), /znode is empty/],
    ['plain ipvsadm text', Buffer.from(TABLE), /not a signed payload \(plain text/],
    ['JSON without a MAC', bytes({ ...signed(), mac: undefined }), /mac/],
    ['a MAC of the wrong length', bytes({ ...signed(), mac: 'ab' }), /mac/],
    ['an unknown format', bytes({ ...signed(), format: 'director-table/0' }), /format/],
    ['a huge payload', Buffer.alloc(2 * 1024 * 1024, 0x20), /larger than any signed table/],
  ])('%s is refused as unsigned', (_what, data, reason) => {
    const v = verifyTable(KEY, '/director', data, null);
    expect(v).toMatchObject({ ok: false, reason: expect.stringMatching(/^unsigned/) });
    expect(v.ok ? '' : v.reason).toMatch(reason);
  });

  it('older than the last applied is stale; the same one is "same"; another with the same sequence is stale', () => {
    const p = signed({ seq: 100 });
    const last = { seq: 100, mac: p.mac };
    expect(verifyTable(KEY, '/director', encodeSignedTable(p), last)).toMatchObject({ ok: true, same: true });
    expect(verifyTable(KEY, '/director', encodeSignedTable(signed({ seq: 99 })), last))
      .toMatchObject({ ok: false, reason: 'stale: the shared table\'s sequence 99 (from lvs2) is older than the last applied 100' });
    expect(verifyTable(KEY, '/director', encodeSignedTable(signed({ seq: 100, table: '' })), last)).toMatchObject({ ok: false, reason: expect.stringMatching(/^stale: another table/) });
    expect(verifyTable(KEY, '/director', encodeSignedTable(signed({ seq: 101 })), last)).toMatchObject({ ok: true, same: false });
  });

  it('the next sequence is above the current and the last, and at least the clock', () => {
    expect(nextSeq(null, null, 5000)).toBe(5000);
    expect(nextSeq(9000, null, 5000)).toBe(9001);
    expect(nextSeq(10, { seq: 9500, mac: '' }, 5000)).toBe(9501);
  });
});
