// keiko as a dependency, end to end: `npm pack` (which builds through prepack), a fresh project made
// by `keiko init` whose package.json depends on the tarball, `npm install && npm test` there
// (type-checks a module importing 'keiko' and 'keiko/testing', runs the environment's vitest test),
// then the installed `keiko` binary: eval, doctor and the engine from the installed package. One
// pack and one install are shared by every test here (the npm registry must be reachable).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasEngine, repoRoot } from './helpers/keiko-cli.js';

interface Ran {
  code: number | null;
  out: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((done, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1', npm_config_audit: 'false', npm_config_fund: 'false', ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, out }));
  });
}

let work: string;
let tarball: string;
let project: string;
/** The installed binary, run the way `npx keiko` runs it. */
const keiko = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [join(project, 'node_modules', '.bin', 'keiko'), ...args], project, env);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keiko-package-'));
  const pack = await run('npm', ['pack', '--pack-destination', work], repoRoot);
  expect(pack.code, pack.out.slice(-3000)).toBe(0);
  const tgz = (await readdir(work)).find((f) => f.endsWith('.tgz'));
  expect(tgz, pack.out.slice(-2000)).toBeDefined();
  tarball = join(work, tgz!);
  // The project comes from this clone's `keiko init`, its keiko dependency pointing at the tarball.
  const init = await run(process.execPath, [join(repoRoot, 'bin', 'keiko.js'), 'init', 'word-flip', '--dir', work, '--keiko', `file:${tarball}`], repoRoot);
  expect(init.code, init.out).toBe(0);
  project = join(work, 'word-flip');
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], project);
  expect(install.code, install.out.slice(-3000)).toBe(0);
}, 900_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed keiko', () => {
  it('ships the compiled library and CLI, the engine sources and the dashboard build, and nothing else', async () => {
    const list = await run('tar', ['-tzf', tarball], work);
    const files = list.out.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    for (const needed of ['package.json', 'bin/keiko.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/testing/index.d.ts', 'dist/src/cli/main.js', 'dist/environments/index.js', 'engine/pyproject.toml', 'engine/constraints.txt', 'engine/keiko_engine/server.py', 'src/dashboard/web/dist/index.html', 'src/dashboard/web/dist/app.js']) {
      expect(files, needed).toContain(needed);
    }
    const allowed = /^(package\.json|README\.md|bin\/keiko\.js|dist\/(src|environments)\/.+\.(js|d\.ts)|engine\/(pyproject\.toml|constraints\.txt|README\.md|API\.md|keiko_engine\/[\w/]+\.py)|src\/dashboard\/web\/dist\/[\w.-]+)$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    expect(files.filter((f) => /\.test\.|\.map$|__pycache__/.test(f))).toEqual([]);
  });

  it('gives `keiko init NAME` a project that passes npm test: tsc over keiko and keiko/testing imports, then the vitest test', async () => {
    const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('word-flip');
    const test = await run('npm', ['test'], project);
    expect(test.out).toMatch(/Tests\s+2 passed/);
    expect(test.code, test.out.slice(-3000)).toBe(0);
  }, 300_000);

  it('runs `npx keiko eval` on the project\'s TypeScript environment against --test-server', async () => {
    const evalRun = await keiko(['eval', '-e', './word-flip.ts', '--test-server', 'echo', '-n', '4', '--out', 'runs', '--json']);
    expect(evalRun.code, evalRun.out).toBe(0);
    expect(evalRun.out).toMatch(/"env": "word-flip"/);
    expect(existsSync(join(project, 'node_modules', 'keiko', 'src', 'cli'))).toBe(false); // compiled, not run from sources
    // The shipped dashboard page is found: `keiko report` inlines it into one HTML file.
    const runId = (await readdir(join(project, 'runs')))[0]!;
    const report = await keiko(['report', join('runs', runId), '-o', 'report.html']);
    expect(report.code, report.out).toBe(0);
    expect(report.out).not.toMatch(/building the dashboard page/);
    expect(await readFile(join(project, 'report.html'), 'utf8')).toMatch(/<script[\s\S]*uplot/);
  }, 120_000);

  it('runs its binary without tsx or any dev dependency, and says how to load a .ts module without it', async () => {
    const tsx = join(project, 'node_modules', 'tsx');
    await rename(tsx, `${tsx}.off`);
    try {
      const help = await keiko(['--help']);
      expect(help.code, help.out).toBe(0);
      expect(help.out).toMatch(/Usage: keiko/);
      const builtin = await keiko(['eval', '-e', 'arithmetic', '--env-args', '{"digits":1}', '--test-server', 'arithmetic', '-n', '4', '--out', 'runs', '--json']);
      expect(builtin.code, builtin.out).toBe(0);
      expect(builtin.out).toMatch(/"env": "arithmetic"/);
      const ts = await keiko(['eval', '-e', './word-flip.ts', '--test-server', 'echo', '-n', '2', '--out', 'runs']);
      expect(ts.code).toBe(2);
      expect(ts.out).toMatch(/npm install --save-dev tsx/);
    } finally {
      await rename(`${tsx}.off`, tsx);
    }
  }, 120_000);

  it.skipIf(!hasEngine)('runs the engine from the installed package\'s own Python sources (keiko doctor)', async () => {
    const python = process.env.KEIKO_ENGINE_PYTHON ?? join(repoRoot, 'engine', '.venv', 'bin', 'python');
    const doctor = await keiko(['doctor', '--json'], { KEIKO_ENGINE_PYTHON: python });
    const checks = JSON.parse(doctor.out) as { name: string; status: string; detail: string }[];
    const engine = checks.find((c) => c.name === 'keiko_engine');
    expect(engine?.status).toBe('ok');
    expect(engine?.detail).toBe(join(project, 'node_modules', 'keiko', 'engine', 'keiko_engine'));
    expect(checks.find((c) => c.name === 'torch')?.status).toBe('ok');
    // With no engine Python anywhere, doctor says how to make one and exits 1.
    const none = await keiko(['doctor'], { KEIKO_ENGINE_PYTHON: '', KEIKO_ENGINE_VENV: join(work, 'no-venv') });
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/missing\s+engine venv\s+no engine Python at .*no-venv[\s\S]*fix: npx keiko setup/);
  }, 180_000);
});
