// End-to-end tests of `keiko eval`: the real CLI (./bin/keiko.js) in a child process against the real
// OpenAI-compatible test server over HTTP.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RolloutResult } from '../src/core/rollout-result.js';
import { RunManifest } from '../src/core/run-manifest.js';
import { EvalMetadata } from '../src/cli/eval/eval-config.js';
import { arithmeticRule, noisyArithmeticRule, solveArithmetic } from '../src/testing/test-server-rules.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../src/testing/test-server.js';
import { shoutEnvModule } from './helpers/shout-env.js';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin', 'keiko.js');
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(options: TestServerOptions): Promise<TestServer> {
  const s = await startTestServer(options);
  servers.push(s);
  return s;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function keiko(args: string[], options: { onStderr?: (text: string, kill: (signal: NodeJS.Signals) => void) => void } = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, OPENAI_API_KEY: 'test' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr, (signal) => child.kill(signal));
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

const tmp = () => mkdtemp(join(tmpdir(), 'keiko-eval-'));

async function onlyRun(runsDir: string): Promise<string> {
  const entries = await readdir(runsDir);
  expect(entries).toHaveLength(1);
  return join(runsDir, entries[0]!);
}

async function readResults(runDir: string): Promise<RolloutResult[]> {
  const text = await readFile(join(runDir, 'results.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => RolloutResult.parse(JSON.parse(line)));
}

const readJson = async (path: string): Promise<unknown> => JSON.parse(await readFile(path, 'utf8'));

describe('keiko eval (end to end)', () => {
  it('evaluates a built-in environment through a real server and writes a run folder', async () => {
    const server = await serve({ rule: arithmeticRule });
    const out = await tmp();
    const run = await keiko(['eval', '-e', 'arithmetic', '-m', 'test-model', '-b', server.baseUrl, '-n', '10', '-r', '2', '-c', '4', '-t', '64', '-T', '0.5', '--out', out]);
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/reward\s+1\.000 ± 0\.000/);
    expect(run.stdout).toMatch(/pass@2\s+1\.000/);
    expect(run.stdout).toMatch(/errors\s+0/);
    const runDir = await onlyRun(out);
    const results = await readResults(runDir);
    expect(results).toHaveLength(20);
    expect(new Set(results.map((r) => `${r.exampleId}/${r.sample}`)).size).toBe(20);
    expect(results.every((r) => r.reward === 1 && r.metrics.correct === 1)).toBe(true);
    const manifest = RunManifest.parse(await readJson(join(runDir, 'run.json')));
    expect(manifest).toMatchObject({ kind: 'eval', status: 'completed', env: 'arithmetic', model: 'test-model', summary: { rollouts: 20, meanReward: 1 } });
    const metadata = EvalMetadata.parse(await readJson(join(runDir, 'metadata.json')));
    expect(metadata).toMatchObject({ examples: 10, rolloutsPerExample: 2, meanReward: 1, errors: 0 });
    expect(metadata.passAtK['1']).toBe(1);
    // The flags reached the server.
    expect(server.generationCount).toBe(20);
    expect(server.requests[1]!.body).toMatchObject({ model: 'test-model', max_tokens: 64, temperature: 0.5 });
  });

  it('retries injected 500s and timeouts, and records requests that keep failing', async () => {
    // The first 3 requests fail with 500, the next 2 hang; questions whose answer is a multiple of 5 always fail.
    const doomed = (question: string | null | undefined) => solveArithmetic(question ?? '')! % 5 === 0;
    const server = await serve({
      faults: { errorFirst: 3, hangFirst: 2 },
      rule: (req, i) => (doomed(req.messages.at(-1)!.content) ? { fault: 'error' } : arithmeticRule(req, i)),
    });
    const out = await tmp();
    const run = await keiko(['eval', '-e', 'arithmetic', '-m', 'm', '-b', server.baseUrl, '-n', '30', '-c', '8', '--timeout', '0.5', '--retries', '3', '--json', '--out', out]);
    expect(run.code).toBe(0);
    const results = await readResults(await onlyRun(out));
    expect(results).toHaveLength(30);
    const failing = results.filter((r) => doomed(r.prompt.at(-1)!.content));
    const healthy = results.filter((r) => !failing.includes(r));
    expect(failing.length).toBeGreaterThan(0);
    expect(healthy.every((r) => r.reward === 1 && !r.error)).toBe(true);
    for (const r of failing) {
      expect(r.reward).toBe(0);
      expect(r.stopReason).toBe('error');
      expect(r.error).toMatchObject({ code: 'sampler_error' });
      expect(r.error!.message).toMatch(/500.*after 4 attempts/);
    }
    const summary = JSON.parse(run.stdout) as { errors: number; errorCodes: Record<string, number> };
    expect(summary.errors).toBe(failing.length);
    expect(summary.errorCodes).toEqual({ sampler_error: failing.length });
  });

  it('resumes an interrupted eval without redoing finished rollouts', async () => {
    // 80 rollouts, 2 at a time, 150 ms each: ~6 s, so the interrupt lands mid-run even on a busy machine.
    const server = await serve({ rule: arithmeticRule, latencyMs: 150 });
    const out = await tmp();
    const args = ['eval', '-e', 'arithmetic', '-m', 'm', '-b', server.baseUrl, '-n', '40', '-r', '2', '-c', '2', '--out', out];
    let interrupted = false;
    const first = await keiko(args, {
      onStderr: (text, kill) => {
        // Interrupt once the progress line shows some progress.
        if (!interrupted && /eval ([1-5]\d)\/80/.test(text)) {
          interrupted = true;
          kill('SIGINT');
        }
      },
    });
    expect(first.code).toBe(130);
    const runDir = await onlyRun(out);
    const runId = runDir.split('/').at(-1)!;
    expect(first.stderr).toContain(`--resume ${runId}`);
    expect(RunManifest.parse(await readJson(join(runDir, 'run.json'))).status).toBe('interrupted');
    const done = (await readResults(runDir)).length;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(80);

    // Simulate a crash mid-write on top of the clean interruption.
    await writeFile(join(runDir, 'results.jsonl'), `${await readFile(join(runDir, 'results.jsonl'), 'utf8')}{"schemaVersion":1,"exam`);
    const before = server.generationCount;
    const second = await keiko(['eval', '--out', out, '--resume', runId, '-c', '8']);
    expect(second.code).toBe(0);
    const results = await readResults(runDir);
    expect(results).toHaveLength(80);
    expect(new Set(results.map((r) => `${r.exampleId}/${r.sample}`)).size).toBe(80);
    expect(server.generationCount - before).toBe(80 - done);
    expect(RunManifest.parse(await readJson(join(runDir, 'run.json')))).toMatchObject({ status: 'completed', summary: { rollouts: 80 } });
  });

  it('resumes a --test-server run with its stored settings', async () => {
    const out = await tmp();
    const first = await keiko(['eval', '-e', 'arithmetic', '--test-server', 'arithmetic', '-n', '5', '--rollout-timeout', '30', '--out', out]);
    expect(first.code).toBe(0);
    const runDir = await onlyRun(out);
    const lines = (await readFile(join(runDir, 'results.jsonl'), 'utf8')).trim().split('\n');
    await writeFile(join(runDir, 'results.jsonl'), `${lines.slice(0, 2).join('\n')}\n`);
    const second = await keiko(['eval', '--out', out, '--resume', runDir.split('/').at(-1)!, '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ examples: 5, meanReward: 1, config: { testServer: 'arithmetic', rolloutTimeoutS: 30 } });
    expect(await readResults(runDir)).toHaveLength(5);
  });

  it('reads settings from a --config TOML file, with flags overriding it', async () => {
    const dir = await tmp();
    const file = join(dir, 'eval.toml');
    await writeFile(file, 'env = "arithmetic"\ntestServer = "arithmetic"\nexamples = 6\nrolloutsPerExample = 2\n\n[envArgs]\ndigits = 2\n\n[sampling]\ntemperature = 0.5\n');
    const run = await keiko(['eval', '--config', file, '-n', '3', '--out', join(dir, 'runs'), '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      examples: 3,
      rolloutsPerExample: 2,
      meanReward: 1,
      config: { env: 'arithmetic', testServer: 'arithmetic', examples: 3, envArgs: { digits: 2 }, sampling: { temperature: 0.5 } },
    });
    expect(await readResults(await onlyRun(join(dir, 'runs')))).toHaveLength(6);
  });

  it('scores malformed model output 0 without crashing the rollout', async () => {
    const server = await serve({ rule: noisyArithmeticRule });
    const out = await tmp();
    const run = await keiko(['eval', '-e', 'arithmetic', '-m', 'm', '-b', server.baseUrl, '-n', '14', '--out', out]);
    expect(run.code).toBe(0);
    const results = await readResults(await onlyRun(out));
    const broken = results.filter((r) => r.completion[0]!.content === '<answer>oops, no closing tag');
    expect(broken.length).toBe(2);
    for (const r of broken) {
      expect(r.stopReason).toBe('terminated');
      expect(r.reward).toBe(0);
      expect(r.error).toBeUndefined();
    }
    const right = results.filter((r) => r.reward === 1);
    expect(right.length).toBeGreaterThan(0);
    for (const r of right) expect(r.completion[0]!.content).toContain(`<answer>${solveArithmetic(r.prompt.at(-1)!.content ?? '')}</answer>`);
  });

  it('returns malformed tool calls to the model as tool errors and records the rollout', async () => {
    // First turn: a broken tool call (bad JSON, unknown tool or wrong argument type); second: an answer.
    const bad = [
      { name: 'calculate', arguments: '{"expression": "1+' },
      { name: 'no_such_tool', arguments: '{}' },
      { name: 'calculate', arguments: '{"expression": 12}' },
    ];
    const server = await serve({
      rule: (req, i) => (req.messages.some((m) => m.role === 'tool') ? '<answer>0</answer>' : { tool_calls: [bad[i % 3]!] }),
    });
    const out = await tmp();
    const run = await keiko(['eval', '-e', 'calculator', '-m', 'm', '-b', server.baseUrl, '-n', '3', '-c', '1', '--out', out]);
    expect(run.code).toBe(0);
    const results = await readResults(await onlyRun(out));
    expect(results).toHaveLength(3);
    for (const r of results) {
      const toolMessages = r.completion.filter((m) => m.role === 'tool');
      expect(toolMessages).toHaveLength(1);
      expect(toolMessages[0]!.content.toLowerCase()).toMatch(/error|unknown|invalid/);
      expect(r.stopReason).not.toBe('error');
      expect(r.reward).toBe(0);
      expect(r.metrics.tool_used).toBe(0);
    }
  });

  it('loads an environment module given by path', async () => {
    const dir = await tmp();
    const modulePath = join(dir, 'shout-env.ts');
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(modulePath, shoutEnvModule());
    const runs = join(dir, 'runs');
    const run = await keiko(['eval', '-e', modulePath, '--env-args', '{"words":["x","y","z"]}', '--test-server', 'echo', '--out', runs, '--json']);
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { env: string; examples: number; meanReward: number };
    expect(summary).toMatchObject({ env: 'shout', examples: 3, meanReward: 1 });
  });
});

describe('keiko eval as a CI gate', () => {
  // Questions whose answer is a multiple of 5 always get a 500: 6 of the first 30 arithmetic examples.
  const doomed = (question: string | null | undefined) => solveArithmetic(question ?? '')! % 5 === 0;
  const flaky = () => serve({ rule: (req, i) => (doomed(req.messages.at(-1)!.content) ? { fault: 'error' } : arithmeticRule(req, i)) });

  it('reports errors apart from reward (table, metadata.json, --json) and gates on --max-error-rate and --fail-under', async () => {
    const server = await flaky();
    const out = await tmp();
    const base = ['eval', '-e', 'arithmetic', '-m', 'm', '-b', server.baseUrl, '-n', '30', '--retries', '0', '--out'];
    const table = await keiko([...base, join(out, 'a')]);
    expect(table.code, table.stderr).toBe(0); // no thresholds: a report, not a gate
    const errored = (await readResults(await onlyRun(join(out, 'a')))).filter((r) => r.error).length;
    expect(errored).toBeGreaterThan(0);
    expect(table.stdout).toMatch(new RegExp(`reward\\s+1\\.000 ± 0\\.000 \\(over ${30 - errored} scored rollouts\\)`));
    expect(table.stdout).toMatch(new RegExp(`error rate\\s+${((100 * errored) / 30).toFixed(1)}%`));
    const metadata = EvalMetadata.parse(await readJson(join(await onlyRun(join(out, 'a')), 'metadata.json')));
    expect(metadata).toMatchObject({ meanReward: 1, scoredRollouts: 30 - errored, errors: errored, errorRate: errored / 30, scoringErrors: 0 });
    expect(metadata.passAtK['1']).toBe(1);

    const strict = await keiko([...base, join(out, 'b'), '--max-error-rate', '0.05', '--fail-under', '0.9', '--json']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/FAILED: error rate 0\.\d+ \(\d+ of 30 rollouts\) is above --max-error-rate 0\.05/);
    expect(strict.stderr).toContain('--retry-errors');
    const json = JSON.parse(strict.stdout) as EvalMetadata;
    expect(json).toMatchObject({ meanReward: 1, errors: errored, errorRate: errored / 30, gate: { failUnder: 0.9, maxErrorRate: 0.05, passed: false } });
    expect(json.gate!.failures).toHaveLength(1);

    const lenient = await keiko([...base, join(out, 'c'), '--max-error-rate', '0.5', '--fail-under', '1', '--json']);
    expect(lenient.code, lenient.stderr).toBe(0);
    expect(JSON.parse(lenient.stdout)).toMatchObject({ gate: { passed: true, failures: [] } });

    const low = await keiko(['eval', '-e', 'arithmetic', '--test-server', 'echo', '-n', '4', '--fail-under', '0.5', '--out', join(out, 'd')]);
    expect(low.code).toBe(1);
    expect(low.stderr).toMatch(/FAILED: mean reward 0\.0000 is below --fail-under 0\.5/);
  });

  it('exits 1 when the server dies mid-run, then --resume --retry-errors runs only the errored rollouts', async () => {
    const server: TestServer = await serve({
      latencyMs: 20,
      rule: (req, i) => {
        if (i === 9) setImmediate(() => void server.close());
        return arithmeticRule(req, i);
      },
    });
    const out = await tmp();
    const first = await keiko(['eval', '-e', 'arithmetic', '-m', 'm', '-b', server.baseUrl, '-n', '30', '-c', '2', '--retries', '0', '--out', out]);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/FAILED: the model server became unreachable during the eval \(\d+ rollouts failed with sampler errors\)/);
    const runDir = await onlyRun(out);
    const before = await readResults(runDir);
    const failed = before.filter((r) => r.error).length;
    expect(failed).toBeGreaterThan(10);
    expect(RunManifest.parse(await readJson(join(runDir, 'run.json'))).status).toBe('failed');
    expect(EvalMetadata.parse(await readJson(join(runDir, 'metadata.json')))).toMatchObject({ status: 'failed', meanReward: 1, errors: failed });

    const revived = await serve({ rule: arithmeticRule });
    const second = await keiko(['eval', '--out', out, '--resume', runDir.split('/').at(-1)!, '--retry-errors', '-b', revived.baseUrl, '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(revived.generationCount).toBe(failed);
    expect(JSON.parse(second.stdout)).toMatchObject({ errors: 0, errorRate: 0, scoredRollouts: 30, meanReward: 1, status: 'completed' });
    const lines = (await readFile(join(runDir, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(30); // the errored lines were replaced, not appended to
  });

  it('passes --sampling-args and --header to the server, from flags or the same keys in a config file', async () => {
    const server = await serve({ rule: arithmeticRule });
    const dir = await tmp();
    const args = ['--sampling-args', '{"top_k":20,"min_p":0.05,"chat_template_kwargs":{"enable_thinking":false}}', '--header', 'X-Route: blue', '--header', 'X-Team:rl'];
    const run = await keiko(['eval', '-e', 'arithmetic', '-m', 'm', '-b', server.baseUrl, '-n', '2', '-T', '0.3', ...args, '--out', join(dir, 'a'), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const generation = server.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(generation).toHaveLength(2);
    for (const r of generation) {
      expect(r.body).toMatchObject({ top_k: 20, min_p: 0.05, chat_template_kwargs: { enable_thinking: false }, temperature: 0.3 });
      expect(r.headers).toMatchObject({ 'x-route': 'blue', 'x-team': 'rl' });
    }
    const stored = JSON.parse(run.stdout) as EvalMetadata;
    expect(stored.config.samplingArgs).toEqual({ top_k: 20, min_p: 0.05, chat_template_kwargs: { enable_thinking: false } });
    expect(JSON.stringify(stored)).not.toContain('blue'); // headers may hold credentials: never stored

    const file = join(dir, 'eval.toml');
    await writeFile(
      file,
      `env = "arithmetic"\nmodel = "m"\nbaseUrls = ["${server.baseUrl}"]\nexamples = 1\nheader = ["X-Route: green"]\nfailUnder = 0.5\nmaxErrorRate = 0\n\n[samplingArgs]\ntop_k = 7\n`,
    );
    const fromFile = await keiko(['eval', '--config', file, '--out', join(dir, 'b'), '--json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(server.requests.at(-1)).toMatchObject({ body: { top_k: 7 }, headers: { 'x-route': 'green' } });
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ gate: { failUnder: 0.5, maxErrorRate: 0, passed: true } });
  });
});

describe('keiko eval settings', () => {
  it('takes every file key as a flag (--key value, --key=value, kebab-case, nested) and prints the resolved config', async () => {
    const run = await keiko(['eval', '-e', 'arithmetic', '--test-server', 'arithmetic', '--examples', '3', '--group-size=2', '--sampling.topP=0.9', '--timeoutS', '30', '--print-config']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ env: 'arithmetic', testServer: 'arithmetic', examples: 3, groupSize: 2, sampling: { topP: 0.9 }, timeoutS: 30 });
  });

  it('reads the old names with a notice: -n/-r and --max-tokens stay, --rollouts is now --groupSize', async () => {
    const run = await keiko(['eval', '-e', 'arithmetic', '-m', 'm', '-n', '4', '-r', '3', '--rollouts', '2', '--max-tokens', '7', '-T', '0.5', '--print-config']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/'rollouts' is deprecated; use 'groupSize'/);
    expect(JSON.parse(run.stdout)).toMatchObject({ examples: 4, groupSize: 2, sampling: { maxTokens: 7, temperature: 0.5 } });
  });

  it('--help lists every setting with its default and doc', async () => {
    const run = await keiko(['eval', '--help']);
    expect(run.code).toBe(0);
    for (const key of ['env', 'envArgs', 'model', 'baseUrls', 'examples', 'groupSize', 'sampling.temperature', 'timeoutS', 'testServer', 'out', 'json']) expect(run.stdout).toContain(`--${key}`);
    expect(run.stdout).toMatch(/-r, --groupSize <n> +Rollouts per example .*\(default: 1\)/);
  });
});

describe('keiko eval (bad input)', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown flag, with a did-you-mean', ['eval', '-e', 'arithmetic', '--num-exampels', '3'], /unknown setting '--num-exampels' for keiko eval; did you mean '--examples'\?/],
    ['a non-numeric count', ['eval', '-e', 'arithmetic', '-n', 'abc'], /-n expects a number, got 'abc'/],
    ['a bad split', ['eval', '-e', 'arithmetic', '--split', 'dev'], /--split must be one of eval, train; got 'dev'/],
    ['an unknown environment', ['eval', '-e', 'nope', '--test-server', 'echo'], /unknown environment 'nope'; available: .*arithmetic/],
    ['invalid --env-args JSON', ['eval', '-e', 'arithmetic', '--test-server', 'echo', '--env-args', '{digits:3}'], /--env-args must be a JSON object/],
    ['env args the environment rejects', ['eval', '-e', 'arithmetic', '--test-server', 'echo', '--env-args', '{"digits":"many"}'], /digits/],
    ['a missing model', ['eval', '-e', 'arithmetic'], /missing -m\/--model/],
    ['a missing module', ['eval', '-e', './does/not/exist.ts', '--test-server', 'echo'], /not found/],
    ['an unknown run to resume', ['eval', '--resume', 'nope', '--out', tmpdir()], /no run 'nope'/],
    ['a missing config file', ['eval', '--config', join(tmpdir(), 'no-such-eval.toml')], /cannot read config file/],
    ['--retry-errors without --resume', ['eval', '-e', 'arithmetic', '--test-server', 'echo', '--retry-errors'], /--retry-errors goes with --resume/],
    ['a header without a colon', ['eval', '-e', 'arithmetic', '--test-server', 'echo', '--header', 'X-Route blue'], /header.*Name: value/],
    ['sampling args that are not a JSON object', ['eval', '-e', 'arithmetic', '--test-server', 'echo', '--sampling-args', '[1]'], /--sampling-args must be a JSON object/],
    ['a max error rate above 1', ['eval', '-e', 'arithmetic', '--test-server', 'echo', '--max-error-rate', '5'], /maxErrorRate|max-error-rate/],
  ];
  for (const [what, args, message] of cases) {
    it(`rejects ${what} with one clear message and exit 2`, async () => {
      const run = await keiko(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('rejects a config file with an unknown key, nested ones too, with a did-you-mean and exit 2', async () => {
    const file = join(await tmp(), 'eval.toml');
    await writeFile(file, 'env = "arithmetic"\ntestServer = "arithmetic"\n[sampling]\nmax_tokens = 3\n');
    const run = await keiko(['eval', '--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown setting 'sampling\.max_tokens' in .*eval\.toml for keiko eval; did you mean 'sampling\.maxTokens'/);
  });
  it('fails with exit 1 and a clear message when the server is unreachable', async () => {
    const run = await keiko(['eval', '-e', 'arithmetic', '-m', 'm', '-b', 'http://127.0.0.1:9/v1', '--out', await tmp()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot reach the model server: http:\/\/127\.0\.0\.1:9\/v1/);
  });
});
