import type { DataSource } from './data-source.js';
import { fmt, h, mount } from './dom.js';

/**
 * Eval results: pass@k averaged over examples, mean rubric scores, and a per-example table.
 * Clicking an example opens its rollouts.
 */
export class EvalView {
  readonly el: HTMLElement;
  private readonly body = h('div', {});
  private source: string;
  private threshold: number | undefined;

  constructor(
    private readonly data: DataSource,
    private readonly runId: string,
    sources: string[],
    private readonly openRollouts: (source: string, search: string) => void,
  ) {
    this.source = sources[sources.length - 1] ?? 'results';
    const pick = h('select', { id: 'eval-source' }, sources.map((s) => h('option', { value: s, selected: s === this.source }, s)));
    pick.addEventListener('change', () => {
      this.source = pick.value;
      void this.load();
    });
    const threshold = h('input', { type: 'number', id: 'eval-threshold', step: 0.1, value: 1, title: 'a sample passes when reward ≥ threshold' });
    threshold.addEventListener('change', () => {
      this.threshold = Number(threshold.value);
      void this.load();
    });
    this.el = h('section', { class: 'evals' }, h('div', { class: 'controls' }, h('label', {}, 'eval ', pick), h('label', {}, 'pass if reward ≥ ', threshold)), sources.length ? this.body : h('p', { class: 'muted' }, 'This run has no eval results.'));
    if (sources.length) void this.load();
  }

  private async load(): Promise<void> {
    try {
      const { summary, skipped } = await this.data.evalSummary(this.runId, this.source, this.threshold);
      mount(
        this.body,
        h(
          'div',
          { class: 'stats' },
          summary.ks.map((k) => h('div', { class: 'stat', 'data-k': k }, h('b', {}, fmt(summary.passAtK[String(k)])), h('span', {}, `pass@${k}`))),
          h('div', { class: 'stat' }, h('b', {}, fmt(summary.meanReward)), h('span', {}, 'mean reward')),
          Object.entries(summary.metrics).map(([k, v]) => h('div', { class: 'stat' }, h('b', {}, fmt(v)), h('span', {}, k))),
          h('div', { class: 'stat' }, h('b', {}, summary.rollouts), h('span', {}, 'rollouts')),
        ),
        skipped ? h('p', { class: 'warning' }, `${skipped} corrupt line(s) skipped`) : null,
        h(
          'table',
          { class: 'table', id: 'eval-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'example'), h('th', {}, 'task'), h('th', {}, 'n'), h('th', {}, 'passed'), h('th', {}, 'mean reward'), h('th', {}, 'max reward'), h('th', {}, 'errors'), summary.ks.map((k) => h('th', {}, `pass@${k}`)))),
          h(
            'tbody',
            {},
            summary.examples.map((e) =>
              h(
                'tr',
                { class: 'clickable', onclick: () => this.openRollouts(this.source, String(e.exampleId)) },
                h('td', { class: 'mono' }, String(e.exampleId)),
                h('td', {}, e.task ?? ''),
                h('td', {}, e.n),
                h('td', {}, e.passed),
                h('td', {}, fmt(e.meanReward)),
                h('td', {}, fmt(e.maxReward)),
                h('td', {}, e.errors || ''),
                summary.ks.map((k) => h('td', {}, fmt(e.passAtK[String(k)]))),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      mount(this.body, h('p', { class: 'error' }, (error as Error).message));
    }
  }
}
