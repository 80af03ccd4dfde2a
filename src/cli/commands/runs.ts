import type { Command } from 'commander';
import { resolve } from 'node:path';
import { ConfigError } from '../../core/index.js';
import { RunKind, RunStatus } from '../../core/index.js';
import { RunStore } from '../../runs/index.js';
import { formatRunsTable } from '../../runs/index.js';

/** Registers `keiko runs [dir]`: the runs of a folder as a table. */
export function register(program: Command): void {
  program
    .command('runs')
    .description('List the runs in a runs folder: status, env, model, start time, best reward.')
    .argument('[runs-dir]', 'folder holding run folders', 'runs')
    .option('--kind <kind>', `only this kind (${RunKind.options.join(', ')})`)
    .option('--status <status>', `only this status (${RunStatus.options.join(', ')})`)
    .option('--json', 'print JSON instead of a table')
    .action(async (runsDir: string, opts: { kind?: string; status?: string; json?: boolean }) => {
      if (opts.kind !== undefined && !RunKind.safeParse(opts.kind).success) throw new ConfigError(`unknown kind '${opts.kind}'; available: ${RunKind.options.join(', ')}`);
      if (opts.status !== undefined && !RunStatus.safeParse(opts.status).success) throw new ConfigError(`unknown status '${opts.status}'; available: ${RunStatus.options.join(', ')}`);
      const scan = await new RunStore({ runsDir: resolve(runsDir) }).listRuns();
      const runs = scan.runs.filter((r) => (!opts.kind || r.kind === opts.kind) && (!opts.status || r.status === opts.status));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ runs, warnings: scan.warnings }, null, 2) + '\n');
        return;
      }
      process.stdout.write(runs.length ? formatRunsTable({ runs }) + '\n' : `no runs in ${resolve(runsDir)}\n`);
      for (const w of scan.warnings) process.stderr.write(`warning: ${w}\n`);
    });
}
