/**
 * Search agent, end to end: build the geography index (first time), synthesise QA split by answer
 * entity, create a tiny model, SFT it on scripted search demonstrations (lazy 40% of the time),
 * GRPO-train it in the multi-step SearchEnv, then score teacher, SFT model and GRPO model on the
 * held-out test questions with tool-use statistics.
 *
 *   npx tsx examples/search-agent/run.ts [--key=value ...] [--testCount=N] [--entityTokens=R] [--split=validation]
 *
 * Writes `<run>/test-results.json` and `<run>/curves.svg|png`, and prints a table. `--split=validation`
 * scores the validation split instead (`<run>/validation-results.json`): that is how settings are chosen.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Rng, type Environment, type Example, type RolloutResult } from '../../src/core/index.js';
import { scoreOne } from '../../src/rollout/index.js';
import { EngineClient } from '../../src/engine/index.js';
import { OpenAISampler } from '../../src/samplers/index.js';
import { builtinCorpus } from '../../src/search/index.js';
import { ScriptedSampler } from '../../src/testing/scripted-sampler.js';
import { environmentCorpus, evaluatePolicy, lastCheckpoint, loadTrainConfig, runTrainJob, type TrainConfig } from '../../src/train/index.js';
import { renderCurves } from '../beyond-imitation/render-curves.js';
import { parseRunArgs, resumeSameConfig, runMain } from '../flagship-run.js';
import { SearchAgentArgs, loadEnvironment } from './env.js';

const here = new URL('.', import.meta.url).pathname;

/** What scoring needs of an episode. */
type Scored = Pick<RolloutResult, 'exampleId' | 'reward' | 'metrics'>;

/** Mean of a metric over results, optionally only those of `hops`-hop questions. */
function meanOf(results: readonly Scored[], metric: string, examples: readonly Example[], hops?: number): number {
  const ids = hops === undefined ? undefined : new Set(examples.filter((e) => e.info['hops'] === hops).map((e) => e.id));
  const rs = ids ? results.filter((r) => ids.has(r.exampleId)) : results;
  return rs.reduce((a, r) => a + (metric === 'reward' ? r.reward : (r.metrics[metric] ?? 0)), 0) / Math.max(1, rs.length);
}

interface PolicyScores {
  exactMatch: number;
  exactMatchTwoHop: number;
  f1: number;
  searchesPerQuestion: number;
  pagesOpenedPerQuestion: number;
  answered: number;
  actionErrors: number;
}

function summarise(results: readonly Scored[], examples: readonly Example[]): PolicyScores {
  return {
    exactMatch: meanOf(results, 'reward', examples),
    exactMatchTwoHop: meanOf(results, 'reward', examples, 2),
    f1: meanOf(results, 'f1', examples),
    searchesPerQuestion: meanOf(results, 'searches', examples),
    pagesOpenedPerQuestion: meanOf(results, 'pages_opened', examples),
    answered: meanOf(results, 'answered', examples),
    actionErrors: meanOf(results, 'action_errors', examples),
  };
}

/**
 * The scripted teacher on the held-out questions: each of its transcripts (lazy or diligent, drawn as
 * in SFT) is replayed as a policy through the environment, so its answers, citations and tool use are
 * scored exactly as the model's are.
 */
async function teacherScores(env: Environment, seed: number): Promise<PolicyScores> {
  const rng = new Rng(seed).fork('teacher');
  const examples = env.evalDataset ?? [];
  const results: Scored[] = [];
  for (const example of examples) {
    const script = env.demonstrate!(example, rng).flatMap((m) => (m.role === 'assistant' ? [m.content ?? ''] : []));
    const out = await env.rollout(example, { sampler: new ScriptedSampler({ script }), sampling: {}, rng: rng.fork(String(example.id)) });
    const s = await scoreOne(env, example, out);
    results.push({ exampleId: example.id, reward: s.reward, metrics: s.metrics });
  }
  return summarise(results, examples);
}

async function scorePolicy(options: { model: string; env: Environment; config: TrainConfig; label: string; runDir: string }): Promise<PolicyScores> {
  const { env, config } = options;
  const engine = await EngineClient.spawn({ model: options.model, threads: config.threads, device: config.device, seed: config.seed, reference: 'none', restart: false, startupTimeoutMs: 180_000 });
  try {
    const sampler = new OpenAISampler({ model: 'keiko', baseUrl: engine.openaiBaseUrl, seed: config.seed });
    const examples = env.evalDataset ?? [];
    const report = await evaluatePolicy({ env, sampler, examples, label: options.label, temperature: 0, maxTokens: config.maxTokens, maxTurns: config.maxTurns, concurrency: config.concurrency, seed: config.seed + 7 });
    mkdirSync(join(options.runDir, 'test'), { recursive: true });
    writeFileSync(join(options.runDir, 'test', `${options.label}.jsonl`), report.results.map((r) => JSON.stringify(r) + '\n').join(''));
    return summarise(report.results, examples);
  } finally {
    await engine.stop();
  }
}

/**
 * Tokenizer-training lines that make country and capital names whole tokens (one per word): every
 * country and capital named by the corpus pages, in the contexts the episodes show them ("capital of
 * X", ", X" in a result title, "<answer>X</answer>"), `repeats` times so that their merges outrank
 * ordinary text. These are names from the web the agent searches (held-out answers among them, as
 * capital names), never questions. The point: copying a name off a results page is a one-token copy.
 */
export function entityNameLines(options: { minPopulation: number; repeats: number }): string {
  const countries = new Set<string>();
  const capitals = new Set<string>();
  for (const doc of builtinCorpus({ sources: ['geo'], minPopulation: options.minPopulation })) {
    if (doc.facts?.['type'] !== 'country') continue;
    countries.add(String(doc.facts['name']));
    if (doc.facts['capital']) capitals.add(String(doc.facts['capital']));
  }
  const once = [...[...countries].map((c) => `capital of ${c}, ${c}`), ...[...capitals].map((k) => `<answer>${k}</answer> †${k}, of ${k}`)];
  return Array.from({ length: options.repeats }, () => once.join('\n')).join('\n') + '\n';
}

async function main(): Promise<void> {
  // `--testCount=N` scores only N test questions (smoke runs); `--entityTokens=R` adds the corpus's
  // country and capital names R times to the tokenizer's training text (0 = off); `--context=N` sets
  // the created model's positions; every other flag is a config key.
  const { split, overrides: argv } = parseRunArgs(process.argv.slice(2));
  const own = (name: string) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? 0);
  const testCount = own('testCount');
  const entityTokens = own('entityTokens');
  // `--context=N`: the created model's positions (default 512; following links needs ~600 for three opened pages).
  const context = own('context') || 512;
  const config = loadTrainConfig({ file: join(here, 'config.toml'), overrides: argv.filter((a) => !/^--(testCount|entityTokens|context)=/.test(a)) });
  const runDir = resolve(config.outDir, config.runName || `search-agent-seed${config.seed}`);
  mkdirSync(runDir, { recursive: true });
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  process.stdout.write(`search agent → ${runDir}\nmachine: ${machine}\n`);
  const t0 = performance.now();
  const env = await loadEnvironment({ ...config.envArgs, evalSplit: 'validation' });
  const testEnv = await loadEnvironment({ ...config.envArgs, evalSplit: split, evalCount: testCount });
  const testTrain = new Set(testEnv.evalDataset?.map((e) => String(e.info['answerEntity'])));
  const leaked = env.dataset.filter((e) => testTrain.has(String(e.info['answerEntity']))).length;
  if (leaked > 0) throw new Error(`${leaked} training questions share an answer entity with the test split`);
  process.stdout.write(`questions: ${env.dataset.length} train · ${env.evalDataset?.length ?? 0} validation · ${testEnv.evalDataset?.length ?? 0} scored at the end (${split}; split by answer entity)\n`);

  // The created model needs more positions than `keiko train`'s default (two results pages).
  let trainConfig = config;
  if (!config.model) {
    const modelDir = join(runDir, 'model-init');
    if (!existsSync(join(modelDir, 'config.json'))) {
      process.stdout.write(`==> creating a tiny model (${config.createLayers} layers, hidden ${config.createHidden}, vocab ${config.createVocab}, ${context} positions)\n`);
      const corpus = join(runDir, 'tokenizer-corpus.txt');
      const names = entityTokens > 0 ? entityNameLines({ minPopulation: SearchAgentArgs.parse(config.envArgs).minPopulation, repeats: entityTokens }) : '';
      writeFileSync(corpus, environmentCorpus({ env, examples: config.createCorpusExamples, seed: config.seed }) + names);
      await EngineClient.createModel({ out: modelDir, corpus: [corpus], vocabSize: config.createVocab, hidden: config.createHidden, layers: config.createLayers, heads: config.createHeads, maxContext: context, seed: config.seed });
    }
    trainConfig = { ...config, model: modelDir };
  }

  const job = await runTrainJob({
    config: trainConfig,
    env,
    runDir,
    resume: resumeSameConfig(runDir, trainConfig),
    onEvent: (e) => {
      if (e.kind === 'phase') process.stdout.write(`==> ${e.message}\n`);
      else if (e.kind === 'sft-step' && e.step % 25 === 0) process.stdout.write(`sft ${e.step}/${e.steps} loss ${Number(e.metrics['loss']).toFixed(3)} (${e.metrics.time.toFixed(0)}s)\n`);
      else if (e.kind === 'step') process.stdout.write(`grpo ${e.step}/${e.steps} reward ${e.metrics.reward?.toFixed(3)} (${e.metrics.time.toFixed(0)}s)\n`);
      else if (e.kind === 'eval') process.stdout.write(`validation ${e.label}: exact match ${e.report.reward.toFixed(3)} · searches ${(e.report.metrics['searches'] ?? 0).toFixed(2)}\n`);
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;

  process.stdout.write(`==> scoring teacher, SFT model and GRPO model on the held-out ${split} questions\n`);
  const teacher = await teacherScores(testEnv, config.seed);
  const sftDir = (config.sftSteps ?? 0) > 0 ? lastCheckpoint(join(runDir, 'sft', 'checkpoints'))?.dir : undefined;
  const grpoDir = lastCheckpoint(join(runDir, 'checkpoints'))?.dir;
  if (!grpoDir) throw new Error(`no GRPO checkpoint in ${runDir}/checkpoints`);
  const start = await scorePolicy({ model: sftDir ?? trainConfig.model, env: testEnv, config, label: sftDir ? 'sft' : 'init', runDir });
  const grpo = await scorePolicy({ model: grpoDir, env: testEnv, config, label: 'grpo', runDir });
  const totalSeconds = (performance.now() - t0) / 1000;
  const results = { schemaVersion: 1, runDir, split, seed: config.seed, machine, loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(1))), testQuestions: testEnv.evalDataset?.length ?? 0, teacher, start: { model: sftDir ? 'sft' : 'init', ...start }, grpo, trainSeconds, totalSeconds, sftSeconds: job.sft?.seconds ?? null, config };
  writeFileSync(join(runDir, `${split}-results.json`), JSON.stringify(results, null, 2) + '\n');
  await renderCurves({ runDir, title: `search agent · seed ${config.seed}`, teacher: teacher.exactMatch });

  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rows = [
    [`held-out ${split}`, 'exact match', 'EM 2-hop', 'searches/q', 'pages/q'],
    ['teacher (scripted)', pct(teacher.exactMatch), pct(teacher.exactMatchTwoHop), teacher.searchesPerQuestion.toFixed(2), teacher.pagesOpenedPerQuestion.toFixed(2)],
    [sftDir ? 'SFT on teacher' : 'untrained model', pct(start.exactMatch), pct(start.exactMatchTwoHop), start.searchesPerQuestion.toFixed(2), start.pagesOpenedPerQuestion.toFixed(2)],
    ['SFT + GRPO', pct(grpo.exactMatch), pct(grpo.exactMatchTwoHop), grpo.searchesPerQuestion.toFixed(2), grpo.pagesOpenedPerQuestion.toFixed(2)],
  ];
  for (const r of rows) process.stdout.write(`${r[0]!.padEnd(20)} ${r.slice(1).map((c) => c.padStart(12)).join(' ')}\n`);
  process.stdout.write(`training ${Math.round(trainSeconds)}s · total with test scoring ${Math.round(totalSeconds)}s\nresults: ${join(runDir, `${split}-results.json`)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(here, 'run.ts')) {
  runMain('search-agent', main);
}
