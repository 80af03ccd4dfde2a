// Signals and orphans, end to end: a real `keiko train` with a real engine, in its own process
// group as a terminal runs a foreground job. Ctrl-C (SIGINT to the whole group) must reach only
// keiko, which finishes the step, saves, stops the engine and exits 130; a second Ctrl-C exits at
// once; SIGKILL of keiko must not leave its engine running.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunManifest, StepMetrics } from '../src/core/run-manifest.js';
import { EngineClient } from '../src/engine/client.js';
import { lastCheckpoint } from '../src/train/trainer-state.js';
import { hasEngine, repoRoot } from './helpers/keiko-cli.js';

/** Pids of live processes whose command line mentions `needle` (a fresh temp dir: only ours). */
function processesMentioning(needle: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'))
    .map((l) => l.trim().split(/\s+/))
    .filter(([, stat]) => !stat!.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

function metricsLines(runDir: string): string[] {
  const file = join(runDir, 'metrics.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe.skipIf(!hasEngine)('signals and orphans (real keiko train, real engine)', () => {
  let root: string;
  let model: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'keiko-signals-'));
    const corpus = join(root, 'corpus.txt');
    writeFileSync(corpus, Array.from({ length: 40 }, (_, i) => `${i % 10} + ${(i * 3) % 10} = ${(i % 10) + ((i * 3) % 10)}`).join('\n'));
    model = await EngineClient.createModel({ out: join(root, 'tiny'), corpus: [corpus], vocabSize: 300, hidden: 32, layers: 2, heads: 4, maxContext: 128 });
  }, 300_000);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
    for (const pid of processesMentioning(root)) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  /** `keiko train` as a terminal's foreground job: its own process group, which a Ctrl-C signals whole. */
  function train(name: string): { child: ChildProcess; runDir: string; output: () => string; exit: Promise<number | null> } {
    const args = [
      join(repoRoot, 'bin', 'keiko.js'), 'train', `--model=${model}`, '--sftSteps=0', '--envArgs.digits=1', '--envArgs.count=8',
      '--steps=500', '--promptsPerStep=4', '--groupSize=2', '--maxTokens=4', '--checkpointEvery=1000', '--evalExamples=2',
      '--evalGroupSize=1', `--outDir=${root}`, `--runName=${name}`,
    ];
    // PYTHONPATH: this checkout's engine sources, whatever the venv has installed.
    const env = { ...process.env, NO_COLOR: '1', PYTHONPATH: join(repoRoot, 'engine') };
    const child = spawn(process.execPath, args, { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? -1 : null))));
    return { child, runDir: join(root, name), output: () => out, exit };
  }

  it('Ctrl-C to the process group: keiko finishes the step, saves a checkpoint, stops the engine and exits 130', async () => {
    const run = train('ctrl-c');
    expect(await waitFor(() => metricsLines(run.runDir).length >= 2, 240_000), run.output()).toBe(true);
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exit, run.output()).toBe(130);
    const steps = metricsLines(run.runDir).map((l) => StepMetrics.parse(JSON.parse(l)).step);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    // the engine was alive to save: the interrupted step is checkpointed
    expect(lastCheckpoint(join(run.runDir, 'checkpoints'))?.state.step, run.output()).toBe(steps.at(-1));
    expect(run.output()).not.toMatch(/engine died|unreachable/);
    expect(RunManifest.parse(JSON.parse(readFileSync(join(run.runDir, 'run.json'), 'utf8'))).status).toBe('interrupted');
    expect(await waitFor(() => processesMentioning(model).length === 0, 10_000)).toBe(true);
  }, 400_000);

  it('a second Ctrl-C exits at once, leaving no engine and no torn metrics line', async () => {
    const run = train('twice');
    expect(await waitFor(() => metricsLines(run.runDir).length >= 1, 240_000), run.output()).toBe(true);
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await waitFor(() => run.output().includes('finishing the current step'), 30_000)).toBe(true);
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exit).toBe(130);
    for (const line of metricsLines(run.runDir)) StepMetrics.parse(JSON.parse(line));
    expect(await waitFor(() => processesMentioning(model).length === 0, 10_000)).toBe(true);
  }, 400_000);

  it('SIGKILL of keiko leaves no orphaned engine', async () => {
    const run = train('kill9');
    expect(await waitFor(() => metricsLines(run.runDir).length >= 1, 240_000), run.output()).toBe(true);
    expect(processesMentioning(model).length).toBeGreaterThan(0); // the engine runs
    process.kill(-run.child.pid!, 'SIGKILL'); // keiko's whole group: no handler runs; the engine is in its own group
    await run.exit;
    expect(await waitFor(() => processesMentioning(model).length === 0, 30_000)).toBe(true);
  }, 400_000);
});
