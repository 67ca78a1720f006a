/** One row of the bench table; its own module, so that the sections and the suite that runs them share it without a cycle. */
export interface Row {
  measure: string;
  director: number | null;
  anchor: number | null;
  anchorName: string;
  unit: string;
  /** Director/anchor must be at most this (ratio goals), or Director at most this (absolute goals) */
  goal: { kind: 'ratio' | 'max'; value: number; text: string } | null;
  samples?: { director: number[]; anchor: number[] };
  note?: string;
  /** the suite section that measured it (startup, table, conn, agent) */
  section?: string;
}
