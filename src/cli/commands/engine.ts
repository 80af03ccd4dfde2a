import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, EngineError } from '../../core/index.js';
import { EngineClient, defaultEnginePython, engineProcessEnv, serveArgs, spawnChild } from '../../engine/index.js';
import { spawn } from 'node:child_process';
import { settingsCommand } from '../settings-command.js';

const ServeSettings = z
  .object({
    model: z.string().min(1).describe('Local Hugging Face model directory.'),
    host: z.string().default('127.0.0.1').describe('Address to bind.'),
    port: z.number().int().nonnegative().optional().describe('Port (unset: a free one).'),
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto').describe('Device: auto = cuda when available, else cpu.'),
    threads: z.number().int().positive().optional().describe('Torch CPU threads (unset: the measured best).'),
    dtype: z.enum(['auto', 'float32', 'bfloat16']).optional().describe('Weights dtype (unset: auto = bfloat16 autocast on a GPU, float32 on a CPU).'),
    loraRank: z.number().int().positive().optional().describe('Train LoRA adapters of this rank instead of all weights.'),
    loraAlpha: z.number().positive().optional().describe('LoRA alpha (unset: 2 × loraRank).'),
    microBatchSize: z.number().int().positive().optional().describe('Sequences per forward/backward chunk when a request does not say (unset: 32).'),
    activationCheckpointing: z.boolean().optional().describe('Recompute each decoder layer in the backward instead of keeping its activations (less memory, ~1/3 more compute).'),
    reference: z.string().optional().describe('KL reference: auto | none | DIR.'),
    seed: z.number().int().optional().describe('Seed for requests without one.'),
    ranks: z.number().int().positive().optional().describe('Processes that train the model with FSDP2 under torchrun (unset: 1); > 1 trains only, no sampling.'),
    shardedOptimizer: z.boolean().optional().describe('With ranks > 1: each rank saves its own shards of the optimizer state (torch.distributed.checkpoint) instead of gathering it to rank 0.'),
    nnodes: z.number().int().positive().optional().describe('Multi-node: number of nodes (torchrun --nnodes; with nodeRank, masterAddr, masterPort).'),
    nodeRank: z.number().int().nonnegative().optional().describe("Multi-node: this node's rank (node 0 serves HTTP)."),
    masterAddr: z.string().optional().describe('Multi-node: address of node 0.'),
    masterPort: z.number().int().positive().optional().describe('Multi-node: rendezvous port on node 0.'),
  })
  .strict();

const CreateSettings = z
  .object({
    out: z.string().min(1).describe('Output directory.'),
    corpus: z.array(z.string()).min(1).describe('Text file(s) to train the tokenizer on (repeat the flag, or list them after it).'),
    architecture: z.enum(['qwen2', 'llama']).default('qwen2').describe('Model architecture.'),
    vocabSize: z.number().int().positive().optional().describe('BPE vocabulary size (unset: 512).'),
    hidden: z.number().int().positive().optional().describe('Hidden size (unset: 64).'),
    layers: z.number().int().positive().optional().describe('Transformer blocks (unset: 2).'),
    heads: z.number().int().positive().optional().describe('Attention heads (unset: 4).'),
    maxContext: z.number().int().positive().optional().describe('Max positions (unset: 512).'),
    seed: z.number().int().optional().describe('Weight init seed (unset: 0).'),
  })
  .strict();

/** Registers `keiko engine serve|create|info`: the Python engine, started and watched from TypeScript. */
export function register(program: Command): void {
  const engine = program.command('engine').description('the Python engine that holds the weights (sampling + training over HTTP)');

  settingsCommand(
    engine,
    'serve',
    { command: 'keiko engine serve', schema: ServeSettings },
    'start the engine on a local model directory, wait until healthy, restart it if it dies',
    async (flags) => {
      if (!existsSync(flags.model)) throw new ConfigError(`model directory not found: ${flags.model}`);
      const { nnodes, nodeRank, masterAddr, masterPort, ...spawnSettings } = flags;
      const multiNode = nnodes !== undefined && nnodes > 1;
      if (multiNode && (nodeRank === undefined || masterAddr === undefined || masterPort === undefined)) {
        throw new ConfigError("--nnodes > 1 needs --node-rank, --master-addr and --master-port (torchrun's static rendezvous)");
      }
      // the other settings are EngineSpawnOptions by name; unset ones are left to the engine
      const options = { ...spawnSettings, ...(multiNode ? { nodes: { count: nnodes, rank: nodeRank!, masterAddr: masterAddr!, masterPort: masterPort! } } : {}) };
      if (multiNode && nodeRank! > 0) {
        // a worker node: its ranks follow rank 0 on node 0, which alone serves HTTP; run until they exit
        const child = spawnChild(defaultEnginePython(), serveArgs({ ...options, port: flags.port ?? 8321 }, flags.model), { output: 'inherit', env: engineProcessEnv() });
        const stopRanks = () => child.kill('SIGTERM');
        process.once('SIGINT', stopRanks);
        process.once('SIGTERM', stopRanks);
        const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
        if (code !== 0) throw new EngineError(`engine ranks on node ${nodeRank} exited with code ${code}`);
        return;
      }
      const client = await EngineClient.spawn({
        ...options,
        onOutput: (line) => process.stderr.write(`[engine] ${line}\n`),
        onRestart: ({ restarts, model }) => process.stderr.write(`keiko: engine died; restarted (${restarts}) from ${model}\n`),
      });
      const info = await client.info();
      process.stdout.write(
        `engine ready: ${info.model} (${info.architecture}, ${info.parameters.toLocaleString('en-US')} params, ${info.device}, ` +
          `${info.threads} thread(s), step ${info.step})\n` +
          (info.ranks > 1 ? `  training on ${info.ranks} ranks (FSDP2); this engine does not sample\n` : `  OpenAI base URL: ${client.openaiBaseUrl}\n`) +
          '  press Ctrl-C to stop\n',
      );
      await new Promise<void>((resolve) => {
        const stop = () => void client.stop().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    },
  );

  settingsCommand(
    engine,
    'create',
    // `--corpus a.txt b.txt`: files after the first are positionals, read as more corpus files.
    { command: 'keiko engine create', schema: CreateSettings, positional: '[corpus files...]' },
    'create a tiny random model with a BPE tokenizer trained on a corpus and a chat template',
    async (settings, more) => {
      const flags = { ...settings, corpus: [...settings.corpus, ...more] };
      for (const f of flags.corpus) if (!existsSync(f)) throw new ConfigError(`corpus file not found: ${f}`);
      const out = await EngineClient.createModel({
        out: flags.out,
        corpus: flags.corpus,
        architecture: flags.architecture,
        ...(flags.vocabSize !== undefined ? { vocabSize: flags.vocabSize } : {}),
        ...(flags.hidden !== undefined ? { hidden: flags.hidden } : {}),
        ...(flags.layers !== undefined ? { layers: flags.layers } : {}),
        ...(flags.heads !== undefined ? { heads: flags.heads } : {}),
        ...(flags.maxContext !== undefined ? { maxContext: flags.maxContext } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      });
      process.stdout.write(`model written to ${out}\n`);
    },
  );

  engine
    .command('info')
    .description("print a model directory's (or a running engine's) architecture, size, device and step")
    .option('--model <dir>', 'local model directory')
    .option('--url <url>', 'a running engine, e.g. http://127.0.0.1:8321')
    .action(async (flags: { model?: string; url?: string }) => {
      if (!flags.model === !flags.url) throw new ConfigError('engine info needs exactly one of --model <dir> or --url <url>');
      if (flags.url) {
        const client = await EngineClient.connect({ url: flags.url, startupTimeoutMs: 5000 });
        process.stdout.write(`${JSON.stringify(await client.info(), null, 2)}\n`);
        return;
      }
      if (!existsSync(flags.model!)) throw new ConfigError(`model directory not found: ${flags.model}`);
      const python = defaultEnginePython();
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(python, ['-m', 'keiko_engine', 'info', '--model', flags.model!], { stdio: 'inherit', env: engineProcessEnv() });
        child.on('error', reject);
        child.on('close', resolve);
      });
      if (code === 2) throw new ConfigError(`'${flags.model}' is not a loadable model directory`);
      if (code !== 0) process.exitCode = 1;
    });
}
