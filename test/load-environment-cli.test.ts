// Every command that loads an environment (eval, train, sft) loads it the same way: a built-in name,
// or a module whose loadEnvironment is a named export, the default export, or a method of the
// default export. The real CLI in a child process; no model server or engine is started: eval runs
// against the built-in test server, train and sft stop right after the environment is loaded.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keikoCli as keiko } from './helpers/keiko-cli.js';
import { shoutEnvModule, type LoaderExport } from './helpers/shout-env.js';

const shapes: Record<string, LoaderExport> = {
  'a named export': 'named',
  'the default export': 'default',
  'a method of the default export': 'method',
};

let dir: string;
const moduleFor = (shape: string) => join(dir, `${shape.replace(/\W+/g, '-')}.ts`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keiko-load-env-'));
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await writeFile(join(dir, 'config.json'), '{}'); // makes `dir` pass sft's model-folder check
  for (const [shape, loader] of Object.entries(shapes)) await writeFile(moduleFor(shape), shoutEnvModule(loader));
});

describe('one environment loader for every command', () => {
  for (const shape of Object.keys(shapes)) {
    it(`keiko eval loads a module with loadEnvironment as ${shape}`, async () => {
      const run = await keiko(['eval', '-e', moduleFor(shape), '--test-server', 'echo', '--out', join(dir, 'runs'), '--json', '--no-progress']);
      expect(run.out).toMatch(/"env": "shout"/);
      expect(run.code, run.out).toBe(0);
    });

    it(`keiko train loads a module with loadEnvironment as ${shape}`, async () => {
      // An invalid engine URL stops the job right after the environment is loaded and described.
      const run = await keiko(['train', `--env=${moduleFor(shape)}`, '--engineUrl=not-a-url', `--outDir=${join(dir, 'runs')}`]);
      expect(run.out, run.out).toMatch(/environment: shout · 3 training examples/);
      expect(run.out).toMatch(/invalid engine URL/);
    });

    it(`keiko sft loads a module with loadEnvironment as ${shape}`, async () => {
      // The module has no demonstrate(): sft says so, naming the loaded environment, before any engine starts.
      const run = await keiko(['sft', '--model', dir, '--env', moduleFor(shape)]);
      expect(run.out).toMatch(/environment 'shout' has no demonstrate\(\)/);
      expect(run.code).toBe(2);
    });
  }

  it('loads a built-in environment by name under every command', async () => {
    const evalRun = await keiko(['eval', '-e', 'arithmetic', '--test-server', 'arithmetic', '-n', '2', '--out', join(dir, 'runs'), '--json', '--no-progress']);
    expect(evalRun.code, evalRun.out).toBe(0);
    expect(evalRun.out).toMatch(/"env": "arithmetic"/);
    const trainRun = await keiko(['train', '--env=arithmetic', '--engineUrl=not-a-url', `--outDir=${join(dir, 'runs')}`]);
    expect(trainRun.out).toMatch(/environment: arithmetic · \d+ training examples/);
    // sft hands the built-in loader its arguments (which it rejects) before any engine starts.
    const sftRun = await keiko(['sft', '--model', dir, '--env', 'arithmetic', '--env-args', '{"digits":"many"}']);
    expect(sftRun.code).toBe(2);
    expect(sftRun.out).toMatch(/digits/);
  });
});
