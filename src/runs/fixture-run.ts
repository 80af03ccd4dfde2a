import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonlAppender } from '../core/json-files.js';
import type { ChatMessage } from '../core/messages.js';
import type { RolloutResult } from '../core/rollout-result.js';
import { Rng } from '../core/rng.js';
import { RUN_FILES, type RunManifest, type RunStatus, type StepMetrics } from '../core/run-manifest.js';
import type { Turn } from '../core/trajectory.js';
import { runLayout } from './run-layout.js';
import { RunWriter } from './run-writer.js';

/** Options of `writeFixtureRun`. Every field has a default so tests can name only what they check. */
export interface FixtureRunOptions {
  runsDir: string;
  id: string;
  kind?: 'train' | 'eval';
  status?: RunStatus;
  /** Training steps (train runs). */
  steps?: number;
  /** Prompts per step (train) or examples (eval). */
  groups?: number;
  /** Samples per prompt. */
  groupSize?: number;
  /** Write rollouts every this many steps (train runs); 1 = every step. */
  rolloutEvery?: number;
  /** Run an eval every this many steps (train runs); 0 = never. */
  evalEvery?: number;
  seed?: number;
  env?: string;
  model?: string;
  startedAt?: string;
  /** Append a corrupt line and a torn (unterminated) last line to metrics and rollout files. */
  corrupt?: boolean;
}

const ROLLOUT_FUNCTIONS = ['correct_answer', 'format', 'tool_use'] as const;

/**
 * Writes a realistic run folder — run.json, config, metrics.jsonl, rollouts/step-N.jsonl with
 * multi-turn tool-calling rollouts, evals/ — from a seed, through `RunWriter` (the writer `keiko eval`
 * and the trainers use), so fixture and real runs share one layout. Used by the run store and
 * dashboard tests and by bench/dashboard. Returns the manifest it wrote.
 */
export async function writeFixtureRun(options: FixtureRunOptions): Promise<RunManifest> {
  const {
    runsDir,
    id,
    kind = 'train',
    status = 'completed',
    steps = 20,
    groups = 2,
    groupSize = 4,
    rolloutEvery = 1,
    evalEvery = kind === 'train' ? 10 : 0,
    seed = 0,
    env = 'tool-arithmetic',
    model = 'keiko/tiny-random',
    startedAt = '2026-11-20T10:00:00.000Z',
    corrupt = false,
  } = options;
  const rng = new Rng(seed);
  const now = new Date(startedAt);
  const config = { env, model, groupSize, steps, seed, lr: 1e-5, loss: 'grpo' };

  const summary: RunManifest['summary'] = {};
  let run: RunWriter;
  if (kind === 'eval') {
    // What `keiko eval` writes: results.jsonl streamed line by line (as `runRollouts` does), then metadata.json.
    run = await RunWriter.create({ runsDir, id, kind, env, model, config, now });
    const rollouts = makeGroups({ rng, groups, groupSize, skill: 0.55, idPrefix: 'ex' });
    const results = await JsonlAppender.open(run.path(RUN_FILES.results));
    for (const r of rollouts) results.write(r);
    await results.close();
    if (corrupt) await damage(run.path(RUN_FILES.results), CORRUPT_ROLLOUT_LINES);
    await run.writeJson(RUN_FILES.metadata, { env, model, examples: groups, rolloutsPerExample: groupSize });
    summary.rollouts = rollouts.length;
    summary.meanReward = mean(rollouts.map((r) => r.reward));
  } else {
    // What the GRPO trainer writes (src/train/trainer.ts), through the same writer.
    run = await RunWriter.start({ dir: join(runsDir, id), kind, env, model, config, now });
    let best = -Infinity;
    let last: number | undefined;
    let rolloutCount = 0;
    for (let step = 0; step < steps; step++) {
      const skill = 0.15 + 0.7 * (step / Math.max(1, steps - 1));
      const rollouts = makeGroups({ rng, groups, groupSize, skill, idPrefix: `s${step}-p` });
      assignAdvantages(rollouts, groupSize);
      if (step % rolloutEvery === 0) {
        await run.writeRollouts(step, rollouts);
        if (corrupt && step === 0) await damage(run.path(runLayout.stepRollouts(step)), CORRUPT_ROLLOUT_LINES);
        rolloutCount += rollouts.length;
      }
      const rewards = rollouts.map((r) => r.reward);
      const m = mean(rewards);
      best = Math.max(best, m);
      last = m;
      const advantages = rollouts.map((r) => r.advantage ?? 0);
      const lengths = rollouts.map((r) => r.usage.completionTokens);
      const stepSeconds = 10 + 5 * rng.next();
      // the same keys the GRPO trainer writes (src/train/step-metrics.ts)
      const row: StepMetrics = {
        schemaVersion: 1,
        step,
        time: step * 12.5 + rng.next(),
        reward: m,
        rewardStd: std(rewards),
        rollouts: rollouts.length,
        lr: 1e-5,
        loss: 0.1 * (rng.next() - 0.5),
        kl: 0.002 * step * (1 + 0.2 * rng.next()),
        clipFraction: 0.05 + 0.1 * rng.next(),
        entropy: 1.2 - 0.5 * (step / Math.max(1, steps)) + 0.05 * rng.next(),
        gradNorm: 0.5 + rng.next(),
        advantageMean: mean(advantages),
        advantageStd: std(advantages),
        completionLenMean: mean(lengths),
        completionLenMax: Math.max(...lengths),
        sampledTokensPerSecond: 800 + 200 * rng.next(),
        trainTokensPerSecond: 2000 + 400 * rng.next(),
        staleness: rng.int(0, 2),
        filteredGroups: rng.int(0, 1),
        erroredRollouts: rollouts.filter((r) => r.error !== undefined).length,
        stepSeconds,
      };
      for (const fn of ROLLOUT_FUNCTIONS) row[`reward/${fn}`] = mean(rollouts.map((r) => r.metrics[fn] ?? 0));
      if (evalEvery > 0 && step % evalEvery === 0) {
        const evalRollouts = makeGroups({ rng, groups: Math.max(2, groups), groupSize: 2, skill, idPrefix: 'eval' });
        const reward = mean(evalRollouts.map((r) => r.reward));
        const metrics = Object.fromEntries(ROLLOUT_FUNCTIONS.map((fn) => [fn, mean(evalRollouts.map((r) => r.metrics[fn] ?? 0))]));
        const errors = evalRollouts.filter((r) => r.stopReason === 'error').length;
        await run.writeEval(`step-${step}`, { step, policyVersion: step, examples: Math.max(2, groups), samplesPerExample: 2, temperature: 1, reward, metrics, errors, seconds: 5, results: evalRollouts });
        row.evalReward = reward;
      }
      await run.appendMetrics(row);
    }
    if (corrupt) await damage(run.path(RUN_FILES.metrics), '{"step": "not a number", "time": 1}\nnot json at all\n{"step": 999, "ti');
    summary.steps = steps;
    summary.rollouts = rolloutCount;
    if (last !== undefined) {
      summary.bestReward = best;
      summary.meanReward = last;
    }
  }

  await run.update({
    status,
    summary,
    checkpoints: kind === 'train' && steps > 0 ? [{ step: steps - 1, path: runLayout.checkpoint(steps - 1) }] : [],
    ...(status !== 'running' && { endedAt: new Date(Date.parse(startedAt) + 3_600_000).toISOString() }),
    ...(status === 'failed' && { error: 'engine died: out of memory' }),
  });
  return run.manifest;
}

/** A corrupt line and a torn (unterminated) last line, as a crash leaves them. */
const CORRUPT_ROLLOUT_LINES = '{"exampleId": 1, "reward": "oops"}\n{"exampleId": "torn", "sample": 0, "prom';

/** Appends raw text to a file the writer wrote: the damage a crash or a bad disk leaves. */
async function damage(path: string, text: string): Promise<void> {
  await appendFile(path, text);
}

/** Appends one metrics row to a run (to test live updates). */
export async function appendFixtureMetrics(options: { runsDir: string; id: string; row: StepMetrics }): Promise<void> {
  await appendFile(join(options.runsDir, options.id, RUN_FILES.metrics), JSON.stringify(options.row) + '\n');
}

function makeGroups(options: { rng: Rng; groups: number; groupSize: number; skill: number; idPrefix: string }): RolloutResult[] {
  const out: RolloutResult[] = [];
  for (let g = 0; g < options.groups; g++) {
    const a = options.rng.int(2, 99);
    const b = options.rng.int(2, 99);
    for (let s = 0; s < options.groupSize; s++) out.push(makeRollout({ rng: options.rng, a, b, exampleId: `${options.idPrefix}${g}`, sample: s, skill: options.skill }));
  }
  return out;
}

function makeRollout(options: { rng: Rng; a: number; b: number; exampleId: string; sample: number; skill: number }): RolloutResult {
  const { rng, a, b } = options;
  const truth = a * b;
  const prompt: ChatMessage[] = [
    { role: 'system', content: 'You are a careful assistant. Use the calculator tool, then answer inside <answer></answer>.' },
    { role: 'user', content: `What is ${a} * ${b}?` },
  ];
  const completion: ChatMessage[] = [];
  const turns: Turn[] = [];
  const usesTool = rng.next() < 0.3 + 0.6 * options.skill;
  const correct = rng.next() < options.skill;
  const errored = rng.next() < 0.03;
  const history: ChatMessage[] = [...prompt];
  const say = (message: Extract<ChatMessage, { role: 'assistant' }>, finishReason: Turn['finishReason']) => {
    turns.push({ prompt: [...history], completion: message, finishReason, policyVersion: 0 });
    completion.push(message);
    history.push(message);
  };
  if (usesTool) {
    const callId = `call_${options.exampleId}_${options.sample}`;
    say(
      {
        role: 'assistant',
        content: 'Let me compute this with the calculator.',
        tool_calls: [{ id: callId, type: 'function', function: { name: 'calculator', arguments: JSON.stringify({ expression: `${a} * ${b}` }) } }],
      },
      'tool_calls',
    );
    const tool: ChatMessage = { role: 'tool', tool_call_id: callId, name: 'calculator', content: String(truth) };
    completion.push(tool);
    history.push(tool);
  }
  const answer = correct ? truth : truth + rng.int(1, 20);
  const formatted = rng.next() < 0.8;
  if (!formatted) {
    say({ role: 'assistant', content: `The answer is ${answer}.` }, 'stop');
    const envMessage: ChatMessage = { role: 'user', content: 'Please put your final answer inside <answer></answer> tags.' };
    completion.push(envMessage);
    history.push(envMessage);
  }
  say({ role: 'assistant', content: `<think>${a} times ${b}.</think>\n<answer>${answer}</answer>` }, 'stop');
  const metrics = {
    correct_answer: correct && !errored ? 1 : 0,
    format: formatted ? 1 : 0.5,
    tool_use: usesTool ? 1 : 0,
  };
  const reward = errored ? 0 : metrics.correct_answer + 0.2 * metrics.format;
  const completionTokens = 20 + rng.int(0, 120);
  const result: RolloutResult = {
    schemaVersion: 1,
    exampleId: options.exampleId,
    sample: options.sample,
    task: 'arithmetic',
    prompt,
    completion,
    answer: String(truth),
    info: {},
    turns,
    stopReason: errored ? 'error' : 'terminated',
    reward,
    metrics,
    timing: { generationMs: 100 + rng.int(0, 900), scoringMs: rng.int(1, 20), totalMs: 200 + rng.int(0, 1000) },
    usage: { promptTokens: 40 + rng.int(0, 40), completionTokens },
  };
  if (errored) result.error = { name: 'SamplerError', code: 'sampler_error', message: 'request timed out after 30000 ms' };
  return result;
}

function assignAdvantages(rollouts: RolloutResult[], groupSize: number): void {
  for (let i = 0; i < rollouts.length; i += groupSize) {
    const group = rollouts.slice(i, i + groupSize);
    const m = mean(group.map((r) => r.reward));
    const s = std(group.map((r) => r.reward));
    for (const r of group) r.advantage = (r.reward - m) / (s + 1e-4);
  }
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

function std(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
}
