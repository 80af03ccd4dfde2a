import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointDirName, lastCheckpoint, listCheckpoints, pruneCheckpoints, readTrainerState, writeTrainerState, type TrainerState } from './trainer-state.js';

function state(step: number): TrainerState {
  return { schemaVersion: 1, kind: 'grpo', step, epoch: 0, position: step * 2, rng: [1, 2, 3, 4], elapsed: step, policyVersion: step, savedAt: 'now', config: {} };
}

describe('checkpoints', () => {
  it('lists only complete checkpoints and finds the last', async () => {
    const root = mkdtempSync(join(tmpdir(), 'keiko-ckpt-'));
    for (const step of [2, 4, 6]) {
      const dir = join(root, checkpointDirName(step));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), '{}');
      if (step !== 6) await writeTrainerState(dir, state(step)); // step 6: killed before keiko's state was written
    }
    mkdirSync(join(root, checkpointDirName(8)));
    await writeTrainerState(join(root, checkpointDirName(8)), state(8)); // no weights: incomplete
    expect(listCheckpoints(root).map((c) => c.state.step)).toEqual([2, 4]);
    expect(lastCheckpoint(root)?.state.position).toBe(8);
    pruneCheckpoints(root, 1);
    expect(listCheckpoints(root).map((c) => c.state.step)).toEqual([4]);
  });

  it('treats a corrupt state file as incomplete', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-ckpt-'));
    writeFileSync(join(dir, 'keiko-trainer-state.json'), '{"step": "x"');
    expect(readTrainerState(dir)).toBeUndefined();
  });
});
