import { z } from 'zod';
import type { SettingsSpec } from '../../core/config/index.js';
import { TEST_SERVER_RULES } from '../../testing/index.js';
import { TRACKERS } from '../../tracking/index.js';

const ruleNames = Object.keys(TEST_SERVER_RULES) as [string, ...string[]];

/**
 * Every setting of `keiko eval`: the keys of a run's stored config (`EvalConfig`, the same names in a
 * `--config` file and as flags) plus run control that is not stored (`apiKey`, `out`, `resume`…).
 * Fields without a default are unset unless given; the command fills them (e.g. `model` from the
 * test server or engine).
 */
export const EvalSettings = z
  .object({
    env: z.string().min(1).optional().describe('Built-in environment name, or path to a module exporting loadEnvironment(args).'),
    envArgs: z.record(z.string(), z.unknown()).default({}).describe('Arguments passed to the environment loader, as a JSON object (or --envArgs.<key> <value>).'),
    split: z.enum(['eval', 'train']).default('eval').describe('Dataset split to evaluate.'),
    model: z.string().min(1).optional().describe('Model id sent to the server.'),
    baseUrls: z.array(z.url()).min(1).optional().describe('OpenAI-compatible base URLs, comma-separated or repeated, load-balanced (unset: http://localhost:8000/v1).'),
    apiKey: z.string().optional().describe('API key (unset: $OPENAI_API_KEY, else "none"); never stored.'),
    examples: z.number().int().positive().optional().describe('Examples to evaluate (unset: the whole split).'),
    groupSize: z.number().int().positive().default(1).describe('Rollouts per example (the k of pass@k).'),
    concurrency: z.number().int().positive().default(32).describe('Rollouts generating at once.'),
    scoringConcurrency: z.number().int().positive().optional().describe('Scoring calls at once (unset: half of concurrency).'),
    sampling: z
      .object({
        temperature: z.number().min(0).max(5).optional().describe('Sampling temperature.'),
        topP: z.number().gt(0).max(1).optional().describe('Nucleus sampling p.'),
        maxTokens: z.number().int().positive().optional().describe('Max completion tokens per model call.'),
        stop: z.array(z.string()).optional().describe('Stop sequences (repeat the flag for several).'),
        seed: z.number().int().optional().describe('Sampling seed sent to the server (unset: seed, when given as a flag).'),
        returnTokens: z.boolean().optional().describe('Ask for token ids and logprobs (on by default with --engine).'),
      })
      .strict()
      .default({})
      .describe('Sampling settings sent with every request.'),
    samplingArgs: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Extra fields merged into every request body as given, for server-specific sampling (a JSON object, e.g. {"top_k":20,"min_p":0.05,"chat_template_kwargs":{"enable_thinking":false}}).'),
    header: z
      .array(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+:/, 'expected "Name: value"'))
      .default([])
      .describe('HTTP header "Name: value" sent with every request (repeat for several); never stored, as it may hold credentials.'),
    maxTurns: z.number().int().positive().optional().describe('Per-rollout budget: model turns.'),
    maxTotalTokens: z.number().int().positive().optional().describe('Per-rollout budget: prompt + completion tokens.'),
    timeoutS: z.number().positive().default(600).describe('Per-request timeout, seconds.'),
    rolloutTimeoutS: z.number().positive().optional().describe('Wall-clock limit per rollout, seconds; slower rollouts are recorded as errors.'),
    retries: z.number().int().nonnegative().default(3).describe('Retries per request on 5xx, timeouts and connection errors.'),
    seed: z.number().int().default(0).describe('Seed for rollout rngs and sampling.'),
    passThreshold: z.number().default(1).describe('Reward at which a rollout counts as passed, for pass@k.'),
    testServer: z.enum(ruleNames).optional().describe("Start keiko's built-in OpenAI-compatible test server with this rule and evaluate against it."),
    testServerLatency: z.number().int().nonnegative().default(0).describe('Latency of the built-in test server, ms.'),
    engine: z.string().optional().describe("Start keiko's Python engine on this local Hugging Face model folder and evaluate it."),
    failUnder: z.number().optional().describe('Exit 1 when the mean reward over scored rollouts is below this (for CI).'),
    maxErrorRate: z.number().min(0).max(1).optional().describe('Exit 1 when the share of rollouts that ended in an error (never scored) is above this, 0–1 (for CI).'),
    retryErrors: z.boolean().default(false).describe('With --resume: run again the rollouts that ended in an error, not only the missing ones.'),
    track: z.enum(TRACKERS).optional().describe('Send the eval summary to wandb, mlflow or tensorboard through its own client (bash scripts/setup-tracking.sh installs them).'),
    out: z.string().default('runs').describe('Runs folder.'),
    runId: z.string().optional().describe('Name of the run folder (unset: time-kind-env).'),
    resume: z.string().optional().describe('Continue an interrupted eval run in `out`, running only missing rollouts.'),
    progress: z.boolean().default(true).describe('Show a progress bar.'),
    json: z.boolean().default(false).describe('Print the summary as JSON instead of a table.'),
  })
  .strict();
export type EvalSettings = z.infer<typeof EvalSettings>;

/** Keys of `EvalSettings` that control this invocation and are not part of a run's stored config. */
export const EVAL_RUN_CONTROL = ['apiKey', 'header', 'testServerLatency', 'failUnder', 'maxErrorRate', 'retryErrors', 'track', 'out', 'runId', 'resume', 'progress', 'json'] as const;

/** How `keiko eval` takes its settings: short flags, shorthands, and old names read for one release. */
export const EVAL_SETTINGS: SettingsSpec = {
  command: 'keiko eval',
  schema: EvalSettings,
  short: { e: 'env', m: 'model', b: 'baseUrls', k: 'apiKey', n: 'examples', r: 'groupSize', c: 'concurrency', t: 'sampling.maxTokens', T: 'sampling.temperature', o: 'out' },
  aliases: {
    maxTokens: { to: 'sampling.maxTokens' },
    temperature: { to: 'sampling.temperature' },
    topP: { to: 'sampling.topP' },
    stop: { to: 'sampling.stop' },
    numExamples: { to: 'examples', deprecated: true },
    rollouts: { to: 'groupSize', deprecated: true },
    rolloutsPerExample: { to: 'groupSize', deprecated: true },
    baseUrl: { to: 'baseUrls', deprecated: true },
    timeout: { to: 'timeoutS', deprecated: true },
    rolloutTimeout: { to: 'rolloutTimeoutS', deprecated: true },
  },
};
