import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../core/json-files.js';
import { safeParseJson } from '../core/parse.js';

export const TRAINER_STATE_SCHEMA_VERSION = 1;
/** File written last into a checkpoint folder; a folder without it is incomplete. */
export const TRAINER_STATE_FILE = 'keiko-trainer-state.json';

/**
 * keiko's half of a checkpoint (the engine writes weights + optimizer beside it): the step reached,
 * where the data order stands, and the rng stream, so `--resume` repeats and skips nothing.
 */
export const TrainerState = z.object({
  schemaVersion: z.literal(TRAINER_STATE_SCHEMA_VERSION).default(TRAINER_STATE_SCHEMA_VERSION),
  kind: z.enum(['grpo', 'sft']),
  /** Optimizer steps completed (the next step to run is `step + 1`). */
  step: z.number().int().nonnegative(),
  /** Epoch of the shuffled dataset order and the position inside it. */
  epoch: z.number().int().nonnegative(),
  position: z.number().int().nonnegative(),
  /** State of the trainer's Rng (`Rng.state()`). */
  rng: z.array(z.number().int()),
  /** Seconds of training time before this checkpoint (metrics `time` continues from it). */
  elapsed: z.number().nonnegative(),
  /** Engine policy version (optimizer steps applied) at save time. */
  policyVersion: z.number().int().nonnegative(),
  savedAt: z.string(),
  config: z.record(z.string(), z.unknown()),
});
export type TrainerState = z.infer<typeof TrainerState>;

export { checkpointDirName } from '../runs/run-layout.js';

/** Writes the trainer state into a checkpoint folder atomically (temp file + rename). */
export async function writeTrainerState(dir: string, state: TrainerState): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeJsonAtomic(join(dir, TRAINER_STATE_FILE), TrainerState.parse(state));
}

/** Reads a checkpoint's trainer state, or undefined when the folder is incomplete or broken. */
export function readTrainerState(dir: string): TrainerState | undefined {
  const file = join(dir, TRAINER_STATE_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = safeParseJson(readFileSync(file, 'utf8'), TrainerState);
  return parsed.success ? parsed.data : undefined;
}

/** A complete checkpoint: its folder and trainer state. */
export interface CheckpointRef {
  dir: string;
  state: TrainerState;
}

/**
 * Complete checkpoints under `checkpointsDir`, oldest first. Complete = the engine's weights
 * (`config.json`, or `adapter_config.json` under LoRA) and keiko's state file are both present.
 */
export function listCheckpoints(checkpointsDir: string): CheckpointRef[] {
  if (!existsSync(checkpointsDir)) return [];
  const out: CheckpointRef[] = [];
  for (const name of readdirSync(checkpointsDir)) {
    if (!/^step-\d+$/.test(name)) continue;
    const dir = join(checkpointsDir, name);
    if (!existsSync(join(dir, 'config.json')) && !existsSync(join(dir, 'adapter_config.json'))) continue;
    const state = readTrainerState(dir);
    if (state) out.push({ dir, state });
  }
  return out.sort((a, b) => a.state.step - b.state.step);
}

/** The newest complete checkpoint, if any. */
export function lastCheckpoint(checkpointsDir: string): CheckpointRef | undefined {
  return listCheckpoints(checkpointsDir).at(-1);
}

/** Removes all but the newest `keep` complete checkpoints; `null` keeps them all. */
export function pruneCheckpoints(checkpointsDir: string, keep: number | null): void {
  if (keep === null) return;
  const all = listCheckpoints(checkpointsDir);
  for (const ref of all.slice(0, Math.max(0, all.length - keep))) rmSync(ref.dir, { recursive: true, force: true });
}

/** Name of the temporary folder the engine writes a checkpoint into before renaming it to `step-N`. */
const TEMP_CHECKPOINT = /^\.step-\d+\.tmp-[0-9a-z]+$/;

/**
 * Removes the engine's half-written checkpoint folders (`.step-N.tmp-*`) that a crash or kill left
 * behind; returns their names. Run on resume, when no engine is writing into the folder.
 */
export function removeTemporaryCheckpoints(checkpointsDir: string): string[] {
  if (!existsSync(checkpointsDir)) return [];
  const removed = readdirSync(checkpointsDir).filter((name) => TEMP_CHECKPOINT.test(name));
  for (const name of removed) rmSync(join(checkpointsDir, name), { recursive: true, force: true });
  return removed;
}
