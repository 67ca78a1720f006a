/**
 * The live sampler's knobs (server/live/sampler.ts), described once: `director agent --help`,
 * the README's table of what the agent reads and the configuration schema are made from this
 * table, and sampler-knobs.test.ts checks that they agree.
 */

export interface Knob {
  readonly default: number;
  readonly help: string;
  /** the `director agent` flag (and agent.toml key) that sets it, and its bounds; none: fixed */
  readonly flag?: { readonly name: string; readonly min: number; readonly max: number };
}

export const SAMPLER_KNOBS = {
  tickMs: {
    default: 1000, flag: { name: '--tick-ms', min: 100, max: 60_000 },
    help: 'sampling period for live stats and change events, in ms',
  },
  destBudget: {
    default: 4, flag: { name: '--dest-budget', min: 1, max: 100_000 },
    help: "services a tick whose real servers' settings and counters are re-read (one GET_DEST dump each) "
      + 'because they changed or their counters moved, changed ones first, then those read longest ago',
  },
  rotation: {
    default: 2,
    help: 'services a tick whose real servers are re-read in turn, oldest first, for what only GET_DEST shows '
      + '(thresholds, tunnel settings, persistent connection counts)',
  },
  serviceDumpMs: {
    default: 60_000,
    help: 'ms between two service dumps at most: scheduler flags, the persistence engine and a ZERO of one '
      + 'service by another tool, which neither the file nor the totals show, show by then',
  },
} as const satisfies Record<string, Knob>;

const ROTATION = SAMPLER_KNOBS.rotation.default;

/** A flag's value (the default when not given); an error names the flag and its bounds. */
export function parseKnob(k: Knob & { flag: NonNullable<Knob['flag']> }, text: string | undefined): number {
  if (text === undefined) return k.default;
  const v = Number(text);
  if (!Number.isInteger(v) || v < k.flag.min || v > k.flag.max) {
    throw new RangeError(`${k.flag.name} must be an integer from ${k.flag.min} to ${k.flag.max}, got '${text}'`);
  }
  return v;
}

/** `--help` lines for the knobs that have a flag, wrapped after `width` columns past the flag's column. */
export function knobsHelp(indent = 20, width = 80): string {
  const out: string[] = [];
  for (const k of Object.values(SAMPLER_KNOBS) as Knob[]) {
    if (!k.flag) continue;
    const text = k === SAMPLER_KNOBS.destBudget
      ? `${k.help}; besides these, services a console is showing every tick and ${ROTATION} more in turn, so a tick's cost does not grow with the table (default ${k.default})`
      : `${k.help} (default ${k.default})`;
    const lines = wrap(text, width);
    out.push(`  ${k.flag.name.padEnd(indent - 2)}${lines[0]}`, ...lines.slice(1).map((l) => `${' '.repeat(indent)}${l}`));
  }
  return `${out.join('\n')}\n`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(' ')) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines;
}

/** The README's table of what the agent reads and when (between the sampler-knobs markers). */
export function knobsReadme(): string {
  const k = SAMPLER_KNOBS;
  const rows: [string, string][] = [
    ['namespace totals (`/proc/net/ip_vs_stats`)', `every tick (\`--tick-ms\`, default ${k.tickMs.default} ms)`],
    ['`/proc/net/ip_vs` (services, real servers, weights, connection counts)', 'every tick'],
    ['service dump (GET_SERVICE: every service\'s settings and counters)',
      `when the totals moved since the last one, the file shows a service or real server added, removed or changed, or after a write; else every ${k.serviceDumpMs.default / 1000} s: ${k.serviceDumpMs.help.replace(/^.*?: /, '')}`],
    ['real servers (GET_DEST) of services a console is showing', 'every tick'],
    ['real servers of services that changed (new, written, or different in the file) or whose counters moved',
      `up to \`--dest-budget\` (default ${k.destBudget.default}) services a tick, changed ones first, then oldest first`],
    ['real servers of every other service (thresholds, tunnel settings, persistent connection counts)',
      `${ROTATION} services a tick in turn, oldest first: each within services / ${ROTATION} ticks (about ${Math.round(1000 / ROTATION / 60)} minutes at 1,000 services)`],
  ];
  return ['| what | when |', '|---|---|', ...rows.map(([a, b]) => `| ${a} | ${b} |`)].join('\n') + '\n';
}
