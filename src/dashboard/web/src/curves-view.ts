import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { StepMetrics } from '../../../core/run-manifest.js';
import { h, mount } from './dom.js';
import { alignSeries, curveKeys, smooth, TITLES } from './series.js';

/** Colors of compared runs, in order. */
export const RUN_COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f'];

export interface CurvesState {
  smoothing: number;
  xAxis: 'step' | 'time';
}

/**
 * Training curves for one or more runs: a chart per metric (reward with its ±std band when one run
 * is shown), a smoothing slider and a step/time x axis. `update` redraws with new rows in place.
 */
export class CurvesView {
  readonly el: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly charts = new Map<string, { plot: uPlot; box: HTMLElement; seriesCount: number }>();
  private rowsByRun: StepMetrics[][] = [];
  private state: CurvesState = { smoothing: 0.6, xAxis: 'step' };
  private readonly onResize = () => this.resize();

  constructor(private readonly runIds: string[]) {
    const slider = h('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: this.state.smoothing, id: 'smoothing' });
    const shown = h('span', { class: 'mono' }, this.state.smoothing.toFixed(2));
    slider.addEventListener('input', () => {
      this.state.smoothing = Number(slider.value);
      shown.textContent = this.state.smoothing.toFixed(2);
      this.render();
    });
    const axis = h('select', { id: 'x-axis' }, h('option', { value: 'step' }, 'step'), h('option', { value: 'time' }, 'time (min)'));
    axis.addEventListener('change', () => {
      this.state.xAxis = axis.value as CurvesState['xAxis'];
      this.rebuild();
    });
    const legend = runIds.length > 1 ? h('div', { class: 'legend' }, runIds.map((id, i) => h('span', { class: 'chip', style: `border-color:${RUN_COLORS[i % RUN_COLORS.length]}` }, h('i', { style: `background:${RUN_COLORS[i % RUN_COLORS.length]}` }), id))) : null;
    this.grid = h('div', { class: 'charts' });
    this.el = h('section', { class: 'curves' }, h('div', { class: 'controls' }, h('label', {}, 'smoothing ', slider, ' ', shown), h('label', {}, 'x axis ', axis), legend), this.grid);
    window.addEventListener('resize', this.onResize);
  }

  /** Sets the metrics rows (one array per run, in `runIds` order) and redraws. */
  update(rowsByRun: StepMetrics[][]): void {
    this.rowsByRun = rowsByRun;
    const keys = curveKeys(rowsByRun);
    if (keys.join('\n') !== [...this.charts.keys()].join('\n')) this.rebuild();
    else this.render();
  }

  /** Removes charts and listeners. */
  destroy(): void {
    window.removeEventListener('resize', this.onResize);
    for (const { plot } of this.charts.values()) plot.destroy();
    this.charts.clear();
  }

  private rebuild(): void {
    for (const { plot } of this.charts.values()) plot.destroy();
    this.charts.clear();
    mount(this.grid);
    const keys = curveKeys(this.rowsByRun);
    if (keys.length === 0) {
      mount(this.grid, h('p', { class: 'muted' }, 'No metrics yet.'));
      return;
    }
    for (const key of keys) {
      const data = this.dataFor(key);
      const box = h('div', { class: 'chart', 'data-metric': key });
      this.grid.append(box);
      const plot = new uPlot(this.options(key, data.length - 1, box), data, box);
      this.charts.set(key, { plot, box, seriesCount: data.length - 1 });
      box.dataset.points = String(data[0]!.length);
    }
  }

  private render(): void {
    for (const [key, chart] of this.charts) {
      const data = this.dataFor(key);
      if (data.length - 1 !== chart.seriesCount) return this.rebuild();
      chart.plot.setData(data);
      chart.box.dataset.points = String(data[0]!.length);
    }
  }

  /** uPlot data for one metric: [x, series…]. One run: value (raw + smoothed) and ±std for reward. */
  private dataFor(key: string): uPlot.AlignedData {
    const xOf = (r: StepMetrics) => (this.state.xAxis === 'step' ? r.step : r.time / 60);
    const perRun = this.rowsByRun.map((rows) => {
      const own = rows.filter((r) => typeof r[key] === 'number');
      return { x: own.map(xOf), y: own.map((r) => r[key] as number), std: own.map((r) => (typeof r.rewardStd === 'number' ? r.rewardStd : null)) };
    });
    const [xs, ys] = alignSeries(perRun);
    // sparse series (evals every N steps) are shown as measured
    const w = key === 'evalReward' ? 0 : this.state.smoothing;
    const series: (number | null)[][] = [];
    if (this.runIds.length === 1) {
      const raw = ys[0]!;
      const sm = smooth(raw, w);
      series.push(sm);
      if (w > 0) series.push(raw);
      if (key === 'reward' && perRun[0]!.std.some((s) => s !== null)) {
        const [, [std]] = alignSeries([{ x: perRun[0]!.x, y: perRun[0]!.std }]);
        const sstd = smooth(std!, w);
        series.push(sm.map((m, i) => (m === null || sstd[i] == null ? null : m + sstd[i]!)));
        series.push(sm.map((m, i) => (m === null || sstd[i] == null ? null : m - sstd[i]!)));
      }
    } else {
      for (const y of ys) series.push(smooth(y, w));
    }
    return [xs, ...series];
  }

  private options(key: string, seriesCount: number, box: HTMLElement): uPlot.Options {
    const series: uPlot.Series[] = [{ label: this.state.xAxis === 'step' ? 'step' : 'minutes' }];
    const sparse = key === 'evalReward';
    if (this.runIds.length === 1) {
      const color = RUN_COLORS[0]!;
      series.push({ label: key, stroke: color, width: 2, spanGaps: true, points: { show: sparse } });
      let i = 1;
      if (key !== 'evalReward' && this.state.smoothing > 0 && i < seriesCount) {
        series.push({ label: 'raw', stroke: 'rgba(37,99,235,0.25)', width: 1, spanGaps: true, points: { show: false } });
        i++;
      }
      if (i + 2 <= seriesCount) {
        series.push({ label: '+std', stroke: 'rgba(37,99,235,0.35)', dash: [4, 4], width: 1, spanGaps: true, points: { show: false } });
        series.push({ label: '−std', stroke: 'rgba(37,99,235,0.35)', dash: [4, 4], width: 1, spanGaps: true, points: { show: false } });
      }
    } else {
      this.runIds.forEach((id, i) => series.push({ label: id, stroke: RUN_COLORS[i % RUN_COLORS.length]!, width: 2, spanGaps: true, points: { show: sparse } }));
    }
    const bands: uPlot.Band[] = series.length >= 4 && series[series.length - 1]!.label === '−std' ? [{ series: [series.length - 2, series.length - 1], fill: 'rgba(37,99,235,0.08)' }] : [];
    return {
      title: key === 'reward' && this.runIds.length > 1 ? 'reward (mean)' : (TITLES[key] ?? key),
      width: chartWidth(box),
      height: 200,
      series,
      bands,
      scales: { x: { time: false } },
      axes: [{ size: 30 }, { size: 50 }],
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
    };
  }

  private resize(): void {
    for (const { plot, box } of this.charts.values()) plot.setSize({ width: chartWidth(box), height: 200 });
  }
}

function chartWidth(box: HTMLElement): number {
  return Math.max(280, Math.floor((box.parentElement?.clientWidth ?? 900) / (window.innerWidth > 1100 ? 2 : 1)) - 24);
}
