import type { RunSummary } from './run-summary.js';

/** Formats runs as an aligned plain-text table (what `keiko runs` prints). */
export function formatRunsTable(options: { runs: readonly RunSummary[] }): string {
  const num = (x: number | undefined) => (x === undefined ? '-' : Number.isInteger(x) ? String(x) : x.toFixed(3));
  const header = ['RUN', 'KIND', 'STATUS', 'ENV', 'MODEL', 'STARTED', 'STEPS', 'ROLLOUTS', 'BEST', 'EVAL'];
  const rows = options.runs.map((r) => [r.id, r.kind, r.status, r.env, r.model, r.startedAt.replace('T', ' ').slice(0, 16), num(r.steps), num(r.rollouts), num(r.bestReward), num(r.evalReward)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = new Set([6, 7, 8, 9]);
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
