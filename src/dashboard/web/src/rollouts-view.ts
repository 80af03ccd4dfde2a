import type { ChatMessage } from '../../../core/messages.js';
import type { RolloutView } from '../../../runs/stored-rollout.js';
import type { RolloutSort } from '../../../runs/rollout-query.js';
import { rolloutHasError } from '../../../runs/rollout-query.js';
import type { RolloutsResponse } from '../../payloads.js';
import type { DataSource, RolloutRequest } from './data-source.js';
import { fmt, h, mount, type Child } from './dom.js';

const PAGE = 20;

/**
 * The rollout viewer: pick a source (a training step, an eval), sort by reward, show errors only,
 * search text; rollouts of one example are shown together under their prompt, each with every turn
 * (assistant text, tool calls, tool results, environment messages), reward, rubric scores, advantage.
 */
export class RolloutsView {
  readonly el: HTMLElement;
  private readonly list = h('div', { class: 'rollouts' });
  private readonly status = h('span', { class: 'muted' });
  private request: RolloutRequest;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly data: DataSource,
    private readonly runId: string,
    sources: string[],
    initial: Partial<RolloutRequest> = {},
  ) {
    const preferred = initial.source ?? [...sources].reverse().find((s) => s.startsWith('rollouts/')) ?? sources[0] ?? '';
    this.request = { source: preferred, offset: 0, limit: PAGE, sort: 'index', errorsOnly: false, search: '', ...initial };
    const source = h('select', { id: 'rollout-source' }, sources.map((s) => h('option', { value: s, selected: s === this.request.source }, s.replace('rollouts/', ''))));
    source.addEventListener('change', () => this.set({ source: source.value }));
    const sort = h(
      'select',
      { id: 'rollout-sort' },
      h('option', { value: 'index' }, 'file order'),
      h('option', { value: 'reward_asc' }, 'lowest reward'),
      h('option', { value: 'reward_desc' }, 'highest reward'),
    );
    sort.addEventListener('change', () => this.set({ sort: sort.value as RolloutSort }));
    const errors = h('input', { type: 'checkbox', id: 'rollout-errors' });
    errors.addEventListener('change', () => this.set({ errorsOnly: errors.checked }));
    const search = h('input', { type: 'search', id: 'rollout-search', placeholder: 'search text…', value: this.request.search });
    search.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.set({ search: search.value }), 250);
    });
    const prev = h('button', { id: 'prev-page', onclick: () => this.set({ offset: Math.max(0, this.request.offset - PAGE) }, false) }, '← prev');
    const next = h('button', { id: 'next-page', onclick: () => this.set({ offset: this.request.offset + PAGE }, false) }, 'next →');
    this.el = h(
      'section',
      { class: 'rollout-viewer' },
      h('div', { class: 'controls' }, h('label', {}, 'source ', source), h('label', {}, 'sort ', sort), h('label', {}, errors, ' errors only'), search, prev, next, this.status),
      sources.length ? this.list : h('p', { class: 'muted' }, 'This run has no rollouts.'),
    );
    if (sources.length) void this.load();
  }

  private set(change: Partial<RolloutRequest>, resetOffset = true): void {
    this.request = { ...this.request, ...(resetOffset && { offset: 0 }), ...change };
    void this.load();
  }

  private async load(): Promise<void> {
    const req = { ...this.request };
    this.status.textContent = 'loading…';
    try {
      const page = await this.data.rollouts(this.runId, req);
      if (req !== this.request && JSON.stringify(req) !== JSON.stringify(this.request)) return; // a newer request is on its way
      this.render(page);
    } catch (error) {
      this.status.textContent = '';
      mount(this.list, h('p', { class: 'error' }, (error as Error).message));
    }
  }

  private render(page: RolloutsResponse): void {
    const end = Math.min(page.total, page.offset + page.items.length);
    this.status.textContent = page.total ? `${page.offset + 1}–${end} of ${page.total}` : 'no rollouts match';
    if (page.skipped) this.status.textContent += ` · ${page.skipped} corrupt line(s) skipped`;
    // consecutive rollouts of the same example form a group under one prompt
    const groups: { key: string; items: RolloutsResponse['items'] }[] = [];
    for (const item of page.items) {
      const key = String(item.rollout.exampleId);
      const last = groups[groups.length - 1];
      if (last && last.key === key) last.items.push(item);
      else groups.push({ key, items: [item] });
    }
    mount(
      this.list,
      groups.map((g, gi) => {
        const first = g.items[0]!.rollout;
        const rewards = g.items.map((i) => i.rollout.reward);
        return h(
          'article',
          { class: 'group' },
          h('header', {}, h('b', {}, `example ${g.key}`), first.task ? h('span', { class: 'chip' }, first.task) : null, h('span', { class: 'muted' }, `${g.items.length} rollout(s) · reward ${fmt(Math.min(...rewards))}…${fmt(Math.max(...rewards))}`)),
          h('div', { class: 'prompt' }, first.prompt.map((m) => message(m, false))),
          first.answer !== undefined ? h('div', { class: 'answer' }, 'expected answer: ', h('code', {}, typeof first.answer === 'string' ? first.answer : JSON.stringify(first.answer))) : null,
          g.items.map((item, i) => rolloutCard(item.index, item.rollout, gi === 0 && i < 2)),
        );
      }),
    );
  }
}

function rolloutCard(index: number, r: RolloutView, open: boolean): HTMLElement {
  const bad = rolloutHasError(r);
  return h(
    'details',
    { class: `rollout${bad ? ' has-error' : ''}`, open, 'data-index': index },
    h(
      'summary',
      {},
      h('span', { class: 'mono' }, `#${index} · sample ${r.sample}`),
      h('span', { class: `reward ${r.reward >= 1 ? 'pos' : r.reward <= 0 ? 'zero' : 'mid'}` }, `reward ${fmt(r.reward)}`),
      r.advantage !== undefined ? h('span', { class: 'chip' }, `adv ${fmt(r.advantage)}`) : null,
      Object.entries(r.metrics).map(([k, v]) => h('span', { class: 'chip metric' }, `${k} ${fmt(v)}`)),
      h('span', { class: `chip stop-${r.stopReason}` }, r.stopReason),
      h('span', { class: 'muted' }, `${r.usage.completionTokens} tok · ${fmt(r.timing.totalMs / 1000)} s`),
    ),
    r.error ? h('div', { class: 'error' }, `${r.error.name} (${r.error.code}): ${r.error.message}`) : null,
    r.scoringErrors ? Object.entries(r.scoringErrors).map(([fn, msg]) => h('div', { class: 'error' }, `reward function ${fn} failed: ${msg}`)) : null,
    h('div', { class: 'turns' }, r.completion.map((m) => message(m, true))),
  );
}

/** One message; a `user` message after the prompt is the environment speaking. */
function message(m: ChatMessage, afterPrompt: boolean): HTMLElement {
  const who = m.role === 'user' ? (afterPrompt ? 'environment' : 'user') : m.role === 'tool' ? `tool${m.name ? ` · ${m.name}` : ''}` : m.role;
  const body: Child[] = [];
  if (m.content) body.push(h('pre', {}, m.content));
  if (m.role === 'assistant' && m.tool_calls) {
    for (const call of m.tool_calls) body.push(h('div', { class: 'tool-call' }, h('b', {}, `→ ${call.function.name}`), h('code', {}, call.function.arguments)));
  }
  return h('div', { class: `msg ${m.role}${afterPrompt && m.role === 'user' ? ' env' : ''}` }, h('div', { class: 'role' }, who), body);
}
