import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const parentScript = fileURLToPath(new URL('./__fixtures__/lifeline-parent.ts', import.meta.url));

/** Alive = exists and is not a zombie (a dead child nobody has reaped yet). */
function isAlive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync('/proc/self/stat')) {
    if (!existsSync(stat)) return false;
    try {
      return readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

const started: ChildProcess[] = [];
const childPids: number[] = [];

/** Starts the stand-in parent in its own process group (like a shell does for a foreground job). */
async function startParent(): Promise<{ parent: ChildProcess; childPid: number; url: string; output: () => string }> {
  const parent = spawn(process.execPath, ['--import', 'tsx', parentScript], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(parent);
  let out = '';
  parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const ok = await waitFor(() => /child \d+ \S+\n/.test(out), 30_000);
  if (!ok) throw new Error(`fixture did not start its child: ${out}`);
  const [, pid, url] = /child (\d+) (\S+)\n/.exec(out)!;
  childPids.push(Number(pid));
  return { parent, childPid: Number(pid), url: url!, output: () => out };
}

afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const pid of childPids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('spawnChild', () => {
  it('keeps a Ctrl-C (SIGINT to the whole process group) from reaching the child: keiko stops it itself', async () => {
    const { parent, childPid, url, output } = await startParent();
    const exited = new Promise<number | null>((r) => parent.once('exit', (code) => r(code)));
    process.kill(-parent.pid!, 'SIGINT'); // what a terminal does on Ctrl-C
    await waitFor(() => output().includes('parent got SIGINT'), 10_000);
    expect(output()).toContain('parent got SIGINT');
    // the child did not get the signal: it still answers while the parent finishes its work
    const res = await fetch(`${url}/models`);
    expect(res.status).toBe(200);
    expect(isAlive(childPid)).toBe(true);
    expect(await exited).toBe(130);
    expect(isAlive(childPid)).toBe(false); // stopped by the parent before it exited
  }, 60_000);

  it('leaves no orphan when the parent is killed with SIGKILL: the child reads EOF on its lifeline and exits', async () => {
    const { parent, childPid } = await startParent();
    const exited = new Promise((r) => parent.once('exit', r));
    process.kill(parent.pid!, 'SIGKILL'); // no handler runs
    await exited;
    expect(await waitFor(() => !isAlive(childPid), 20_000)).toBe(true);
  }, 60_000);
});
