import type { Command } from 'commander';
import { relative } from 'node:path';
import { scaffoldEnvironment } from '../init/scaffold.js';

/** Registers `keiko init NAME`: scaffolds an environment module and its test. */
export function register(program: Command): void {
  const cmd = program
    .command('init')
    .description('Create a project NAME/ with an environment module (NAME.ts, exporting loadEnvironment), its test (NAME.test.ts), package.json, tsconfig.json and a README; `npm install && npm test` in it passes.')
    .argument('<name>', 'environment name: lower-case letters, digits and dashes')
    .option('-d, --dir <dir>', 'folder to create it in', '.')
    .option('--import-from <specifier>', "module the generated files import keiko from", 'keiko')
    .option('--keiko <spec>', "the project's keiko dependency: a version range, a tarball or a folder (default: this keiko)")
    .option('-f, --force', 'overwrite existing files')
    .action(async (name: string, opts: { dir: string; importFrom: string; keiko?: string; force?: boolean }) => {
      const { dir, files } = await scaffoldEnvironment({ name, parentDir: opts.dir, importFrom: opts.importFrom, ...(opts.keiko ? { keikoSpec: opts.keiko } : {}), ...(opts.force ? { force: true } : {}) });
      const rel = relative(process.cwd(), dir) || '.';
      process.stdout.write(
        `created ${files.map((f) => relative(process.cwd(), f)).join(', ')}\n` +
          `next: cd ${rel} && npm install && npm test\n` +
          `      npx keiko eval -e ./${name}.ts --test-server echo -n 5\n`,
      );
    });
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (message, write) => write(`${message.trimEnd()}\nusage: keiko init <name> [--dir <dir>] [--keiko <spec>] [--import-from <specifier>] [--force]\n`),
  });
}
