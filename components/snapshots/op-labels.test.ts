import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { opLabel } from './op-labels';

/** every journal operation name written in the agent's sources */
function recordedOps(): Set<string> {
  const ops = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) {
        const src = readFileSync(p, 'utf8');
        for (const m of src.matchAll(/(?:journaled\([a-zA-Z.]+, |op = |op: |_OP = |, actor, |HEALTH_ACTOR, )'([a-z]+\.[a-zA-Z.]+)'/g)) ops.add(m[1]!);
      }
    }
  };
  walk(path.resolve(__dirname, '../../server'));
  return ops;
}

describe('journal operation labels', () => {
  it('says in words what each recorded operation did', () => {
    expect(opLabel('destinations.update')).toBe('Edited a real server');
    expect(opLabel('health.down')).toBe('Health check: server down');
  });

  it('has words for every operation the agent records', () => {
    const ops = recordedOps();
    expect(ops.size).toBeGreaterThan(10);
    const missing = [...ops].filter((op) => opLabel(op) === op);
    expect(missing).toEqual([]);
  });

  it('shows an unknown operation as recorded', () => {
    expect(opLabel('future.thing')).toBe('future.thing');
  });
});
