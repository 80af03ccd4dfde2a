import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { EngineClient } from '../../samplers/engine-client.js';
import { EngineChatTokenizer } from '../../train/chat-tokenizer.js';
import { demonstrationSource, readSftJsonl, trainSft, type SftSource } from '../../train/sft.js';
import { EngineTrainingClient } from '../../train/training-backend.js';
import { loadEnvironment } from '../load-environment.js';

interface SftFlags {
  model: string;
  data?: string;
  env?: string;
  envArgs?: string;
  steps: string;
  batch: string;
  lr: string;
  seed: string;
  threads: string;
  out?: string;
}

/** Registers `keiko sft`. */
export function register(program: Command): void {
  program
    .command('sft')
    .description('Supervised warm start: train a model on a JSONL of conversations or on an environment\'s scripted demonstrations.')
    .requiredOption('--model <dir>', 'Hugging Face model directory to start from')
    .option('--data <file.jsonl>', 'conversations, one {"messages": [...], "tools"?: [...]} per line')
    .option('--env <name>', 'use this environment\'s demonstrate() (scripted solver) instead of --data')
    .option('--env-args <json>', 'environment arguments as JSON, e.g. \'{"digits":1,"demoErrorRate":0.3}\'', '{}')
    .option('--steps <n>', 'optimizer steps', '200')
    .option('--batch <n>', 'conversations per step', '32')
    .option('--lr <x>', 'learning rate (cosine schedule)', '3e-3')
    .option('--seed <n>', 'seed for data order and demonstrations', '0')
    .option('--threads <n>', 'engine CPU threads', '1')
    .option('--out <dir>', 'run folder (default runs/sft-<time>)')
    .action(async (flags: SftFlags) => {
      const steps = positiveInt('--steps', flags.steps);
      const batch = positiveInt('--batch', flags.batch);
      const lr = Number(flags.lr);
      if (!(lr > 0)) throw new ConfigError(`--lr must be a positive number, got '${flags.lr}'`);
      if (!existsSync(join(resolve(flags.model), 'config.json'))) throw new ConfigError(`--model '${flags.model}' is not a Hugging Face model directory (no config.json)`);
      if (Boolean(flags.data) === Boolean(flags.env)) throw new ConfigError('pass exactly one of --data <file.jsonl> or --env <name>');
      let source: SftSource;
      if (flags.data) {
        source = { kind: 'records', records: readSftJsonl(flags.data) };
      } else {
        let args: unknown;
        try {
          args = JSON.parse(flags.envArgs ?? '{}');
        } catch {
          throw new ConfigError(`--env-args is not JSON: ${flags.envArgs}`);
        }
        if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new ConfigError('--env-args must be a JSON object');
        source = demonstrationSource(await loadEnvironment({ spec: flags.env!, args: args as Record<string, unknown> }));
      }
      const runDir = resolve(flags.out ?? join('runs', `sft-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`));
      const threads = positiveInt('--threads', flags.threads);
      const engine = await EngineClient.spawn({
        model: resolve(flags.model),
        threads,
        device: 'auto',
        seed: 0,
        reference: 'none',
        restart: false,
        startupTimeoutMs: 180_000,
        env: { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), TOKENIZERS_PARALLELISM: 'false' },
      });
      try {
        process.stdout.write(`keiko sft → ${runDir} (${steps} steps × ${batch})\n`);
        const result = await trainSft({
          source,
          training: new EngineTrainingClient({ engine }),
          tokenizer: new EngineChatTokenizer({ baseUrl: engine.url }),
          sft: { steps, batch, lr, seed: Number(flags.seed), schedule: 'cosine', warmupSteps: Math.min(10, steps) },
          runDir,
          modelName: basename(resolve(flags.model)),
          onStep: (m) => {
            if (m.step % 25 === 0 || m.step === steps) process.stdout.write(`step ${m.step}/${steps} · loss ${typeof m['loss'] === 'number' ? m['loss'].toFixed(4) : '-'}\n`);
          },
        });
        process.stdout.write(`done in ${result.seconds.toFixed(1)}s · final loss ${result.finalLoss?.toFixed(4) ?? '-'}\ncheckpoint (HF format): ${result.checkpoint}\n`);
      } finally {
        await engine.stop();
      }
    });
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${flag} must be a positive integer, got '${value}'`);
  return n;
}
