import type { Command } from 'commander';
import { setupEngineVenv, userEngineVenv } from '../../engine/index.js';
import { formatDoctor, runDoctor } from '../doctor.js';

/** Registers `keiko setup` (the engine's virtualenv) and `keiko doctor` (what is installed, and the fixes). */
export function register(program: Command): void {
  program
    .command('setup')
    .description(
      "Create the engine's Python virtualenv (torch, transformers, … at the versions in engine/constraints.txt) in a per-user folder: $KEIKO_ENGINE_VENV, else ~/.local/share/keiko/engine-venv. Needs Python ≥ 3.10 and ~6.5 GB.",
    )
    .option('--venv <dir>', 'where to create it (default: $KEIKO_ENGINE_VENV, else the per-user folder)')
    .option('--python <python>', 'the Python to create it with', 'python3')
    .option('--force', 'delete the venv first and install from scratch')
    .option('--pip-arg <arg...>', 'extra pip install arguments (e.g. --pip-arg=--index-url=https://…)')
    .action(async (opts: { venv?: string; python: string; force?: boolean; pipArg?: string[] }) => {
      const venv = opts.venv ?? userEngineVenv();
      process.stdout.write(`keiko setup → ${venv}\n`);
      const { python, report } = await setupEngineVenv({
        venv,
        python: opts.python,
        ...(opts.force ? { force: true } : {}),
        ...(opts.pipArg ? { pipArgs: opts.pipArg } : {}),
        onLine: (line) => process.stdout.write(`  ${line}\n`),
      });
      process.stdout.write(`engine venv ready: ${python} (torch ${report.packages['torch']}, transformers ${report.packages['transformers']})\n`);
      if (opts.venv && opts.venv !== userEngineVenv()) process.stdout.write(`keiko finds it when KEIKO_ENGINE_VENV=${opts.venv} is set\n`);
    });

  program
    .command('doctor')
    .description('Check what keiko needs (Node, Python, the engine venv, torch/transformers, vLLM, Chromium, free disk) and print the command that fixes each missing piece.')
    .option('--python <python>', 'the Python keiko setup would use', 'python3')
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { python: string; json?: boolean }) => {
      const checks = await runDoctor({ python: opts.python });
      process.stdout.write(opts.json ? `${JSON.stringify(checks, null, 2)}\n` : `${formatDoctor(checks)}\n`);
      if (checks.some((c) => c.status === 'missing')) process.exitCode = 1;
    });
}
