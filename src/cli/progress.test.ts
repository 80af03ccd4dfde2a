import { describe, expect, it } from 'vitest';
import { formatProgressLine, formatRate, TerminalProgress } from './progress.js';

const grpoInfo = 'reward 0.431 · sample 3.21s score 0.004s train 2.87s · skipped';

/** A terminal at the edge of the test: records what is written, as a TTY of `columns` columns. */
function recorder(columns: number, isTTY = true) {
  const writes: string[] = [];
  return { stream: { isTTY, columns, write: (t: string) => writes.push(t) }, writes, screen: () => writes.join('') };
}

/** The lines a terminal would show: each `\r` redraw replaces the line, `\x1b[K` is invisible. */
const drawn = (text: string) => text.split(/[\r\n]/).map((l) => l.replace(/\x1b\[K/g, '')).filter(Boolean);

describe('formatProgressLine', () => {
  it('keeps count, rate and ETA visible at 80 columns, shortening the info first', () => {
    const line = formatProgressLine({ label: 'grpo', value: 12, total: 200, rate: 0.2, etaS: 940, info: grpoInfo, unit: 'step' }, 80);
    expect(line.length).toBeLessThan(80);
    expect(line).toContain('12/200');
    expect(line).toContain('5.0s/step');
    expect(line).toContain('ETA 15m40s');
    expect(line).toMatch(/reward 0\.431.*…$/);
    expect(line).toContain('[');
  });

  it('shows the whole info and a wide bar when there is room', () => {
    const line = formatProgressLine({ label: 'grpo', value: 100, total: 200, rate: 0.2, etaS: 500, info: grpoInfo, unit: 'step' }, 160);
    expect(line).toContain(grpoInfo);
    expect(line).toContain(`[${'█'.repeat(15)}${'░'.repeat(15)}]`);
  });

  it('drops the info, then the bar, before the ETA on a narrow terminal', () => {
    const line = formatProgressLine({ label: 'eval', value: 3, total: 10, rate: 2, etaS: 3.5, info: grpoInfo, unit: 'rollout' }, 50);
    expect(line.length).toBeLessThan(50);
    expect(line).toContain('ETA 4s');
    expect(line).toContain('2.0 rollout/s');
    expect(line).not.toContain('reward');
  });

  it('says ? for an unknown rate and ETA', () => {
    expect(formatRate(0, 'step')).toBe('? step/s');
    expect(formatProgressLine({ label: 'sft', value: 0, total: 5, rate: Number.NaN, etaS: Number.NaN }, 80)).toContain('? it/s · ETA ?');
  });
});

describe('TerminalProgress', () => {
  it('redraws a bar that fits the terminal and leaves its last state when a line follows', () => {
    const t = recorder(80);
    const progress = new TerminalProgress(t.stream);
    progress.bar('grpo', 4, { unit: 'step' });
    for (let step = 1; step <= 4; step++) progress.update(step, grpoInfo);
    progress.line('eval after (step 4): held-out reward 0.500');
    const lines = drawn(t.screen());
    for (const l of lines) expect(l.length).toBeLessThan(80);
    expect(lines.some((l) => l.startsWith('grpo [') && l.includes('4/4') && l.includes('ETA'))).toBe(true);
    expect(t.screen()).toMatch(/4\/4[^\r]*\n[\s\S]*eval after \(step 4\)/);
  });

  it('shows a ticker with the elapsed time for a phase without a count', () => {
    const t = recorder(80);
    const progress = new TerminalProgress(t.stream);
    progress.tick('    training the tokenizer and writing the model');
    progress.stop();
    expect(drawn(t.screen())[0]).toBe('    training the tokenizer and writing the model · 0s');
  });

  it('writes only the lines it is given when the stream is not a terminal', () => {
    const t = recorder(80, false);
    const progress = new TerminalProgress(t.stream);
    progress.tick('loading');
    progress.bar('sft', 3);
    progress.update(1, 'loss 2.0');
    progress.line('done');
    expect(t.screen()).toBe('done\n');
  });
});
