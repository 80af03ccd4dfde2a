/**
 * Learning a game from zero human data, end to end: create a tiny model, warm-start it on the move
 * *format* only (uniformly random legal moves), then train two copies from that same start with the
 * same budget — one by self-play against its own league of frozen snapshots, one against a fixed
 * scripted opponent (uniform random play) — and score both on held-out test games against the
 * optimal player (Kuhn poker: also the exact exploitability of the sampled strategy).
 *
 *   npx tsx examples/self-play/run.ts --game=tic-tac-toe --seed=0 [--key=value ...]
 *
 * Reads `examples/self-play/<game>.toml`; any self-play setting can be overridden. Writes
 * `<outDir>/self-play-<game>-seed<seed>/results.json` (the two arms are run folders beside it:
 * `league/`, `scripted/`) and prints a table. Settings are compared on the validation games
 * (`evals/self-play-step-*.json`, in `metrics.jsonl`); the test games are played once, at the end.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../src/core/index.js';
import { loadSelfPlayConfig, prepareStartModel, runSelfPlayJob, type SelfPlayEval, type SelfPlayJobResult } from '../../src/train/index.js';
import { runMain } from '../flagship-run.js';

const here = new URL('.', import.meta.url).pathname;

/** Random play's exact exploitability in Kuhn poker (chips per hand): 11/24. */
export const KUHN_RANDOM_EXPLOITABILITY = 11 / 24;

/** Whether an arm met the target on its test games. */
export function targetMet(game: string, test: SelfPlayEval): { met: boolean; detail: string } {
  if (game === 'tic-tac-toe') {
    const losses = Object.values(test.vsOptimal).reduce((a, s) => a + s.losses, 0);
    const per = Object.entries(test.vsOptimal).map(([seat, s]) => `${seat}: ${s.wins}W ${s.draws}D ${s.losses}L (${s.illegal} illegal)`).join(', ');
    return { met: losses === 0, detail: `no losses over ${Object.values(test.vsOptimal)[0]!.games} games per side vs minimax — ${per}` };
  }
  if (game === 'kuhn-poker') {
    const e = test.kuhn!.exploitability;
    const cut = 1 - e / KUHN_RANDOM_EXPLOITABILITY;
    return { met: cut >= 0.8, detail: `exploitability ${e.toFixed(4)} (random ${KUHN_RANDOM_EXPLOITABILITY.toFixed(4)}): cut ${(100 * cut).toFixed(1)}% (target ≥ 80%), illegal samples ${(100 * test.kuhn!.illegalRate).toFixed(1)}%` };
  }
  return { met: false, detail: 'no target for this game' };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const gameArg = argv.find((a) => a.startsWith('--game='))?.slice('--game='.length) ?? 'tic-tac-toe';
  if (gameArg !== 'tic-tac-toe' && gameArg !== 'kuhn-poker') throw new ConfigError(`--game must be tic-tac-toe or kuhn-poker, not '${gameArg}'`);
  const config = loadSelfPlayConfig({ file: join(here, `${gameArg}.toml`), overrides: argv.filter((a) => !a.startsWith('--game=')) });
  const baseDir = resolve(config.outDir, config.runName || `self-play-${config.game}-seed${config.seed}`);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  process.stdout.write(`self-play ${config.game} seed ${config.seed} → ${baseDir}\nmachine: ${machine}\n`);
  const t0 = performance.now();
  const clock = () => `${Math.round((performance.now() - t0) / 1000)}s`;
  const start = await prepareStartModel({ config, dir: join(baseDir, 'start'), onEvent: (e) => process.stdout.write(`[${clock()}] ${e.message}\n`) });
  const arms: Record<string, SelfPlayJobResult> = {};
  for (const arm of ['league', 'scripted'] as const) {
    arms[arm] = await runSelfPlayJob({
      config: { ...config, model: start.model, formatSteps: 0, opponents: arm, outDir: baseDir, runName: arm },
      onEvent: (e) => {
        if (e.kind === 'phase') process.stdout.write(`[${clock()}] ${arm}: ${e.message}\n`);
        else if (e.kind === 'step' && e.step % 5 === 0) process.stdout.write(`[${clock()}] ${arm} step ${e.step}/${e.steps} reward ${e.metrics.reward?.toFixed(3)} illegal ${Number(e.metrics['illegalRate']).toFixed(3)} rating ${Number(e.metrics['rating']).toFixed(0)}\n`);
        else if (e.kind === 'eval') process.stdout.write(`[${clock()}] ${arm} ${e.eval.split} @${e.eval.step}: ${targetMet(config.game, e.eval).detail}\n`);
      },
    });
  }
  const summary = Object.fromEntries(
    Object.entries(arms).map(([arm, job]) => {
      const evals = job.result.evals;
      const test = evals.find((e) => e.split === 'test')!;
      const validation = evals.filter((e) => e.split === 'validation');
      return [arm, { runDir: job.runDir, seconds: job.seconds, start: validation[0], lastValidation: validation.at(-1), test, target: targetMet(config.game, test), rating: job.result.league.state.current.rating }];
    }),
  );
  const totalSeconds = (performance.now() - t0) / 1000;
  const results = { schemaVersion: 1, game: config.game, seed: config.seed, machine, formatSeconds: start.formatSeconds, totalSeconds, arms: summary, config };
  writeFileSync(join(baseDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  for (const [arm, s] of Object.entries(summary)) process.stdout.write(`${arm.padEnd(9)} ${s.target.met ? 'MET   ' : 'MISSED'} ${s.target.detail}\n`);
  process.stdout.write(`total ${Math.round(totalSeconds)}s · results: ${join(baseDir, 'results.json')}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(here, 'run.ts')) {
  runMain('self-play', main);
}
