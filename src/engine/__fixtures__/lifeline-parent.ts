// Test fixture for child-process.test.ts: a stand-in for keiko that starts keiko's test server
// through spawnChild, prints "child <pid> <url>", and on SIGINT stops the child and exits 130.
import { fileURLToPath } from 'node:url';
import { spawnChild, stopChild } from '../child-process.js';

const main = fileURLToPath(new URL('../../testing/test-server-main.ts', import.meta.url));
const child = spawnChild(process.execPath, ['--import', 'tsx', main, '--port', '0']);
let buffered = '';
child.stdout!.on('data', (d: Buffer) => {
  buffered += d.toString();
  const m = /listening (\S+)/.exec(buffered);
  if (m) process.stdout.write(`child ${child.pid} ${m[1]}\n`);
});
process.on('SIGINT', () => {
  process.stdout.write('parent got SIGINT\n');
  // the child must still be serving while keiko finishes its work
  setTimeout(() => {
    void stopChild(child).then(() => process.exit(130));
  }, 500);
});
setInterval(() => undefined, 1000);
