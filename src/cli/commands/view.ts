import type { Command } from 'commander';
import { resolve } from 'node:path';
import { ConfigError } from '../../core/index.js';
import { ensureWebBuilt } from '../../dashboard/index.js';
import { startDashboard } from '../../dashboard/index.js';

/** Registers `keiko view [runs-dir]`: serves the dashboard for a runs folder until interrupted. */
export function register(program: Command): void {
  program
    .command('view')
    .description('Open the dashboard for a runs folder: runs table, training curves, rollout viewer, eval results.')
    .argument('[runs-dir]', 'folder holding run folders', 'runs')
    .option('-p, --port <port>', 'port to listen on (0 = any free port)', '4173')
    .option('--host <host>', 'interface to bind (use 0.0.0.0 to share on the network)', '127.0.0.1')
    .action(async (runsDir: string, opts: { port: string; host: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be an integer 0-65535, got '${opts.port}'`);
      const webDir = await ensureWebBuilt({ log: (line) => process.stderr.write(`${line}\n`) });
      let server;
      try {
        server = await startDashboard({ runsDir: resolve(runsDir), webDir, port, host: opts.host });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new ConfigError(`port ${port} is already in use; pass --port <other> (or --port 0 for any free port)`, { cause: error });
        throw error;
      }
      const { runs } = await server.store.listRuns();
      process.stdout.write(`keiko dashboard: ${server.url}  (${runs.length} run(s) in ${resolve(runsDir)}; Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
