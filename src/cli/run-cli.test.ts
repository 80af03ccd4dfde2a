import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorMessage } from './run-cli.js';

describe('errorMessage', () => {
  it('prints a bad output path as one line, not a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-runcli-'));
    try {
      writeFileSync(join(dir, 'file'), 'x');
      const error = await mkdir(join(dir, 'file', 'runs'), { recursive: true }).catch((e: unknown) => e);
      const line = errorMessage(error);
      expect(line).toMatch(/^cannot mkdir .*file.*: a path component is not a folder \(ENOTDIR\)$/);
      expect(line).not.toContain('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a full disk', () => {
    const error = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', path: '/runs/x/results.jsonl' });
    expect(errorMessage(error)).toBe('cannot write /runs/x/results.jsonl: no space left on the device (ENOSPC)');
  });
});
