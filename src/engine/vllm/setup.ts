import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, SamplerError } from '../../core/errors.js';

const SETUP_SCRIPT = fileURLToPath(new URL('../../../scripts/vllm-setup.sh', import.meta.url));

/** Options of `setupVllm` (`keiko vllm setup`): unset ones are the script's defaults. */
export interface VllmSetupOptions {
  /** Virtualenv to install into (default: KEIKO_VLLM_VENV, else ~/.cache/keiko/vllm-venv). */
  venv?: string;
  /** Python that creates the venv (default: python3). */
  python?: string;
  /** Which build: 'auto' (CUDA machine → vllm, else the CPU build), 'cpu' or 'gpu'. */
  flavour?: 'auto' | 'cpu' | 'gpu';
  /** Reinstall even when the venv's stamp says it is up to date. */
  force?: boolean;
  /** Each line the installer prints. */
  onLine?: (line: string) => void;
}

/** The command line of scripts/vllm-setup.sh for `options`. */
export function vllmSetupArgs(options: VllmSetupOptions): string[] {
  return [
    SETUP_SCRIPT,
    ...(options.venv ? ['--venv', options.venv] : []),
    ...(options.python ? ['--python', options.python] : []),
    ...(options.flavour && options.flavour !== 'auto' ? [`--${options.flavour}`] : []),
    ...(options.force ? ['--force'] : []),
  ];
}

/**
 * Installs vLLM into its own virtualenv with scripts/vllm-setup.sh (pinned; see that script for the
 * CPU build's three steps). Resolves to the venv's Python; rejects with the installer's last lines.
 */
export async function setupVllm(options: VllmSetupOptions = {}): Promise<string> {
  if (!existsSync(SETUP_SCRIPT)) throw new ConfigError(`vLLM installer not found at ${SETUP_SCRIPT} (keiko's scripts/ folder is needed)`);
  const lines: string[] = [];
  let python = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const proc = spawn('bash', vllmSetupArgs(options), { stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        lines.push(line);
        if (lines.length > 40) lines.shift();
        const m = /python for keiko: (\S+)/.exec(line);
        if (m) python = m[1]!;
        options.onLine?.(line);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', reject);
    proc.on('close', resolve);
  });
  if (code !== 0) throw new SamplerError(`vLLM setup failed (exit ${code}):\n${lines.slice(-15).join('\n')}`, { retryable: false });
  return python;
}
