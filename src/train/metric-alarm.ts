import { ConfigError } from '../core/errors.js';
import type { StepMetrics } from '../core/run-manifest.js';

/** One threshold on a per-step metric, e.g. a guard's rate `reward/disagreement`. */
export interface AlarmRule {
  /** A key of the `metrics.jsonl` line (guards of a `guardedRubric` appear as `reward/<guard>`). */
  metric: string;
  /** Fires when the metric is strictly above this value… */
  above: number;
  /** …for this many consecutive steps (default 1). */
  forSteps?: number;
  /** `alert` reports and goes on; `stop` also aborts the run (it ends `interrupted`, checkpointed). Default `alert`. */
  action?: 'alert' | 'stop';
}

/** A rule that fired, at the step it fired. */
export interface Alarm {
  metric: string;
  step: number;
  value: number;
  above: number;
  action: 'alert' | 'stop';
}

/**
 * Watches training steps for guard metrics crossing their thresholds. Feed it every step's metrics
 * (`observe`, e.g. from `trainGrpo`'s `onEvent`); a rule fires once, the first time its metric has
 * been above `above` for `forSteps` consecutive steps, calls `onAlarm`, and for `stop` rules aborts
 * `signal` (pass it to `trainGrpo`/`runTrainJob`, which finish the step, checkpoint and stop).
 */
export class MetricAlarms {
  readonly fired: Alarm[] = [];
  private readonly controller = new AbortController();
  private readonly rules: readonly Required<AlarmRule>[];
  private readonly streaks: number[];
  private readonly onAlarm: (alarm: Alarm) => void;

  constructor(options: { rules: readonly AlarmRule[]; onAlarm?: (alarm: Alarm) => void }) {
    if (!Array.isArray(options.rules) || options.rules.length === 0) throw new ConfigError('MetricAlarms needs at least one rule ({ metric, above })');
    this.rules = options.rules.map((r) => {
      if (typeof r.metric !== 'string' || r.metric === '') throw new ConfigError('every alarm rule needs a metric name');
      if (!Number.isFinite(r.above)) throw new ConfigError(`alarm on '${r.metric}' needs a finite 'above' threshold`);
      const forSteps = r.forSteps ?? 1;
      if (!Number.isInteger(forSteps) || forSteps < 1) throw new ConfigError(`alarm on '${r.metric}': forSteps must be a whole number ≥ 1`);
      const action = r.action ?? 'alert';
      if (action !== 'alert' && action !== 'stop') throw new ConfigError(`alarm on '${r.metric}': action must be 'alert' or 'stop'`);
      return { metric: r.metric, above: r.above, forSteps, action };
    });
    this.streaks = this.rules.map(() => 0);
    this.onAlarm = options.onAlarm ?? (() => {});
  }

  /** Aborted when a `stop` rule fires. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Checks one step's metrics; returns the alarms that fired on it. A missing or null metric breaks a streak. */
  observe(metrics: StepMetrics): Alarm[] {
    const out: Alarm[] = [];
    this.rules.forEach((rule, i) => {
      if (this.fired.some((f) => f.metric === rule.metric && f.above === rule.above)) return;
      const value = metrics[rule.metric];
      this.streaks[i] = typeof value === 'number' && value > rule.above ? this.streaks[i]! + 1 : 0;
      if (this.streaks[i]! < rule.forSteps) return;
      const alarm: Alarm = { metric: rule.metric, step: metrics.step, value: value as number, above: rule.above, action: rule.action };
      this.fired.push(alarm);
      out.push(alarm);
      this.onAlarm(alarm);
      if (rule.action === 'stop') this.controller.abort(new Error(`alarm: ${rule.metric} = ${String(value)} > ${rule.above} at step ${metrics.step}`));
    });
    return out;
  }
}
