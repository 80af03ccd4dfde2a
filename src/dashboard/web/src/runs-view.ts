import type { RunSummary } from '../../../runs/run-summary.js';
import type { DataSource } from './data-source.js';
import { fmt, fmtTime, h, mount } from './dom.js';

/**
 * The runs table: filter by text, kind and status; tick runs and compare their curves.
 * Refreshes every few seconds while shown, so new and finishing runs appear.
 */
export class RunsView {
  readonly el: HTMLElement;
  private runs: RunSummary[] = [];
  private warnings: string[] = [];
  private readonly selected = new Set<string>();
  private readonly body = h('tbody', {});
  private readonly note = h('div', {});
  private readonly compare = h('button', { id: 'compare', disabled: true, onclick: () => this.openCompare() }, 'compare');
  private filter = { q: '', kind: '', status: '' };
  private readonly timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly data: DataSource) {
    const q = h('input', { type: 'search', id: 'runs-filter', placeholder: 'filter by id, env, model…' });
    q.addEventListener('input', () => this.setFilter({ q: q.value }));
    const kind = h('select', { id: 'runs-kind' }, ['', 'train', 'eval', 'sft'].map((k) => h('option', { value: k }, k || 'any kind')));
    kind.addEventListener('change', () => this.setFilter({ kind: kind.value }));
    const status = h('select', { id: 'runs-status' }, ['', 'running', 'completed', 'failed', 'interrupted'].map((s) => h('option', { value: s }, s || 'any status')));
    status.addEventListener('change', () => this.setFilter({ status: status.value }));
    const head = h('tr', {}, h('th', {}, ''), ['run', 'kind', 'status', 'env', 'model', 'started', 'steps', 'rollouts', 'best reward', 'eval reward'].map((c) => h('th', {}, c)));
    this.el = h('section', { class: 'runs' }, h('div', { class: 'controls' }, q, kind, status, this.compare), this.note, h('table', { class: 'table', id: 'runs-table' }, h('thead', {}, head), this.body));
    void this.load();
    if (data.live) this.timer = setInterval(() => void this.load(), 5000);
  }

  /** Stops refreshing. */
  destroy(): void {
    clearInterval(this.timer);
  }

  private setFilter(change: Partial<RunsView['filter']>): void {
    this.filter = { ...this.filter, ...change };
    this.render();
  }

  private async load(): Promise<void> {
    try {
      const res = await this.data.runs();
      this.runs = res.runs;
      this.warnings = res.warnings;
      this.render();
    } catch (error) {
      mount(this.note, h('p', { class: 'error' }, (error as Error).message));
    }
  }

  private render(): void {
    const needle = this.filter.q.toLowerCase();
    const shown = this.runs.filter(
      (r) =>
        (!this.filter.kind || r.kind === this.filter.kind) &&
        (!this.filter.status || r.status === this.filter.status) &&
        (!needle || `${r.id} ${r.env} ${r.model}`.toLowerCase().includes(needle)),
    );
    mount(
      this.note,
      this.runs.length === 0 ? h('p', { class: 'muted' }, 'No runs in this folder yet.') : null,
      this.warnings.length ? h('p', { class: 'warning' }, `${this.warnings.length} folder(s) with an unreadable run.json: ${this.warnings.slice(0, 3).join('; ')}`) : null,
    );
    mount(
      this.body,
      shown.map((r) => {
        const box = h('input', { type: 'checkbox', checked: this.selected.has(r.id), 'aria-label': `select ${r.id}` });
        box.addEventListener('change', () => {
          if (box.checked) this.selected.add(r.id);
          else this.selected.delete(r.id);
          this.compare.disabled = this.selected.size < 2;
          this.compare.textContent = `compare${this.selected.size ? ` (${this.selected.size})` : ''}`;
        });
        return h(
          'tr',
          { 'data-run': r.id },
          h('td', {}, box),
          h('td', {}, h('a', { href: `#/run/${encodeURIComponent(r.id)}` }, r.id)),
          h('td', {}, r.kind),
          h('td', {}, h('span', { class: `badge ${r.status}`, title: r.error ?? '' }, r.status)),
          h('td', {}, r.env),
          h('td', { class: 'mono' }, r.model),
          h('td', {}, fmtTime(r.startedAt)),
          h('td', {}, fmt(r.steps)),
          h('td', {}, fmt(r.rollouts)),
          h('td', {}, fmt(r.bestReward)),
          h('td', {}, fmt(r.evalReward)),
        );
      }),
    );
  }

  private openCompare(): void {
    location.hash = `#/compare/${[...this.selected].map(encodeURIComponent).join(',')}`;
  }
}
