/** What one progress line shows. */
export interface ProgressLine {
  label: string;
  value: number;
  total: number;
  /** Items per second so far (NaN or 0 when not known yet). */
  rate: number;
  /** Seconds left (NaN or Infinity when not known yet). */
  etaS: number;
  /** The variable part (reward, loss…): shortened first when the line does not fit. */
  info?: string;
  /** Unit of `rate`, e.g. 'step' → "1.2 step/s" or "4.0s/step". */
  unit?: string;
}

const MAX_BAR = 30;

/** "3.1 it/s" when at least one per second, "4.2s/it" when slower. */
export function formatRate(rate: number, unit = 'it'): string {
  if (!(rate > 0) || !Number.isFinite(rate)) return `? ${unit}/s`;
  return rate >= 1 ? `${rate.toFixed(1)} ${unit}/s` : `${(1 / rate).toFixed(1)}s/${unit}`;
}

/**
 * One progress line that fits `width` columns: `label [bar] value/total · rate · ETA · info`. The
 * count, rate and ETA always stay; when the line is too long the info is shortened first (with
 * "…"), then the bar, which may vanish.
 */
export function formatProgressLine(p: ProgressLine, width: number): string {
  const fixed = `${p.value}/${p.total} · ${formatRate(p.rate, p.unit)} · ETA ${formatSeconds(p.etaS)}`;
  const info = p.info ? ` · ${p.info}` : '';
  const render = (bar: number, infoText: string) => {
    const fill = p.total > 0 ? Math.min(bar, Math.round((bar * p.value) / p.total)) : 0;
    const barText = bar > 0 ? `[${'█'.repeat(fill)}${'░'.repeat(bar - fill)}] ` : '';
    return `${p.label} ${barText}${fixed}${infoText}`;
  };
  const room = width - 1; // never write into the last column: some terminals wrap there
  // 1. The full line with the widest bar that fits, down to 10 cells.
  for (let bar = MAX_BAR; bar >= 10; bar--) if (render(bar, info).length <= room) return render(bar, info);
  // 2. Shorten the info (keeping a 10-cell bar) as long as something readable is left of it.
  const withoutInfo = render(10, '').length;
  if (info && room - withoutInfo >= 8) return render(10, `${info.slice(0, room - withoutInfo - 1)}…`);
  // 3. Drop the info, then shrink the bar.
  for (let bar = 10; bar >= 3; bar--) if (render(bar, '').length <= room) return render(bar, '');
  return render(0, '').slice(0, Math.max(room, 0));
}

/** The part of a `NodeJS.WriteStream` progress needs (a test can pass a recorder). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Progress on a terminal: a bar that redraws in place (`bar`/`update`), a ticker for phases that
 * have no count (`tick`: "creating a tiny model · 12s"), and `line` for text that stays. On
 * anything but a terminal it writes nothing itself; callers print their own periodic lines.
 */
export class TerminalProgress {
  readonly interactive: boolean;
  private current: { label: string; total: number; start: number; startedAt: number; unit: string; value: number; info: string } | undefined;
  private ticker: { timer: NodeJS.Timeout; label: string; startedAt: number } | undefined;
  private lastDraw = 0;

  constructor(private readonly stream: ProgressStream = process.stderr) {
    this.interactive = Boolean(stream.isTTY);
  }

  private get width(): number {
    return this.stream.columns && this.stream.columns > 0 ? this.stream.columns : 80;
  }

  /** Starts a bar of `total` items, `start` of them already done (they do not count towards the rate). */
  bar(label: string, total: number, options: { start?: number; unit?: string } = {}): void {
    this.clear();
    const start = options.start ?? 0;
    this.current = { label, total, start, startedAt: performance.now(), unit: options.unit ?? 'it', value: start, info: '' };
    this.draw(true);
  }

  update(value: number, info = ''): void {
    if (!this.current) return;
    this.current.value = value;
    this.current.info = info;
    this.draw(value >= this.current.total);
  }

  /** Shows `label · <seconds>s` redrawn every second until the next bar, line or stop. */
  tick(label: string): void {
    this.clear();
    if (!this.interactive) return;
    const startedAt = performance.now();
    const render = () => this.write(`\r${fit(`${label} · ${formatSeconds((performance.now() - startedAt) / 1000)}`, this.width)}\x1b[K`);
    const timer = setInterval(render, 1000);
    timer.unref();
    this.ticker = { timer, label, startedAt };
    render();
  }

  /** Ends the current bar or ticker and writes a line that stays. */
  line(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
  }

  /** Ends the current bar or ticker, leaving its last state on screen. */
  stop(): void {
    this.clear();
  }

  private clear(): void {
    if (this.ticker) {
      clearInterval(this.ticker.timer);
      this.ticker = undefined;
      this.write('\r\x1b[K');
    }
    if (this.current) {
      this.draw(true);
      this.write('\n');
      this.current = undefined;
    }
  }

  private draw(force: boolean): void {
    const c = this.current;
    if (!c || !this.interactive) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const elapsed = (now - c.startedAt) / 1000;
    const rate = elapsed > 0 ? (c.value - c.start) / elapsed : Number.NaN;
    const etaS = rate > 0 ? (c.total - c.value) / rate : Number.NaN;
    this.write(`\r${formatProgressLine({ label: c.label, value: c.value, total: c.total, rate, etaS, info: c.info, unit: c.unit }, this.width)}\x1b[K`);
  }

  private write(text: string): void {
    if (this.interactive) this.stream.write(text);
  }
}

function fit(text: string, width: number): string {
  return text.length < width ? text : `${text.slice(0, Math.max(width - 2, 0))}…`;
}

/** "42s", "3m05s", "1h02m"; "?" when not known. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
