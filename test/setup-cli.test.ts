// `keiko setup` and `keiko doctor` for real: a venv is created with the system Python; pip is pointed
// at an index that does not answer, so the test downloads nothing and checks the failure path (a
// clear message, exit 1, and a venv that doctor reports as lacking torch, with the fixing command).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keikoCli, repoRoot } from './helpers/keiko-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keiko-setup-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('keiko setup / doctor', () => {
  it('refuses a Python that does not run, naming the fix', async () => {
    const run = await keikoCli(['setup', '--venv', join(dir, 'never'), '--python', join(dir, 'no-python')]);
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/cannot run '.*no-python'; install Python ≥ 3\.10 .*apt-get install python3 python3-venv/);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('creates the venv, reports a pip failure clearly, and doctor then says what is missing and how to fix it', { timeout: 240_000 }, async () => {
    const venv = join(dir, 'venv');
    const run = await keikoCli(['setup', '--venv', venv, '--pip-arg=--index-url=http://127.0.0.1:9/simple', '--pip-arg=--retries=0', '--pip-arg=--timeout=1']);
    expect(run.out).toContain(`keiko setup → ${venv}`);
    expect(run.out).toMatch(/\$ \S*python\S* -m pip install --progress-bar off --constraint \S*engine\/constraints\.txt .*torch/);
    expect(run.out).toMatch(/pip could not install the engine's dependencies into .*; fix the error above and run 'keiko setup' again/);
    expect(run.code).toBe(1);
    expect(existsSync(join(venv, 'bin', 'python'))).toBe(true);
    expect(existsSync(join(venv, 'keiko-engine-setup.json'))).toBe(false);

    const doctor = await runKeiko(['doctor', '--json'], { KEIKO_ENGINE_VENV: venv, KEIKO_ENGINE_PYTHON: '' });
    expect(doctor.code).toBe(1);
    const checks = JSON.parse(doctor.out.slice(doctor.out.indexOf('['))) as { name: string; status: string; detail: string; fix?: string }[];
    expect(checks.find((c) => c.name === 'engine venv')).toMatchObject({ status: 'warn', detail: expect.stringContaining('setup did not finish'), fix: 'npx keiko setup' });
    expect(checks.find((c) => c.name === 'torch')).toMatchObject({ status: 'missing', fix: 'npx keiko setup' });
    expect(checks.find((c) => c.name === 'Node.js')?.status).toBe('ok');
    expect(checks.find((c) => c.name === 'free disk')?.detail).toMatch(/GiB free at/);
  });
});

/** `keiko <args>` with extra environment variables. */
function runKeiko(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'keiko.js'), ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, out }));
  });
}
