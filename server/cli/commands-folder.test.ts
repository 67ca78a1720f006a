/**
 * Every module in server/cli/commands/ becomes a `director` command (main.ts reads the folder; the bundle
 * gets a loader for each): each must be one, so no test helper or shared code ships as a command.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = path.join(import.meta.dirname, 'commands');
const modules = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

describe('the commands folder', () => {
  it.each(modules)('%s exports a command as its default', (f) => {
    const text = readFileSync(path.join(dir, f), 'utf8');
    expect(/^export default /m.test(text), `${f} is not a command: move it out of server/cli/commands/`).toBe(true);
  });
});
