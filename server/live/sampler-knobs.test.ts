/** The sampler's knobs are described once (lib/agent/sampler-knobs.ts): --help, the README, agent.toml and the config schema agree with it. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLER_KNOBS, knobsHelp, knobsReadme, type Knob } from '@/lib/agent/sampler-knobs';
import { agentConfigSchema } from '@/lib/schemas/agent-config';
import { director } from '../cli/testing';

const root = path.resolve(import.meta.dirname, '../..');
const flagged = (Object.entries(SAMPLER_KNOBS) as [string, Knob][]).filter((e): e is [string, Knob & { flag: NonNullable<Knob['flag']> }] => !!e[1].flag);

describe('the sampler\'s knobs, described once', () => {
  it('director agent --help prints them as the table says, defaults included', async () => {
    const r = await director('agent', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain(knobsHelp());
    expect(flagged.map(([, k]) => k.flag.name)).toEqual(['--tick-ms', '--dest-budget']);
    for (const [, k] of flagged) {
      const at = r.out.indexOf(`  ${k.flag.name} `);
      expect(at).toBeGreaterThan(0);
      expect(r.out.slice(at).split(/\n {2}--/)[0]).toContain(`(default ${k.default})`);
    }
    expect(knobsHelp()).toContain(`${SAMPLER_KNOBS.rotation.default} more in turn`);
  });

  it('the README\'s table of what the agent reads is the one the table makes', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const block = /<!-- sampler-knobs:[^\n]*-->\n([\s\S]*?)<!-- \/sampler-knobs -->/.exec(readme);
    expect(block, 'README.md lacks the sampler-knobs markers').not.toBeNull();
    expect(block![1], 'README.md: paste knobsReadme() from lib/agent/sampler-knobs.ts between the markers').toBe(knobsReadme());
    expect(knobsReadme()).toContain(`(default ${SAMPLER_KNOBS.destBudget.default}) services a tick`);
    expect(knobsReadme()).toContain(`${SAMPLER_KNOBS.rotation.default} services a tick in turn`);
    expect(knobsReadme()).toContain(`every ${SAMPLER_KNOBS.serviceDumpMs.default / 1000} s`);
  });

  it('agent.toml and the configuration schema use the same defaults and bounds', async () => {
    const toml = readFileSync(path.join(root, 'deploy/agent.toml'), 'utf8');
    for (const [key, k] of flagged) {
      const m = new RegExp(`^# (.*)\\n# ${key} = (\\d+)$`, 'm').exec(toml);
      expect(m, `deploy/agent.toml: # ${key}`).not.toBeNull();
      expect(Number(m![2])).toBe(k.default);
      expect(m![1]).toContain(`(${k.flag.min}-${k.flag.max}`);
      expect(agentConfigSchema.safeParse({ [key]: k.flag.min }).success).toBe(true);
      expect(agentConfigSchema.safeParse({ [key]: k.flag.max }).success).toBe(true);
      expect(agentConfigSchema.safeParse({ [key]: k.flag.min - 1 }).success).toBe(false);
      expect(agentConfigSchema.safeParse({ [key]: k.flag.max + 1 }).success).toBe(false);
      const bad = await director('agent', k.flag.name, String(k.flag.max + 1));
      expect(bad.code).toBe(2);
      expect(bad.err).toContain(`${k.flag.name} must be an integer from ${k.flag.min} to ${k.flag.max}`);
    }
  });
});
