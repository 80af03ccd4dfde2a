import { z } from 'zod';

export const QA_SCHEMA_VERSION = 1;

/**
 * One synthesized question, as written to `train.jsonl` / `test.jsonl`: rows a `searchEnv` takes
 * directly (`question`, `answer`, `id`; the rest lands in `info`).
 */
export const QaItem = z.object({
  schemaVersion: z.literal(QA_SCHEMA_VERSION).default(QA_SCHEMA_VERSION),
  id: z.string(),
  question: z.string(),
  /** Accepted answers; the first is canonical. */
  answer: z.array(z.string()).min(1),
  /** Template that made it, e.g. 'capital', 'city-country-capital', 'define-term'. */
  kind: z.string(),
  hops: z.number().int().min(1),
  /** Pages that together support the answer, in reasoning order. */
  supportingUrls: z.array(z.string()).min(1),
  /** The entity the answer names (the train/test split is by this). */
  answerEntity: z.string(),
  split: z.enum(['train', 'test']),
});
export type QaItem = z.infer<typeof QaItem>;

/** `synth.json` beside the splits: what was asked for and what came out. */
export const SynthManifest = z.object({
  schemaVersion: z.literal(QA_SCHEMA_VERSION).default(QA_SCHEMA_VERSION),
  index: z.string(),
  seed: z.number().int(),
  requested: z.number().int(),
  train: z.number().int(),
  test: z.number().int(),
  byKind: z.record(z.string(), z.number().int()),
  /** Candidates dropped, by reason (not unique, not retrievable…). */
  rejected: z.record(z.string(), z.number().int()),
  createdAt: z.string(),
});
export type SynthManifest = z.infer<typeof SynthManifest>;
