// Runs the OpenAI-compatible test server as a process, for benchmarks and manual checks:
//   node --import tsx src/testing/test-server-main.ts --port 8000 --latency-ms 50 --rule arithmetic
// Prints one line "listening <baseUrl>" on stdout once it accepts requests; stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { TEST_SERVER_RULES } from './test-server-rules.js';
import { startTestServer } from './test-server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    model: { type: 'string', default: 'test-model' },
    'latency-ms': { type: 'string', default: '0' },
    rule: { type: 'string', default: 'echo' },
    'error-rate': { type: 'string', default: '0' },
    'hang-rate': { type: 'string', default: '0' },
    'error-first': { type: 'string', default: '0' },
    'hang-first': { type: 'string', default: '0' },
    seed: { type: 'string', default: '0' },
    help: { type: 'boolean', default: false },
  },
});

const rules = Object.keys(TEST_SERVER_RULES);
if (values.help) {
  process.stdout.write(
    `usage: test-server-main.ts [--port N] [--host H] [--model ID] [--latency-ms MS] [--rule ${rules.join('|')}]\n` +
      '                           [--error-rate P] [--hang-rate P] [--error-first N] [--hang-first N] [--seed N]\n',
  );
  process.exit(0);
}
const rule = TEST_SERVER_RULES[values.rule];
if (!rule) {
  process.stderr.write(`unknown rule '${values.rule}'; available: ${rules.join(', ')}\n`);
  process.exit(2);
}
const num = (name: keyof typeof values): number => {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`--${name} must be a non-negative number, got '${String(values[name])}'\n`);
    process.exit(2);
  }
  return v;
};

const server = await startTestServer({
  port: num('port'),
  host: values.host,
  model: values.model,
  rule,
  latencyMs: num('latency-ms'),
  logRequests: false,
  faults: {
    errorRate: num('error-rate'),
    hangRate: num('hang-rate'),
    errorFirst: num('error-first'),
    hangFirst: num('hang-first'),
    seed: num('seed'),
  },
});
process.stdout.write(`listening ${server.baseUrl}\n`);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Started by keiko's spawnChild: stdin is a pipe to keiko; EOF means keiko died (even by SIGKILL).
if (process.env.KEIKO_LIFELINE === 'stdin') {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
