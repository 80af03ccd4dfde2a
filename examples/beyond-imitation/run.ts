/**
 * Beyond imitation, end to end: create a tiny model, SFT it on a careless teacher's
 * demonstrations, GRPO-train it on the environment's reward, then score teacher, SFT model and
 * GRPO model on the held-out test split (never seen in training, never used to pick settings).
 *
 *   npx tsx examples/beyond-imitation/run.ts [--key=value ...]
 *
 * Any training-config key can be overridden (`--seed=1 --runName=beyond-imitation-seed1`,
 * `--sftSteps=0` for the no-warm-start ablation). Writes `<run>/test-results.json` and the charts
 * `<run>/curves.svg|png`, and prints a table.
 *
 * `--split=validation` scores the validation split instead (written to `<run>/validation-results.json`,
 * no charts): that is how settings are compared. With `--steps=0` only the SFT model is scored.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Rng, type Environment } from '../../src/core/index.js';
import { EngineClient } from '../../src/engine/index.js';
import { OpenAISampler } from '../../src/samplers/index.js';
import { evaluatePolicy, lastCheckpoint, loadTrainConfig, runTrainJob, type EvalReport, type TrainConfig } from '../../src/train/index.js';
import { parseRunArgs, resumeSameConfig, runMain } from '../flagship-run.js';
import { renderCurves } from './render-curves.js';
import { answerKind, ColumnAdditionArgs, loadEnvironment } from './env.js';

const here = new URL('.', import.meta.url).pathname;

/** Accuracy of the scripted teacher on `examples`, each demonstrated once with a seeded rng. */
export async function teacherAccuracy(options: { env: Environment; seed: number }): Promise<number> {
  const { env } = options;
  const rng = new Rng(options.seed).fork('teacher');
  let right = 0;
  const examples = env.evalDataset ?? [];
  for (const example of examples) {
    const completion = env.demonstrate!(example, rng);
    const scores = await env.rubric.score({ prompt: example.prompt, completion, answer: example.answer, info: example.info, task: example.task, state: {}, turns: [], stopReason: 'terminated', parser: env.parser });
    right += scores.reward;
  }
  return right / examples.length;
}

interface ModelScores {
  greedy: number;
  sampled: number;
  /**
   * Greedy accuracy on "slip tasks", where the teacher's slip changes the answer (for the default
   * `units-carry` slip: a carry out of the units column), and on the rest. (The names are from the
   * earlier `every-carry` teacher, whose slip tasks were every task with a carry.)
   */
  greedyWithCarry: number;
  greedyNoCarry: number;
  /**
   * Sampled (T = 1) answers on slip tasks: the share that is the exact total, the teacher's
   * careless total, or neither. The teacher writes `1 - carelessRate` correct, the rest careless.
   */
  sampledCarryKinds: Record<'correct' | 'careless' | 'other', number>;
}

export async function scoreModel(options: { model: string; env: Environment; config: TrainConfig; label: string }): Promise<ModelScores> {
  const { env, config } = options;
  const engine = await EngineClient.spawn({ model: options.model, threads: config.threads, device: config.device, seed: config.seed, reference: 'none', restart: false, startupTimeoutMs: 180_000 });
  try {
    const sampler = new OpenAISampler({ model: 'keiko', baseUrl: engine.openaiBaseUrl, seed: config.seed });
    const examples = env.evalDataset ?? [];
    const common = { env, sampler, examples, maxTokens: config.maxTokens, maxTurns: 1, concurrency: config.concurrency, seed: config.seed + 7 };
    const greedy = await evaluatePolicy({ ...common, label: `${options.label}-greedy`, temperature: 0 });
    const sampled = await evaluatePolicy({ ...common, label: `${options.label}-sampled`, temperature: 1, groupSize: 4 });
    const bySlip = (report: EvalReport, slips: boolean) => {
      const ids = new Set(examples.filter((e) => e.info['slips'] === slips).map((e) => e.id));
      const rs = report.results.filter((r) => ids.has(r.exampleId));
      return rs.reduce((a, r) => a + r.reward, 0) / Math.max(1, rs.length);
    };
    const { digits, slip } = ColumnAdditionArgs.parse(config.envArgs);
    const byId = new Map(examples.map((e) => [e.id, e]));
    const kinds = { correct: 0, careless: 0, other: 0 };
    let slipSamples = 0;
    for (const r of sampled.results) {
      const info = byId.get(r.exampleId)?.info as { a: number; b: number; slips: boolean } | undefined;
      if (!info?.slips) continue;
      slipSamples++;
      kinds[answerKind(r.completion.filter((m) => m.role === 'assistant').at(-1)?.content ?? '', info.a, info.b, digits, slip)]++;
    }
    const share = (n: number) => n / Math.max(1, slipSamples);
    const sampledCarryKinds = { correct: share(kinds.correct), careless: share(kinds.careless), other: share(kinds.other) };
    return { greedy: greedy.reward, sampled: sampled.reward, greedyWithCarry: bySlip(greedy, true), greedyNoCarry: bySlip(greedy, false), sampledCarryKinds };
  } finally {
    await engine.stop();
  }
}

async function main(): Promise<void> {
  const { split, overrides } = parseRunArgs(process.argv.slice(2));
  const config = loadTrainConfig({ file: join(here, 'config.toml'), overrides });
  const runDir = resolve(config.outDir, config.runName || `beyond-imitation-seed${config.seed}`);
  const env = loadEnvironment({ ...config.envArgs, evalSplit: 'validation' });
  const testEnv = loadEnvironment({ ...config.envArgs, evalSplit: split });
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  process.stdout.write(`beyond imitation → ${runDir}\nmachine: ${machine}\n`);

  const t0 = performance.now();
  const job = await runTrainJob({
    config,
    env,
    runDir,
    resume: resumeSameConfig(runDir, config),
    onEvent: (e) => {
      if (e.kind === 'phase') process.stdout.write(`==> ${e.message}\n`);
      else if (e.kind === 'sft-step' && e.step % 50 === 0) process.stdout.write(`sft ${e.step}/${e.steps} loss ${Number(e.metrics['loss']).toFixed(3)} (${e.metrics.time.toFixed(0)}s)\n`);
      else if (e.kind === 'step' && e.step % 5 === 0) process.stdout.write(`grpo ${e.step}/${e.steps} reward ${e.metrics.reward?.toFixed(3)} (${e.metrics.time.toFixed(0)}s)\n`);
      else if (e.kind === 'eval') process.stdout.write(`validation ${e.label}: ${e.report.reward.toFixed(3)}\n`);
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;

  process.stdout.write(`==> scoring teacher, SFT model and GRPO model on the held-out ${split} split\n`);
  const teacher = await teacherAccuracy({ env: testEnv, seed: config.seed });
  const sftDir = (config.sftSteps ?? 0) > 0 ? lastCheckpoint(join(runDir, 'sft', 'checkpoints'))?.dir : undefined;
  const grpoDir = config.steps > 0 ? lastCheckpoint(join(runDir, 'checkpoints'))?.dir : undefined;
  if (config.steps > 0 && !grpoDir) throw new Error(`no GRPO checkpoint in ${runDir}/checkpoints`);
  // The starting policy: the SFT checkpoint, else the model given with `--model`, else the created one.
  const startLabel = sftDir ? 'sft' : config.model ? 'given' : 'init';
  const start = sftDir ?? (config.model ? resolve(config.model) : join(runDir, 'model-init'));
  const sft = await scoreModel({ model: start, env: testEnv, config, label: startLabel });
  const grpo = grpoDir ? await scoreModel({ model: grpoDir, env: testEnv, config, label: 'grpo' }) : null;
  const totalSeconds = (performance.now() - t0) / 1000;

  const results = {
    schemaVersion: 1,
    runDir,
    seed: config.seed,
    machine,
    testTasks: testEnv.evalDataset?.length ?? 0,
    teacher,
    start: { model: startLabel, ...sft },
    grpo,
    trainSeconds,
    totalSeconds,
    sftSeconds: job.sft?.seconds ?? null,
    config,
  };
  const resultsFile = join(runDir, `${split}-results.json`);
  writeFileSync(resultsFile, JSON.stringify({ ...results, split }, null, 2) + '\n');
  if (split === 'test' && grpo) await renderCurves({ runDir, title: `beyond imitation · seed ${config.seed}`, teacher, test: { start: sft.greedy, end: grpo.greedy } });

  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const kinds = (s: ModelScores) => [s.sampledCarryKinds.correct, s.sampledCarryKinds.careless, s.sampledCarryKinds.other].map(pct).join(' / ');
  const rows: string[][] = [
    [`held-out ${split} accuracy`, 'greedy', 'sampled T=1', 'greedy, slip tasks', 'T=1 on slip tasks: correct / careless / other'],
    ['teacher (scripted)', '', pct(teacher), '', ''],
    [{ sft: 'SFT on teacher', given: 'given model', init: 'untrained model' }[startLabel], pct(sft.greedy), pct(sft.sampled), pct(sft.greedyWithCarry), kinds(sft)],
  ];
  if (grpo) rows.push([sftDir || config.model ? 'SFT + GRPO' : 'GRPO only', pct(grpo.greedy), pct(grpo.sampled), pct(grpo.greedyWithCarry), kinds(grpo)]);
  for (const r of rows) process.stdout.write(`${r[0]!.padEnd(24)} ${r[1]!.padStart(8)} ${r[2]!.padStart(12)} ${r[3]!.padStart(20)}   ${r[4]}\n`);
  process.stdout.write(`training ${Math.round(trainSeconds)}s (SFT ${Math.round(job.sft?.seconds ?? 0)}s) · total with test scoring ${Math.round(totalSeconds)}s\nresults: ${resultsFile}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(here, 'run.ts')) {
  runMain('beyond-imitation', main);
}

