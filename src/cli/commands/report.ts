import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../../core/index.js';
import { RUN_FILES } from '../../core/index.js';
import { writeReport } from '../../dashboard/index.js';
import { ensureWebBuilt } from '../../dashboard/index.js';
import { RunNotFoundError } from '../../runs/index.js';

/** Registers `keiko report RUN`: one self-contained HTML file of a run (curves + sample rollouts). */
export function register(program: Command): void {
  program
    .command('report')
    .description('Write one self-contained HTML file of a run (curves, sample rollouts, eval results) that opens without a server.')
    .argument('<run>', 'a run folder, or a run id inside --runs-dir')
    .option('--runs-dir <dir>', 'folder holding run folders (when RUN is an id)', 'runs')
    .option('-o, --out <file>', 'output file (default: <run-id>-report.html)')
    .option('--rollouts <n>', 'rollouts kept per step/eval (lowest and highest reward)', '12')
    .action(async (run: string, opts: { runsDir: string; out?: string; rollouts: string }) => {
      const perSource = Number(opts.rollouts);
      if (!Number.isInteger(perSource) || perSource < 0) throw new ConfigError(`--rollouts must be a non-negative integer, got '${opts.rollouts}'`);
      const asFolder = resolve(run);
      const [runsDir, runId] = existsSync(join(asFolder, RUN_FILES.manifest)) ? [dirname(asFolder), basename(asFolder)] : [resolve(opts.runsDir), run];
      const webDir = await ensureWebBuilt({ log: (line) => process.stderr.write(`${line}\n`) });
      const out = resolve(opts.out ?? `${runId}-report.html`);
      try {
        const { bytes } = await writeReport({ runsDir, runId, webDir, out, rolloutsPerSource: perSource });
        process.stdout.write(`wrote ${out} (${(bytes / 1024).toFixed(0)} KiB)\n`);
      } catch (error) {
        if (error instanceof RunNotFoundError) throw new ConfigError(`${error.message}; pass a run folder or --runs-dir`, { cause: error });
        throw error;
      }
    });
}
