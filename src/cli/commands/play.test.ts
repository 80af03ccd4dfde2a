// `keiko play` runs as a real process through bin/keiko.js.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = resolve('bin/keiko.js');
const dir = mkdtempSync(join(tmpdir(), 'keiko-cli-play-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keiko = (...args: string[]) => spawnSync(process.execPath, [BIN, 'play', ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });

describe('keiko play', () => {
  it('random vs minimax at tic-tac-toe: per-seat results, an Elo below the reference, the games move by move', () => {
    const res = keiko('--game=tic-tac-toe', '--a=scripted:random', '--b=scripted:optimal', '--gamesPerSide=15', '--out=out');
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^X\s+0\s+\d+\s+\d+\s+0\s/m); // random never beats minimax
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { bySeat: Record<string, { games: number; wins: number; losses: number }>; ratings: Record<string, number> };
    expect(results.bySeat['X']!.games).toBe(15);
    expect(results.bySeat['O']!.wins).toBe(0);
    expect(results.ratings['scripted:random']).toBeLessThan(1000);
    expect(results.ratings['scripted:minimax']).toBe(1000);
    const games = readFileSync(join(dir, 'out', 'games.jsonl'), 'utf8').trim().split('\n');
    expect(games).toHaveLength(30);
    expect((JSON.parse(games[0]!) as { moves: unknown[] }).moves.length).toBeGreaterThanOrEqual(5);
  });

  it('bad players get a clear error and exit 2', () => {
    const missing = keiko('--game=nim');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('missing --a');
    const unknown = keiko('--a=scripted:genius');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown scripted player 'genius' for a; available: optimal, random");
    const same = keiko('--a=scripted:optimal');
    expect(same.stderr).toContain('a and b are the same player');
    const noModel = keiko('--a=model:/nonexistent');
    expect(noModel.stderr).toContain('is not a Hugging Face model directory');
  });
});
