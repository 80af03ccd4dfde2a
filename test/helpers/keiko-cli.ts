// Runs the real CLI (./bin/keiko.js) in a child process, for end-to-end tests.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

/** Whether the Python engine is installed (scripts/setup.sh has run); engine tests skip without it. */
export const hasEngine = existsSync(join(repoRoot, 'engine', '.venv', 'bin', 'python')) || !!process.env.KEIKO_ENGINE_PYTHON;

/** Exit code and the interleaved stdout + stderr of `keiko <args>`. */
export function keikoCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'keiko.js'), ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, out }));
  });
}
