import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore } from './run-store.js';
import { RunWriter } from './run-writer.js';
import { formatRunsTable } from './runs-table.js';

describe('runs table', () => {
  it("shows an eval run's mean reward as its eval score", async () => {
    const runsDir = await mkdtemp(join(tmpdir(), 'keiko-runs-'));
    // What `keiko eval` writes: a manifest whose summary holds the rollouts and their mean reward.
    const run = await RunWriter.create({ runsDir, id: 'eval-1', kind: 'eval', env: 'arithmetic', model: 'm', now: new Date('2026-05-22T13:45:01Z') });
    await run.finish({ status: 'completed', summary: { rollouts: 8, meanReward: 0.625 } });
    const { runs } = await new RunStore({ runsDir }).listRuns();
    expect(runs[0]).toMatchObject({ id: 'eval-1', meanReward: 0.625, evalReward: 0.625 });
    const [header, line] = formatRunsTable({ runs }).split('\n');
    expect(header!.split(/\s+/).at(-1)).toBe('EVAL');
    expect(line!.split(/\s+/).at(-1)).toBe('0.625');
  });
});
