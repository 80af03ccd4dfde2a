import './style.css';
import type { StepMetrics } from '../../../core/run-manifest.js';
import type { RunDetail } from '../../../runs/run-store.js';
import { CurvesView } from './curves-view.js';
import { ApiSource, EmbeddedSource, embeddedReport, type DataSource } from './data-source.js';
import { fmt, fmtTime, h, mount } from './dom.js';
import { EvalView } from './eval-view.js';
import { RolloutsView } from './rollouts-view.js';
import { RunsView } from './runs-view.js';

const report = embeddedReport();
const data: DataSource = report ? new EmbeddedSource(report) : new ApiSource();
const app = document.getElementById('app')!;
const crumbs = document.getElementById('crumbs')!;
const liveBadge = document.getElementById('live')!;
let cleanup: (() => void)[] = [];

/** Routes: `#/` runs, `#/run/<id>[/<tab>]`, `#/compare/<id>,<id>`. A report opens on its run. */
function route(): void {
  for (const fn of cleanup) fn();
  cleanup = [];
  liveBadge.hidden = true;
  const parts = location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  if (report && parts[0] !== 'run') return void showRun(report.run.id, 'curves');
  if (parts[0] === 'run' && parts[1]) return void showRun(parts[1], parts[2] ?? '');
  if (parts[0] === 'compare' && parts[1]) return void showCompare(parts[1].split(',').filter(Boolean));
  showRuns();
}

function showRuns(): void {
  mount(crumbs, h('span', {}, 'runs'));
  const view = new RunsView(data);
  cleanup.push(() => view.destroy());
  mount(app, view.el);
}

async function showRun(id: string, tab: string): Promise<void> {
  mount(crumbs, report ? null : h('a', { href: '#/' }, 'runs'), report ? null : ' / ', h('span', {}, id));
  let run: RunDetail;
  try {
    run = await data.run(id);
  } catch (error) {
    mount(app, h('p', { class: 'error' }, (error as Error).message));
    return;
  }
  const m = run.manifest;
  const tabs = [
    ...(run.hasMetrics ? [['curves', 'Curves']] : []),
    ...(run.sources.length ? [['rollouts', 'Rollouts']] : []),
    ...(run.evalSources.length ? [['eval', 'Eval results']] : []),
  ] as [string, string][];
  const current = tabs.some(([t]) => t === tab) ? tab : (tabs[0]?.[0] ?? '');
  const panel = h('div', { class: 'panel' });
  const base = report ? '#/run/' + encodeURIComponent(id) : `#/run/${encodeURIComponent(id)}`;
  mount(
    app,
    h(
      'section',
      { class: 'run-head' },
      h('h1', {}, id, ' ', h('span', { class: `badge ${m.status}` }, m.status)),
      h(
        'div',
        { class: 'facts' },
        fact('kind', m.kind),
        fact('env', m.env),
        fact('model', m.model),
        fact('started', fmtTime(m.startedAt)),
        m.endedAt ? fact('ended', fmtTime(m.endedAt)) : null,
        fact('steps', fmt(m.summary.steps)),
        fact('rollouts', fmt(m.summary.rollouts)),
        fact('best reward', fmt(m.summary.bestReward)),
        fact('eval reward', fmt(m.summary.evalReward)),
        m.checkpoints.length ? fact('checkpoints', String(m.checkpoints.length)) : null,
      ),
      m.error ? h('p', { class: 'error' }, m.error) : null,
      report ? h('p', { class: 'muted' }, `Static report generated ${fmtTime(report.generatedAt)}; rollouts are a sample.`) : null,
    ),
    h('nav', { class: 'tabs' }, tabs.map(([t, label]) => h('a', { href: `${base}/${t}`, class: t === current ? 'active' : '' }, label))),
    panel,
  );
  if (current === 'curves') {
    const curves = new CurvesView([id]);
    mount(panel, curves.el);
    cleanup.push(() => curves.destroy());
    const refresh = async () => curves.update([(await data.metrics(id)).rows]);
    await refresh();
    watchIfRunning(id, m.status, async () => {
      await refresh();
      const fresh = await data.run(id);
      if (fresh.manifest.status !== 'running') liveBadge.hidden = true;
    });
  } else if (current === 'rollouts') {
    const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
    const view = new RolloutsView(data, id, run.sources, { ...(params.get('source') && { source: params.get('source')! }), ...(params.get('q') && { search: params.get('q')! }) });
    mount(panel, view.el);
  } else if (current === 'eval') {
    const view = new EvalView(data, id, run.evalSources, (source, search) => {
      const q = new URLSearchParams({ source, q: search });
      location.hash = `${base}/rollouts?${q}`;
    });
    mount(panel, view.el);
  } else {
    mount(panel, h('p', { class: 'muted' }, 'This run has no metrics, rollouts or eval results yet.'));
    watchIfRunning(id, m.status, async () => route());
  }
}

async function showCompare(ids: string[]): Promise<void> {
  mount(crumbs, h('a', { href: '#/' }, 'runs'), ' / ', h('span', {}, `compare ${ids.join(', ')}`));
  const curves = new CurvesView(ids);
  cleanup.push(() => curves.destroy());
  mount(app, h('h1', {}, 'Compare runs'), curves.el);
  const load = async () => curves.update(await Promise.all(ids.map(async (id) => (await data.metrics(id).catch(() => ({ rows: [] as StepMetrics[] }))).rows)));
  await load();
  const runs = await data.runs();
  for (const r of runs.runs) if (ids.includes(r.id)) watchIfRunning(r.id, r.status, load);
}

function watchIfRunning(id: string, status: string, onChange: () => Promise<void>): void {
  if (status !== 'running' || !data.live) return;
  liveBadge.hidden = false;
  let busy = false;
  const stop = data.watch(id, () => {
    if (busy) return;
    busy = true;
    onChange().finally(() => (busy = false));
  });
  cleanup.push(stop);
}

function fact(label: string, value: string): HTMLElement {
  return h('div', { class: 'fact' }, h('span', {}, label), h('b', {}, value));
}

window.addEventListener('hashchange', route);
route();
