// `keiko init NAME` must scaffold an environment whose generated test passes as written. The test
// builds a throwaway project in a temp dir where 'keiko' resolves to this checkout's sources (as if
// installed), runs the generated test with vitest there, then evaluates the env through the CLI.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin', 'keiko.js');

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((done, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, out }));
  });
}

describe('keiko init', () => {
  it('scaffolds an environment whose generated test passes, and that keiko eval can run', { timeout: 240_000 }, async () => {
    const project = await mkdtemp(join(tmpdir(), 'keiko-init-'));
    const init = await run(process.execPath, [bin, 'init', 'reverse-words', '--dir', project, '--keiko', 'file:../keiko-0.1.0.tgz'], root);
    expect(init.code).toBe(0);
    expect(init.out).toContain('reverse-words/reverse-words.ts');
    expect(init.out).toContain('npm install && npm test');
    const dir = join(project, 'reverse-words');
    const envFile = await readFile(join(dir, 'reverse-words.ts'), 'utf8');
    expect(envFile).toContain("from 'keiko'");
    // A project of its own, named after NAME (the package test installs and tests one for real).
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'reverse-words', type: 'module', scripts: { test: 'tsc --noEmit && vitest run' } });
    expect(manifest.dependencies).toMatchObject({ keiko: 'file:../keiko-0.1.0.tgz', zod: expect.stringMatching(/^\^4/) });
    expect(Object.keys(manifest.devDependencies).sort()).toEqual(['@types/node', 'tsx', 'typescript', 'vitest']);
    expect(JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8')).compilerOptions).toMatchObject({ module: 'NodeNext', strict: true });
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toMatch(/^# reverse-words\n[\s\S]*npm test/);

    // A project where 'keiko' is this checkout.
    await symlink(join(root, 'node_modules'), join(project, 'node_modules'));
    await writeFile(
      join(project, 'vitest.config.mjs'),
      `export default { resolve: { alias: [` +
        `{ find: /^keiko\\/testing$/, replacement: ${JSON.stringify(join(root, 'src/testing/index.ts'))} }, ` +
        `{ find: /^keiko$/, replacement: ${JSON.stringify(join(root, 'src/index.ts'))} }] }, ` +
        `test: { include: ['**/*.test.ts'] } };\n`,
    );
    const vitest = await run(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', project], project);
    expect(vitest.out).toMatch(/Tests\s+2 passed/);
    expect(vitest.code).toBe(0);

    // The same module through `keiko eval`, importing keiko by path this time.
    const direct = await mkdtemp(join(tmpdir(), 'keiko-init-eval-'));
    expect((await run(process.execPath, [bin, 'init', 'rev', '--dir', direct, '--import-from', join(root, 'src/index.ts')], root)).code).toBe(0);
    const evalRun = await run(process.execPath, [bin, 'eval', '-e', join(direct, 'rev', 'rev.ts'), '--test-server', 'echo', '--out', join(direct, 'runs'), '--json'], root);
    expect(evalRun.code).toBe(0);
    expect(evalRun.out).toMatch(/"env": "rev"/);
  });

  it('rejects a bad name and refuses to overwrite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keiko-init-bad-'));
    const bad = await run(process.execPath, [bin, 'init', 'Bad Name', '--dir', dir], root);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/invalid environment name 'Bad Name'; use lower-case letters/);
    expect((await run(process.execPath, [bin, 'init', 'ok', '--dir', dir], root)).code).toBe(0);
    // From a clone's sources the project depends on the clone itself.
    expect(JSON.parse(await readFile(join(dir, 'ok', 'package.json'), 'utf8')).dependencies.keiko).toBe(`file:${root}`);
    const again = await run(process.execPath, [bin, 'init', 'ok', '--dir', dir], root);
    expect(again.code).toBe(2);
    expect(again.out).toMatch(/refusing to overwrite .*--force/);
    const missing = await run(process.execPath, [bin, 'init'], root);
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/missing required argument 'name'[\s\S]*usage: keiko init/);
  });
});
