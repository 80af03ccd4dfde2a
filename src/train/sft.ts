import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Environment } from '../core/environment.js';
import { ConfigError } from '../core/errors.js';
import { ChatMessage, ToolSchema } from '../core/messages.js';
import { parseJsonl } from '../core/json-files.js';
import { Rng } from '../core/rng.js';
import type { StepMetrics } from '../core/run-manifest.js';
import type { ChatTokenizer } from '../engine/chat-tokenizer.js';
import { RunWriter } from '../runs/run-writer.js';
import { DataOrder } from './data-order.js';
import { learningRate, type Schedule } from './schedule.js';
import { buildSftSequence } from './sft-sequence.js';
import { writeModelCard } from './model-card.js';
import { checkpointDirName, lastCheckpoint, writeTrainerState } from './trainer-state.js';
import type { TrainingBackend } from '../engine/client.js';
import type { TrainSequence } from '../engine/wire.js';

/** One line of an SFT JSONL file: a conversation (and the tools it may call). */
export const SftRecord = z.object({ messages: z.array(ChatMessage).min(1), tools: z.array(ToolSchema).optional() });
export type SftRecord = z.infer<typeof SftRecord>;

/** Reads an SFT JSONL file; a bad line is a `ConfigError` naming the line and the problem. */
export function readSftJsonl(path: string): SftRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read SFT data '${path}': ${(error as Error).message}`, { cause: error });
  }
  const read = parseJsonl({ text, schema: SftRecord, label: path });
  const bad = read.bad[0];
  if (bad) throw new ConfigError(`${path}:${bad.line}: not a conversation ({"messages": [...]}): ${bad.error}`);
  const out = read.items;
  const lonely = out.findIndex((c) => !c.messages.some((m) => m.role === 'assistant'));
  if (lonely >= 0) throw new ConfigError(`${path}:${read.lines[lonely]}: conversation has no assistant message to learn from`);
  if (out.length === 0) throw new ConfigError(`SFT data '${path}' holds no conversations`);
  return out;
}

/** Where SFT conversations come from: a fixed list, or an environment's scripted solver. */
export type SftSource = { kind: 'records'; records: readonly SftRecord[] } | { kind: 'env'; env: Environment };

/** Builds the source for an environment's `demonstrate`, or explains how to get one. */
export function demonstrationSource(env: Environment): SftSource {
  if (!env.demonstrate) throw new ConfigError(`environment '${env.name}' has no demonstrate() (scripted solver); pass a JSONL file of conversations instead`);
  return { kind: 'env', env };
}

/** SFT settings (a subset of the training config, same names). */
export interface SftOptions {
  steps: number;
  batch: number;
  lr: number;
  schedule?: Schedule;
  warmupSteps?: number;
  weightDecay?: number;
  /** Max global grad norm; null disables clipping; unset: the engine's default. */
  maxGradNorm?: number | null;
  /** Sequences per engine forward/backward chunk (0 or unset = the engine's default). */
  microBatchSize?: number;
  seed: number;
}

/** Result of an SFT run. */
export interface SftResult {
  steps: number;
  finalLoss: number | null;
  checkpoint: string;
  seconds: number;
}

/**
 * Supervised fine-tuning: each step draws `batch` conversations (from the records, or as
 * `prompt + env.demonstrate(example)`), tokenizes them with the engine's own template (assistant
 * tokens trained, everything else masked), and runs one `forward_backward` (loss `sft`) +
 * `optim_step`. Writes `metrics.jsonl` and ends with a checkpoint in the same format as GRPO
 * (engine weights + keiko trainer state), under `<runDir>/checkpoints/`.
 */
export async function trainSft(options: {
  source: SftSource;
  training: TrainingBackend;
  tokenizer: ChatTokenizer;
  sft: SftOptions;
  runDir: string;
  modelName: string;
  config?: Record<string, unknown>;
  onStep?: (metrics: StepMetrics) => void;
}): Promise<SftResult> {
  const { source, training, tokenizer, sft } = options;
  const envName = source.kind === 'env' ? source.env.name : 'jsonl';
  const size = source.kind === 'env' ? source.env.dataset.length : source.records.length;
  if (size === 0) throw new ConfigError('SFT source is empty');
  const run = await RunWriter.start({ dir: options.runDir, kind: 'sft', env: envName, model: options.modelName, config: options.config ?? { ...sft } });
  const data = new DataOrder({ size, seed: sft.seed });
  const rng = new Rng(sft.seed);
  const t0 = performance.now();
  let finalLoss: number | null = null;
  let prefixBreaks = 0;
  for (let step = 1; step <= sft.steps; step++) {
    const tStep = performance.now();
    const conversations = data.take(sft.batch).map((i): SftRecord => {
      if (source.kind === 'records') return source.records[i]!;
      const example = source.env.dataset[i]!;
      const completion = source.env.demonstrate!(example, rng);
      return { messages: [...example.prompt, ...completion], ...(source.env.tools ? { tools: [...source.env.tools] } : {}) };
    });
    const built = await Promise.all(conversations.map((c) => buildSftSequence({ messages: c.messages, ...(c.tools ? { tools: c.tools } : {}), tokenizer })));
    const sequences: TrainSequence[] = [];
    for (const s of built) {
      if (!s) continue;
      if (s.prefixBreak) prefixBreaks++;
      sequences.push({ inputIds: s.inputIds, lossMask: s.lossMask });
    }
    const tTrain = performance.now();
    const lr = learningRate({ step, lr: sft.lr, schedule: sft.schedule ?? 'constant', warmupSteps: sft.warmupSteps ?? 0, totalSteps: sft.steps });
    let loss: number | null = null;
    let skipped = 1;
    let gradNorm: number | null = null;
    if (sequences.length > 0) {
      const optimStep = { lr, weightDecay: sft.weightDecay, gradClip: sft.maxGradNorm }; // unset fields: the engine's defaults (the wire drops undefined)
      const fb = await training.forwardBackward({ sequences, loss: { type: 'sft' }, optimStep, microBatchSize: sft.microBatchSize });
      if (!fb.nonfinite && fb.loss !== null && Number.isFinite(fb.loss)) {
        const o = fb.optimStep ?? (await training.optimStep(optimStep)); // taken in the same call when the backend can
        skipped = o.skipped ? 1 : 0;
        gradNorm = o.gradNorm;
        loss = fb.loss;
      }
    }
    finalLoss = loss ?? finalLoss;
    const metrics: StepMetrics = {
      schemaVersion: 1,
      step,
      time: (performance.now() - t0) / 1000,
      loss,
      lr,
      gradNorm,
      skipped,
      sequences: sequences.length,
      trainTokens: sequences.reduce((a, s) => a + s.lossMask.reduce<number>((x, y) => x + y, 0), 0),
      prefixBreaks,
      tokenizeSeconds: (tTrain - tStep) / 1000,
      trainingSeconds: (performance.now() - tTrain) / 1000,
    };
    await run.appendMetrics(metrics);
    options.onStep?.(metrics);
  }
  const dir = join(run.checkpointsDir, checkpointDirName(sft.steps));
  const saved = await training.save({ path: dir, optimizer: false });
  await writeModelCard(dir, {
    kind: 'sft',
    step: sft.steps,
    steps: sft.steps,
    baseModel: options.modelName,
    environment: source.kind === 'env' ? `${envName} (its scripted demonstrations)` : `${size} conversations from a JSONL file`,
    settings: { steps: sft.steps, batch: sft.batch, lr: sft.lr, schedule: sft.schedule ?? 'constant', weightDecay: sft.weightDecay, maxGradNorm: sft.maxGradNorm, seed: sft.seed, finalLoss },
  });
  await writeTrainerState(dir, { schemaVersion: 1, kind: 'sft', step: sft.steps, epoch: data.epoch, position: data.position, rng: rng.state(), elapsed: (performance.now() - t0) / 1000, policyVersion: saved.step, savedAt: new Date().toISOString(), config: options.config ?? { ...sft } });
  const seconds = (performance.now() - t0) / 1000;
  await run.update({ status: 'completed', endedAt: new Date().toISOString(), checkpoints: [{ step: sft.steps, path: join('checkpoints', checkpointDirName(sft.steps)) }], summary: { steps: sft.steps } });
  if (!lastCheckpoint(run.checkpointsDir)) throw new Error(`SFT checkpoint at ${dir} is incomplete`);
  return { steps: sft.steps, finalLoss, checkpoint: dir, seconds };
}
