import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/index.js';
import { Sandbox, SandboxUnavailableError } from './sandbox.js';

// Escape tests: each one is a program trying to get out, run in the real sandbox (bubblewrap must
// be installed: scripts/test.sh installs it). Each must be contained, and its outcome recorded.

let sandbox: Sandbox;
let hostDir: string;
let server: Server;
let port: number;

beforeAll(async () => {
  sandbox = await Sandbox.create({ limits: { wallMs: 20_000 } });
  hostDir = mkdtempSync(join(tmpdir(), 'keiko-sandbox-host-'));
  // What a grader keeps on the host: hidden tests the program must never read.
  writeFileSync(join(hostDir, 'hidden_test.py'), 'SECRET = "hidden-answer-1234"\n');
  server = createServer((socket) => socket.end('host says hi\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
});

afterAll(() => {
  server?.close();
  rmSync(hostDir, { recursive: true, force: true });
});

const py = (code: string, limits = {}) => sandbox.runCode({ language: 'python', code, limits });

describe('sandbox: ordinary programs', () => {
  it('runs Python, JavaScript and TypeScript, with stdin and files in the workspace', async () => {
    const p = await sandbox.runCode({ language: 'python', code: 'import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))', stdin: '1 2 3' });
    expect(p).toMatchObject({ outcome: 'ok', exitCode: 0, stdout: '6\n' });
    const js = await sandbox.runCode({ language: 'javascript', code: "const { add } = require('./lib.js'); console.log(add(2, 3));", files: { 'lib.js': 'exports.add = (a, b) => a + b;' } });
    expect(js).toMatchObject({ outcome: 'ok', stdout: '5\n' });
    const ts = await sandbox.runCode({ language: 'typescript', code: 'const n: number = 21;\nconsole.log(n * 2);' });
    expect(ts).toMatchObject({ outcome: 'ok', stdout: '42\n' });
    const failing = await py('raise ValueError("boom")');
    expect(failing.outcome).toBe('error');
    expect(failing.stderr).toContain('ValueError: boom');
  });

  it('keeps a workspace across runs and reads files back, refusing links out of it', async () => {
    const ws = sandbox.workspace({ 'a.txt': 'one' });
    try {
      await sandbox.run({ workspace: ws, command: ['/bin/sh', '-c', 'cat a.txt > b.txt; echo two >> b.txt; mkdir -p d; echo deep > d/c.txt; ln -s /etc/hostname link.txt; ln -s /etc linkdir'] });
      expect(ws.read('b.txt')).toBe('onetwo\n');
      expect(ws.read('d/c.txt')).toBe('deep\n');
      expect(ws.read('link.txt')).toBeUndefined(); // a symlink the program made: never followed by the host
      expect(ws.read('linkdir/hostname')).toBeUndefined();
      expect(ws.list()).toEqual(['a.txt', 'b.txt', 'd/c.txt']);
      expect(() => ws.read('../x')).toThrow(ConfigError);
    } finally {
      ws.dispose();
    }
    expect(existsSync(ws.path)).toBe(false);
  });

  it('concurrent runs are isolated from each other', async () => {
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        sandbox.run({ files: { 'me.txt': String(i) }, command: ['/bin/sh', '-c', 'cat me.txt; ls /sandbox; ls /tmp | wc -l'] }),
      ),
    );
    runs.forEach((r, i) => {
      expect(r.outcome).toBe('ok');
      expect(r.stdout.split('\n')[0]).toBe(`${i}me.txt`);
    });
  });

  it('rejects bad options with a message naming the fix', async () => {
    await expect(sandbox.run({ command: [] })).rejects.toThrow(/needs a command/);
    await expect(sandbox.run({ command: ['/bin/true'], limits: { wallMs: -1 } })).rejects.toThrow(/positive number/);
    await expect(sandbox.runCode({ language: 'cobol' as never, code: '' })).rejects.toThrow(/available: python, javascript, typescript/);
  });
});

describe('sandbox: escapes are contained and recorded', () => {
  it('network: no route to the host, nor anywhere else', async () => {
    const r = await py(`
import socket
for host, port in [("127.0.0.1", ${port}), ("1.1.1.1", 80)]:
    s = socket.socket(); s.settimeout(2)
    try:
        s.connect((host, port)); print("CONNECTED", host, s.recv(100))
    except OSError as e:
        print("blocked", host, type(e).__name__)
`);
    expect(r.outcome).toBe('ok');
    expect(r.stdout).not.toContain('CONNECTED');
    expect(r.stdout).toContain('blocked 127.0.0.1');
    expect(r.stdout).toContain('blocked 1.1.1.1');
  });

  it('writes outside the workspace fail; the host is untouched', async () => {
    const target = join(hostDir, 'pwned.txt');
    const r = await py(`
import os
for p in ["/usr/pwned", "/etc/pwned", "/pwned", "${target}"]:
    try:
        open(p, "w").write("x"); print("WROTE", p)
    except OSError as e:
        print("denied", p)
open("/sandbox/ok.txt", "w").write("fine"); print("workspace ok")
`);
    expect(r.stdout).not.toContain('WROTE');
    expect(r.stdout).toContain('workspace ok');
    expect(existsSync(target)).toBe(false);
    expect(existsSync('/usr/pwned')).toBe(false);
  });

  it('hidden tests and the grader on the host are out of sight', async () => {
    const r = await py(`
import os, glob
found = []
for p in ["${join(hostDir, 'hidden_test.py')}", "/work", "/root", "/home", "${process.cwd()}"]:
    found.append((p, os.path.exists(p)))
print(found)
hits = []
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev", "/usr")]
    hits += [os.path.join(root, f) for f in files if f == "hidden_test.py"]
print("HITS", hits)
`);
    expect(r.outcome).toBe('ok');
    expect(r.stdout).toContain('HITS []');
    expect(r.stdout).not.toContain('True');
  });

  it('a fork bomb hits the process limit and the run still ends', async () => {
    const r = await sandbox.run({ command: ['/bin/sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 2; echo survived'], limits: { processes: 32, wallMs: 8000 } });
    expect(r.stderr).toContain('Cannot fork');
    expect(r.stdout).toBe('survived\n');
    // The host can still start processes.
    expect((await sandbox.run({ command: ['/bin/echo', 'after'] })).stdout).toBe('after\n');
  });

  it('an infinite loop is stopped by the CPU limit; a sleeper by the wall clock', async () => {
    const spin = await py('while True: pass', { cpuSeconds: 1 });
    expect(spin.outcome).toBe('cpu_limit');
    const sleeper = await py('import time; time.sleep(60)', { wallMs: 1500 });
    expect(sleeper.outcome).toBe('timeout');
  });

  it('huge output is cut at the limit and the program killed', async () => {
    const r = await py('while True: print("x" * 4096)', { outputBytes: 10_000 });
    expect(r.outcome).toBe('output_limit');
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBeLessThanOrEqual(10_000);
  });

  it('too much memory fails inside the sandbox', async () => {
    const r = await py('x = bytearray(1 << 31)\nprint("allocated")', { memoryBytes: 256 * 2 ** 20 });
    expect(r.outcome).toBe('memory_limit');
    expect(r.stdout).not.toContain('allocated');
  });

  it('killing the parent, or every process it can see, leaves the host alive', async () => {
    const r = await py(`
import os, signal
print("ppid", os.getppid())
for target in [os.getppid(), 1, -1]:
    try:
        os.kill(target, signal.SIGKILL); print("sent", target)
    except OSError as e:
        print("refused", target)
`);
    // Its parent is the sandbox's own init (PID 1 of its namespace), which ignores the signal;
    // keiko's process is not visible to it at all.
    expect(r.outcome).toBe('ok');
    expect(r.stdout).toContain('ppid 1\n');
    expect(r.stdout).not.toContain(`ppid ${process.pid}`);
    // The host's process tree (this test runner) is still here and the sandbox still works.
    expect((await sandbox.run({ command: ['/bin/echo', 'alive'] })).stdout).toBe('alive\n');
  });
});

describe('sandbox: unavailable isolation is an error, not a fallback', () => {
  it('missing bubblewrap', async () => {
    await expect(Sandbox.create({ bwrap: '/nonexistent/bwrap' })).rejects.toThrow(SandboxUnavailableError);
    await expect(Sandbox.create({ bwrap: '/nonexistent/bwrap' })).rejects.toThrow(/apt-get install bubblewrap/);
  });
  it('bubblewrap that cannot create namespaces', async () => {
    // A stand-in for bwrap on a host without user namespaces: it fails the way bwrap does there.
    const binDir = mkdtempSync(join(tmpdir(), 'keiko-fake-bwrap-'));
    chmodSync(binDir, 0o755);
    const fake = join(binDir, 'bwrap');
    writeFileSync(fake, '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    const error = await Sandbox.create({ bwrap: fake }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SandboxUnavailableError);
    expect((error as Error).message).toMatch(/No permissions to create new namespace[\s\S]*User namespaces must be allowed/);
    rmSync(binDir, { recursive: true, force: true });
  });
});
