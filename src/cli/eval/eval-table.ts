import type { RolloutSummary } from '../../rollout/index.js';

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '-');

/** The closing table of `keiko eval`: reward mean ± std over scored rollouts, each metric, pass@k, errors and error rate apart. */
export function formatEvalTable(options: {
  env: string;
  model: string;
  summary: RolloutSummary;
  groupSize: number;
  seconds: number;
  freshRollouts: number;
  resultsPath: string;
}): string {
  const { summary: s } = options;
  const rows: [string, string][] = [];
  rows.push(['reward', `${fmt(s.meanReward)} ± ${fmt(s.stdReward)}${s.errors ? ` (over ${s.scored} scored rollouts)` : ''}`]);
  for (const [name, m] of Object.entries(s.metrics)) rows.push([`  ${name}`, `${fmt(m.mean)} ± ${fmt(m.std)}`]);
  for (const [k, v] of Object.entries(s.passAtK)) rows.push([`pass@${k}`, fmt(v)]);
  const codes = Object.entries(s.errorCodes).map(([c, n]) => `${c}: ${n}`);
  rows.push(['errors', `${s.errors}${codes.length ? ` (${codes.join(', ')})` : ''}`]);
  rows.push(['error rate', `${(100 * s.errorRate).toFixed(1)}%`]);
  if (s.scoringErrors) rows.push(['scoring errors', String(s.scoringErrors)]);
  rows.push(['stop reasons', Object.entries(s.stopReasons).map(([r, n]) => `${r} ${n}`).join(', ') || '-']);
  rows.push(['completion tokens', `${fmt(s.meanCompletionTokens)} per rollout`]);
  const rate = options.seconds > 0 ? options.freshRollouts / options.seconds : 0;
  rows.push(['throughput', `${options.freshRollouts} rollouts in ${options.seconds.toFixed(1)} s (${rate.toFixed(1)}/s)`]);
  rows.push(['results', options.resultsPath]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const header = `${options.env} · ${options.model} · ${s.examples} examples × ${options.groupSize} = ${s.rollouts} rollouts`;
  return [header, '-'.repeat(Math.min(header.length, 80)), ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)].join('\n');
}
