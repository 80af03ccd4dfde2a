import cliProgress from 'cli-progress';
import type { RolloutProgress } from '../../rollout/index.js';

/** Shows eval progress: a bar with rate and ETA on a terminal, a line every few seconds otherwise. */
export class EvalProgress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly started = performance.now();
  private lastLine = 0;
  private baseline = 0;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    enabled = true,
  ) {
    if (enabled && stream.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          stream,
          format: 'eval |{bar}| {value}/{total} | {rate}/s | ETA {etaText} | reward {reward} | errors {errors}',
          barsize: 30,
          hideCursor: true,
          clearOnComplete: false,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { rate: '0.0', etaText: '?', reward: '-', errors: 0 });
    }
    this.enabled = enabled;
  }

  private readonly enabled: boolean;

  /** Rollouts taken from an earlier run do not count towards the rate. */
  setResumed(resumed: number): void {
    this.baseline = resumed;
  }

  update(p: RolloutProgress): void {
    const elapsed = (performance.now() - this.started) / 1000;
    const fresh = p.completed - p.resumed;
    const rate = elapsed > 0 ? fresh / elapsed : 0;
    const left = p.total - p.completed;
    const eta = rate > 0 ? formatSeconds(left / rate) : '?';
    const reward = Number.isNaN(p.meanReward) ? '-' : p.meanReward.toFixed(3);
    if (this.bar) {
      this.bar.update(p.completed, { rate: rate.toFixed(1), etaText: eta, reward, errors: p.errors });
      return;
    }
    if (!this.enabled) return;
    const now = performance.now();
    if (p.completed === p.total || now - this.lastLine > 2_000 || this.lastLine === 0) {
      this.lastLine = now;
      this.stream.write(`eval ${p.completed}/${p.total} | ${rate.toFixed(1)}/s | ETA ${eta} | reward ${reward} | errors ${p.errors}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** "42s", "3m05s", "1h02m". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
