// The repository stands on its own: no document links outside it, and the README points to the
// architecture doc and the engine's contract.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const markdown = execFileSync('git', ['ls-files', '*.md'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);

describe('docs', () => {
  it('no markdown file links outside the repository', () => {
    expect(markdown.length).toBeGreaterThan(5);
    const outside: string[] = [];
    for (const file of markdown) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/\]\(([^)#\s]+)[^)]*\)|`(\.\.\/[^`\s]+)`/g)) {
        const target = m[1] ?? m[2]!;
        if (/^[a-z]+:/.test(target)) continue; // URLs
        const path = normalize(join(dirname(join(ROOT, file)), target));
        if (!path.startsWith(ROOT + '/')) outside.push(`${file}: ${target}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('relative links in the README and docs/ resolve', () => {
    const broken: string[] = [];
    for (const file of markdown.filter((f) => f === 'README.md' || f.startsWith('docs/'))) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)) {
        if (/^[a-z]+:/.test(m[1]!)) continue;
        if (!existsSync(join(dirname(join(ROOT, file)), m[1]!))) broken.push(`${file}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('(docs/architecture.md)');
  });
});
