import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { MetricAlarms, type Alarm } from './metric-alarm.js';

const step = (n: number, rate: number | null) => ({ schemaVersion: 1 as const, step: n, time: n, 'reward/disagreement': rate });

describe('MetricAlarms', () => {
  it('fires once after forSteps consecutive steps above the threshold; stop aborts the signal', () => {
    const seen: Alarm[] = [];
    const alarms = new MetricAlarms({ rules: [{ metric: 'reward/disagreement', above: 0.2, forSteps: 2, action: 'stop' }], onAlarm: (a) => seen.push(a) });
    expect(alarms.observe(step(1, 0.3))).toEqual([]);
    expect(alarms.observe(step(2, 0.1))).toEqual([]); // streak broken
    expect(alarms.observe(step(3, 0.25))).toEqual([]);
    expect(alarms.signal.aborted).toBe(false);
    expect(alarms.observe(step(4, 0.5))).toEqual([{ metric: 'reward/disagreement', step: 4, value: 0.5, above: 0.2, action: 'stop' }]);
    expect(alarms.signal.aborted).toBe(true);
    expect(alarms.observe(step(5, 0.9))).toEqual([]);
    expect(seen).toHaveLength(1);
  });
  it('alert does not abort; a null or missing metric breaks the streak', () => {
    const alarms = new MetricAlarms({ rules: [{ metric: 'reward/disagreement', above: 0.2, forSteps: 2 }] });
    alarms.observe(step(1, 0.5));
    alarms.observe(step(2, null));
    expect(alarms.observe(step(3, 0.5))).toEqual([]);
    expect(alarms.observe(step(4, 0.5))[0]?.action).toBe('alert');
    expect(alarms.signal.aborted).toBe(false);
  });
  it('rejects bad rules', () => {
    expect(() => new MetricAlarms({ rules: [] })).toThrow(ConfigError);
    expect(() => new MetricAlarms({ rules: [{ metric: 'x', above: Number.NaN }] })).toThrow(/finite/);
    expect(() => new MetricAlarms({ rules: [{ metric: 'x', above: 0, forSteps: 0 }] })).toThrow(/forSteps/);
  });
});
