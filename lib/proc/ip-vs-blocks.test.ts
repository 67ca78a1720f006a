import { describe, expect, it } from 'vitest';
import { parseProcIpvs } from './ip-vs';
import { reparseProcIpvs as reparseBytes, type ProcIpvsParse } from './ip-vs-blocks';

const reparseProcIpvs = (text: string, prev: ProcIpvsParse | null) => reparseBytes(new TextEncoder().encode(text), prev);
import { LAB_PROC_IP_VS as LAB } from './lab-capture';

const HEAD = LAB.split('\n').slice(0, 3).join('\n') + '\n';
/** the lab capture's service blocks: a service line and its real servers' lines */
const BLOCKS = LAB.slice(HEAD.length).split(/(?=^\S)/m);

describe('reparseProcIpvs', () => {
  it('gives what a whole-file parse gives, across edits, reusing the objects of unchanged blocks', () => {
    expect(BLOCKS).toHaveLength(6);
    let text = LAB;
    const first = reparseProcIpvs(text, null);
    expect(first.proc).toEqual(parseProcIpvs(text, 1));
    expect(first.proc.services.map((s) => s.key.family)).toEqual(['inet', 'inet6', 'inet', 'inet', 'inet', 'inet6']);

    // counts moved in one block, two blocks swapped places
    text = HEAD + [BLOCKS[0], BLOCKS[3]!.replace('3      0          0', '3      5          7'), BLOCKS[2], BLOCKS[1], BLOCKS[4], BLOCKS[5]].join('');
    const second = reparseProcIpvs(text, first);
    expect(second.proc).toEqual(parseProcIpvs(text, 1));
    expect(second.proc.services[0]).toBe(first.proc.services[0]);
    expect(second.proc.services[2]).toBe(first.proc.services[2]);
    expect(second.proc.services[3]).toBe(first.proc.services[1]);
    expect(second.proc.services[1]).not.toBe(first.proc.services[3]);
    expect(second.proc.services[1]!.destinations[0]).toMatchObject({ activeConns: 5, inactiveConns: 7 });

    // the same text: the same objects
    expect(reparseProcIpvs(text, second).proc.services.every((x, i) => x === second.proc.services[i])).toBe(true);
    // only blocks of the latest parse are kept: a block seen two parses ago is parsed afresh
    const third = reparseProcIpvs(LAB, second);
    expect(third.proc).toEqual(first.proc);
    expect(third.proc.services[3]).not.toBe(first.proc.services[3]);
    expect(third.parsed).toHaveLength(6);

    expect(reparseProcIpvs(HEAD, third).proc.services).toEqual([]);
  });

  it('hands out frozen objects: a caller cannot change what the next read reuses', () => {
    const { proc } = reparseProcIpvs(LAB, null);
    const s = proc.services[3]!;
    expect(() => { (s as { scheduler: string }).scheduler = 'wlc'; }).toThrow(TypeError);
    expect(() => { (s.destinations[0] as { weight: number }).weight = 9; }).toThrow(TypeError);
    expect(() => s.destinations.push(s.destinations[0]!)).toThrow(TypeError);
    expect(() => (proc.services as unknown[]).pop()).toThrow(TypeError);
  });

  it('names the line of a malformed block in the whole file', () => {
    const text = `${HEAD}${BLOCKS[3]}TCP  0A010101:0051 rr\n  -> nonsense Masq 1 0 0\n`;
    expect(() => reparseProcIpvs(text, null)).toThrow("/proc/net/ip_vs line 7: bad destination address: '  -> nonsense Masq 1 0 0'");
    // also when the blocks before it come from the previous parse
    const prev = reparseProcIpvs(LAB, null);
    expect(() => reparseProcIpvs(`${LAB}UDP  0A010101:0051 rr\n  -> 0A020203:0035 Warp 1 0 0\n`, prev))
      .toThrow("/proc/net/ip_vs line 16: unknown forwarding method 'Warp'");
  });
});
