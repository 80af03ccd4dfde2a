import type { RolloutProgress } from '../../rollout/index.js';
import { formatSeconds, TerminalProgress, type ProgressStream } from '../progress.js';

export { formatSeconds } from '../progress.js';

/** Shows eval progress: a bar with rate and ETA on a terminal, a line every few seconds otherwise. */
export class EvalProgress {
  private readonly terminal: TerminalProgress | undefined;
  private readonly started = performance.now();
  private lastLine = 0;
  private baseline = 0;

  constructor(
    private readonly total: number,
    private readonly stream: ProgressStream = process.stderr,
    private readonly enabled = true,
  ) {
    if (enabled && stream.isTTY) {
      this.terminal = new TerminalProgress(stream);
      this.terminal.bar('eval', total, { unit: 'rollout' });
    }
  }

  /** Rollouts taken from an earlier run do not count towards the rate. */
  setResumed(resumed: number): void {
    this.baseline = resumed;
    if (this.terminal) this.terminal.bar('eval', this.total, { start: resumed, unit: 'rollout' });
  }

  update(p: RolloutProgress): void {
    const reward = Number.isNaN(p.meanReward) ? '-' : p.meanReward.toFixed(3);
    if (this.terminal) {
      this.terminal.update(p.completed, `reward ${reward} · errors ${p.errors}`);
      return;
    }
    if (!this.enabled) return;
    const elapsed = (performance.now() - this.started) / 1000;
    const rate = elapsed > 0 ? (p.completed - this.baseline) / elapsed : 0;
    const eta = rate > 0 ? formatSeconds((p.total - p.completed) / rate) : '?';
    const now = performance.now();
    if (p.completed === p.total || now - this.lastLine > 2_000 || this.lastLine === 0) {
      this.lastLine = now;
      this.stream.write(`eval ${p.completed}/${p.total} | ${rate.toFixed(1)}/s | ETA ${eta} | reward ${reward} | errors ${p.errors}\n`);
    }
  }

  stop(): void {
    this.terminal?.stop();
  }
}
