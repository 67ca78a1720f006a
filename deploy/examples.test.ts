import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleFileSchema, parseConsoleFile } from '../console/config';
import { agentConfigSchema } from '../lib/schemas/agent-config';
import { parseAgentConfig } from '../server/cli/agent-config';

// The commented /etc/director/*.toml the package installs: valid as shipped (the agent's sets only
// checkRunner: the package ships the check runner's unit beside the agent's), and
// every key they show, uncommented, is a key the service knows with a valid example value.
const read = (f: string) => readFileSync(path.join(import.meta.dirname, f), 'utf8');
/** Uncomments `# key = value` and `# [table]` lines (not prose); the first of a repeated key wins. */
function uncommented(text: string): string {
  const seen = new Set<string>();
  let table = '';
  return text.split('\n').map((l) => {
    const m = /^# (\[\[?[a-z]+\]\]?|([a-zA-Z]+) = .*)$/.exec(l);
    if (!m) return l;
    if (m[1]!.startsWith('[')) { table = m[1]!; return m[1]!; }
    const k = `${table}.${m[2]}`;
    if (seen.has(k) || m[2] === 'socket') return l;
    seen.add(k);
    return m[1]!.replace(/\s+#.*$/, '');
  }).join('\n');
}

describe('the shipped configuration examples', () => {
  it('agent.toml: valid as shipped, and every example key is known and valid', () => {
    expect(parseAgentConfig('agent.toml', read('agent.toml'))).toEqual({ checkRunner: '/run/director-checks/checks.sock' });
    const all = parseAgentConfig('agent.toml', uncommented(read('agent.toml')));
    // socket is the alternative to listen: shown, not set together with it
    expect(Object.keys(all).sort()).toEqual(Object.keys(agentConfigSchema.shape).filter((k) => k !== 'socket').sort());
  });

  it('console.toml: valid as shipped, and every example key is known and valid', () => {
    expect(parseConsoleFile('console.toml', read('console.toml'))).toEqual({});
    const text = uncommented(read('console.toml')).replace(/"AA:BB:[^"]*"/, `"${Array(32).fill('AB').join(':')}"`);
    const all = parseConsoleFile('console.toml', text);
    expect(Object.keys(all).sort()).toEqual(Object.keys(consoleFileSchema.shape).sort());
  });
});
