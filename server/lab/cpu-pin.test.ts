import { describe, expect, it } from 'vitest';
import { nextLabCpu, parseCpuList } from './cpu-pin';

describe('lab kernel CPU pinning', () => {
  it('reads the kernel\'s CPU list format', () => {
    expect(parseCpuList('0-3,6')).toEqual([0, 1, 2, 3, 6]);
    expect(parseCpuList('1')).toEqual([1]);
    expect(() => parseCpuList('0-x')).toThrow(/not a CPU list/);
  });

  it('takes the allowed CPUs in turn from the last; off, or no taskset: not pinned; a setting wins', () => {
    const got = [nextLabCpu({}, [0, 1], true), nextLabCpu({}, [0, 1], true), nextLabCpu({}, [0, 1], true)];
    // each call takes the next CPU, whatever the counter's start
    expect(new Set(got.slice(0, 2))).toEqual(new Set(['0', '1']));
    expect(got[2]).toBe(got[0]);
    expect(nextLabCpu({ DIRECTOR_LAB_CPU: 'off' }, [0, 1], true)).toBeNull();
    expect(nextLabCpu({}, [0, 1], false)).toBeNull();
    expect(nextLabCpu({ DIRECTOR_LAB_CPU: '3' }, [0, 1], true)).toBe('3');
    expect(nextLabCpu({}, [], true)).toBeNull();
  });
});
