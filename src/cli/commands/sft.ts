import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { SettingsSpec } from '../../core/config/index.js';
import { ConfigError } from '../../core/index.js';
import { EngineClient } from '../../engine/index.js';
import { EngineChatTokenizer } from '../../engine/index.js';
import { demonstrationSource, readSftJsonl, trainSft, type SftSource } from '../../train/index.js';
import { TerminalProgress } from '../progress.js';
import { loadEnvironment } from '../load-environment.js';
import { settingsCommand } from '../settings-command.js';

const DESCRIPTION = "Supervised warm start: train a model on a JSONL of conversations or on an environment's scripted demonstrations.";

/** Every setting of `keiko sft`. */
export const SftSettings = z
  .object({
    model: z.string().min(1).optional().describe('Hugging Face model directory to start from (required).'),
    data: z.string().optional().describe('Conversations, one {"messages": [...], "tools"?: [...]} per line (or give env).'),
    env: z.string().optional().describe("Use this environment's demonstrate() (scripted solver) instead of data."),
    envArgs: z.record(z.string(), z.unknown()).default({}).describe('Environment arguments as a JSON object, e.g. \'{"digits":1,"demoErrorRate":0.3}\'.'),
    steps: z.number().int().positive().default(200).describe('Optimizer steps.'),
    batch: z.number().int().positive().default(32).describe('Conversations per step.'),
    lr: z.number().positive().default(3e-3).describe('Learning rate (cosine schedule).'),
    seed: z.number().int().default(0).describe('Seed for data order and demonstrations.'),
    threads: z.number().int().positive().default(1).describe('Engine CPU threads.'),
    out: z.string().optional().describe('Run folder (unset: runs/sft-<time>).'),
  })
  .strict();

/** How `keiko sft` takes its settings. */
export const SFT_SETTINGS: SettingsSpec<typeof SftSettings> = { command: 'keiko sft', schema: SftSettings };

/** Registers `keiko sft`. */
export function register(program: Command): void {
  settingsCommand(program, 'sft', SFT_SETTINGS, DESCRIPTION, async (flags) => {
    const { steps, batch, lr } = flags;
    if (!flags.model) throw new ConfigError('missing --model: the Hugging Face model directory to start from');
    if (!existsSync(join(resolve(flags.model), 'config.json'))) throw new ConfigError(`--model '${flags.model}' is not a Hugging Face model directory (no config.json)`);
    if (Boolean(flags.data) === Boolean(flags.env)) throw new ConfigError('pass exactly one of --data <file.jsonl> or --env <name>');
    const source: SftSource = flags.data
      ? { kind: 'records', records: readSftJsonl(flags.data) }
      : demonstrationSource(await loadEnvironment({ spec: flags.env!, args: flags.envArgs }));
    const runDir = resolve(flags.out ?? join('runs', `sft-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`));
    const { threads } = flags;
    const progress = new TerminalProgress(process.stdout);
    progress.tick(`keiko sft: starting the engine on ${flags.model}`);
    const engine = await EngineClient.spawn({
      model: resolve(flags.model),
      threads,
      device: 'auto',
      seed: 0,
      reference: 'none',
      restart: false,
      checkpointRoots: [runDir],
      startupTimeoutMs: 180_000,
      env: { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), TOKENIZERS_PARALLELISM: 'false' },
    }).catch((error: unknown) => {
      progress.stop();
      throw error;
    });
    try {
      progress.line(`keiko sft → ${runDir} (${steps} steps × ${batch})`);
      progress.bar('sft', steps, { unit: 'step' });
      const result = await trainSft({
        source,
        training: engine,
        tokenizer: new EngineChatTokenizer({ http: engine.routes }),
        sft: { steps, batch, lr, seed: flags.seed, schedule: 'cosine', warmupSteps: Math.min(10, steps) },
        runDir,
        modelName: basename(resolve(flags.model)),
        onStep: (m) => {
          const loss = `loss ${typeof m['loss'] === 'number' ? m['loss'].toFixed(4) : '-'}`;
          if (progress.interactive) progress.update(m.step, loss);
          else if (m.step % 25 === 0 || m.step === steps) process.stdout.write(`step ${m.step}/${steps} · ${loss}\n`);
        },
      });
      progress.stop();
      process.stdout.write(`done in ${result.seconds.toFixed(1)}s · final loss ${result.finalLoss?.toFixed(4) ?? '-'}\ncheckpoint (HF format): ${result.checkpoint}\n`);
    } finally {
      progress.stop();
      await engine.stop();
    }
  });
}

