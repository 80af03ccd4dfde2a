import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, EngineError } from '../../core/errors.js';
import { EngineClient } from '../../engine/client.js';
import { defaultEnginePython, serveArgs } from '../../engine/process.js';
import { spawn } from 'node:child_process';

function int(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n)) throw new ConfigError(`--${name} must be an integer, got '${value}'`);
    return n;
  };
}

function num(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${name} must be a positive number, got '${value}'`);
    return n;
  };
}

function dtype(value: string): 'auto' | 'float32' | 'bfloat16' {
  if (value === 'auto' || value === 'float32' || value === 'bfloat16') return value;
  throw new ConfigError(`unknown dtype '${value}'; available: auto, float32, bfloat16`);
}

function device(value: string): 'auto' | 'cpu' | 'cuda' {
  if (value === 'auto' || value === 'cpu' || value === 'cuda') return value;
  throw new ConfigError(`unknown device '${value}'; available: auto, cpu, cuda`);
}

interface ServeFlags {
  model: string;
  host: string;
  port?: number;
  device: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  dtype?: 'auto' | 'float32' | 'bfloat16';
  loraRank?: number;
  loraAlpha?: number;
  microBatchSize?: number;
  reference?: string;
  seed?: number;
  ranks?: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
}

interface CreateFlags {
  out: string;
  corpus: string[];
  architecture: string;
  vocabSize?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  maxContext?: number;
  seed?: number;
}

/** Registers `keiko engine serve|create|info`: the Python engine, started and watched from TypeScript. */
export function register(program: Command): void {
  const engine = program.command('engine').description('the Python engine that holds the weights (sampling + training over HTTP)');

  engine
    .command('serve')
    .description('start the engine on a local model directory, wait until healthy, restart it if it dies')
    .requiredOption('--model <dir>', 'local Hugging Face model directory')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <n>', 'port (default: a free one)', int('port'))
    .option('--device <d>', 'auto | cpu | cuda', device, 'auto')
    .option('--threads <n>', 'torch CPU threads (default: the measured best)', int('threads'))
    .option('--dtype <t>', 'auto | float32 | bfloat16 (autocast on a GPU)', dtype)
    .option('--lora-rank <r>', 'train LoRA adapters of this rank instead of all weights', int('lora-rank'))
    .option('--lora-alpha <a>', 'LoRA alpha (default: 2 × rank)', num('lora-alpha'))
    .option('--micro-batch-size <n>', 'sequences per forward/backward chunk when a request does not say (default 32)', int('micro-batch-size'))
    .option('--reference <ref>', 'KL reference: auto | none | DIR')
    .option('--seed <n>', 'seed for requests without one', int('seed'))
    .option('--ranks <n>', 'processes that train the model with FSDP2 under torchrun (default 1); > 1: training only, no sampling', int('ranks'))
    .option('--nnodes <n>', 'multi-node: number of nodes (torchrun --nnodes; with --node-rank, --master-addr, --master-port)', int('nnodes'))
    .option('--node-rank <n>', 'multi-node: this node\'s rank (0 serves HTTP)', int('node-rank'))
    .option('--master-addr <host>', 'multi-node: address of node 0')
    .option('--master-port <n>', 'multi-node: rendezvous port on node 0', int('master-port'))
    .action(async (flags: ServeFlags) => {
      if (!existsSync(flags.model)) throw new ConfigError(`model directory not found: ${flags.model}`);
      if (flags.ranks !== undefined && flags.ranks < 1) throw new ConfigError(`--ranks must be >= 1, got ${flags.ranks}`);
      const multiNode = flags.nnodes !== undefined && flags.nnodes > 1;
      if (multiNode && (flags.nodeRank === undefined || flags.masterAddr === undefined || flags.masterPort === undefined)) {
        throw new ConfigError('--nnodes > 1 needs --node-rank, --master-addr and --master-port (torchrun\'s static rendezvous)');
      }
      const options = {
        model: flags.model,
        host: flags.host,
        device: flags.device,
        ...(flags.port !== undefined ? { port: flags.port } : {}),
        ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
        ...(flags.dtype !== undefined ? { dtype: flags.dtype } : {}),
        ...(flags.loraRank !== undefined ? { loraRank: flags.loraRank } : {}),
        ...(flags.loraAlpha !== undefined ? { loraAlpha: flags.loraAlpha } : {}),
        ...(flags.microBatchSize !== undefined ? { microBatchSize: flags.microBatchSize } : {}),
        ...(flags.reference !== undefined ? { reference: flags.reference } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        ...(flags.ranks !== undefined ? { ranks: flags.ranks } : {}),
        ...(multiNode ? { nodes: { count: flags.nnodes!, rank: flags.nodeRank!, masterAddr: flags.masterAddr!, masterPort: flags.masterPort! } } : {}),
      };
      if (multiNode && flags.nodeRank! > 0) {
        // a worker node: its ranks follow rank 0 on node 0, which alone serves HTTP; run until they exit
        const child = spawn(defaultEnginePython(), serveArgs({ ...options, port: flags.port ?? 8321 }, flags.model), { stdio: 'inherit' });
        const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
        if (code !== 0) throw new EngineError(`engine ranks on node ${flags.nodeRank} exited with code ${code}`);
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
          (info.ranks > 1
            ? `  training on ${info.ranks} ranks (FSDP2); this engine does not sample\n`
            : `  OpenAI base URL: ${client.openaiBaseUrl}\n`) +
          '  press Ctrl-C to stop\n',
      );
      await new Promise<void>((resolve) => {
        const stop = () => void client.stop().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  engine
    .command('create')
    .description('create a tiny random model with a BPE tokenizer trained on a corpus and a chat template')
    .requiredOption('--out <dir>', 'output directory')
    .requiredOption('--corpus <files...>', 'text file(s) to train the tokenizer on')
    .option('--architecture <a>', 'qwen2 | llama', 'qwen2')
    .option('--vocab-size <n>', 'BPE vocabulary size (default 512)', int('vocab-size'))
    .option('--hidden <n>', 'hidden size (default 64)', int('hidden'))
    .option('--layers <n>', 'transformer blocks (default 2)', int('layers'))
    .option('--heads <n>', 'attention heads (default 4)', int('heads'))
    .option('--max-context <n>', 'max positions (default 512)', int('max-context'))
    .option('--seed <n>', 'weight init seed (default 0)', int('seed'))
    .action(async (flags: CreateFlags) => {
      if (flags.architecture !== 'qwen2' && flags.architecture !== 'llama') {
        throw new ConfigError(`unknown architecture '${flags.architecture}'; available: qwen2, llama`);
      }
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
    });

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
        const child = spawn(python, ['-m', 'keiko_engine', 'info', '--model', flags.model!], { stdio: 'inherit' });
        child.on('error', reject);
        child.on('close', resolve);
      });
      if (code === 2) throw new ConfigError(`'${flags.model}' is not a loadable model directory`);
      if (code !== 0) process.exitCode = 1;
    });
}
