/**
 * Runs `keiko search serve` as N processes under node:cluster sharing one port, for the HTTP
 * benchmark's check of whether more processes help on this machine. Bench-only: the CLI serves
 * from one process. Usage: node --import tsx bench/search/cluster-serve.ts N path/to/bin/keiko.js search serve ...
 */
import cluster from 'node:cluster';

const [n, script, ...args] = process.argv.slice(2);
cluster.setupPrimary({ exec: script!, args });
for (let i = 0; i < Number(n); i++) cluster.fork();
// Workers listening on port 0 share one port, so each prints the same URL; the bench reads the first.
process.on('SIGTERM', () => {
  for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  process.exit(0);
});
