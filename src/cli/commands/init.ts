import type { Command } from 'commander';
import { relative } from 'node:path';
import { scaffoldEnvironment } from '../init/scaffold.js';

/** Registers `keiko init NAME`: scaffolds an environment module and its test. */
export function register(program: Command): void {
  const cmd = program
    .command('init')
    .description('Create an environment module (NAME/index.ts exporting loadEnvironment) and its test (NAME/NAME.test.ts).')
    .argument('<name>', 'environment name: lower-case letters, digits and dashes')
    .option('-d, --dir <dir>', 'folder to create it in', '.')
    .option('--import-from <specifier>', "module the generated files import keiko from", 'keiko')
    .option('-f, --force', 'overwrite existing files')
    .action(async (name: string, opts: { dir: string; importFrom: string; force?: boolean }) => {
      const { dir, files } = await scaffoldEnvironment({ name, parentDir: opts.dir, importFrom: opts.importFrom, ...(opts.force ? { force: true } : {}) });
      const rel = relative(process.cwd(), dir) || '.';
      process.stdout.write(
        `created ${files.map((f) => relative(process.cwd(), f)).join(', ')}\n` +
          `next: npx vitest run ${rel}    # run its test\n` +
          `      keiko eval -e ./${rel}/index.ts -m <model> -b http://localhost:8000/v1 -n 10\n`,
      );
    });
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (message, write) => write(`${message.trimEnd()}\nusage: keiko init <name> [--dir <dir>] [--import-from <specifier>] [--force]\n`),
  });
}
