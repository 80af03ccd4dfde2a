import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import { ScriptedSampler } from '../../testing/scripted-sampler.js';
import type { SearchDocument } from '../corpus/document.js';
import { LocalSearchIndex } from '../local-index.js';
import { SearchWeb } from '../web/search-web.js';
import { searchEnv, searchRubric } from './search-env.js';
import { parseTagAction } from './text-tags.js';

const docs: SearchDocument[] = [
  { id: 'fr', url: 'https://geo.local/country/FR', title: 'France', text: 'France is a country in Europe. Its capital is Paris.', site: 'geo', links: [{ text: 'Paris', url: 'https://geo.local/city/1' }] },
  { id: 'paris', url: 'https://geo.local/city/1', title: 'Paris, France', text: 'Paris is a city in France. It has a population of 2,138,551.', site: 'geo', links: [] },
  { id: 'de', url: 'https://geo.local/country/DE', title: 'Germany', text: 'Germany is a country in Europe. Its capital is Berlin.', site: 'geo', links: [] },
];
const row = { id: 'q1', question: 'What is the population of the capital of France?', answer: ['2,138,551', '2138551'], supportingUrls: ['https://geo.local/city/1'] };

const call = (id: string, name: string, args: unknown) => ({ content: null, tool_calls: [{ id, type: 'function' as const, function: { name, arguments: JSON.stringify(args) } }] });

describe('searchEnv', async () => {
  const web = new SearchWeb(await LocalSearchIndex.build({ documents: docs }));

  it('tools protocol: search, open a result, follow a link, find, answer; scored by exact match', async () => {
    const env = searchEnv({ web, dataset: [row] });
    expect(env.tools!.map((t) => t.function.name)).toEqual(['search', 'open', 'find', 'answer']);
    const sampler = new ScriptedSampler({
      script: [
        call('c1', 'search', { query: 'capital of France' }),
        call('c2', 'open', { id: 0 }),
        call('c3', 'open', { id: 0 }),
        call('c4', 'find', { pattern: 'population' }),
        call('c5', 'open', { cursor: 9, id: 0 }),
        call('c6', 'answer', { answer: '2,138,551' }),
      ],
    });
    const out = await env.rollout(env.dataset[0]!, { sampler, sampling: {}, rng: new Rng(1) });
    expect(out.stopReason).toBe('terminated');
    expect(out.turns).toHaveLength(6);
    const toolTexts = out.completion.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(toolTexts[0]).toContain('【0†France】 https://geo.local/country/FR');
    expect(toolTexts[1]).toContain('[viewing lines 1–1 of 1]');
    expect(toolTexts[2]).toContain('Paris, France');
    expect(toolTexts[3]).toMatch(/^1 match for "population"/);
    expect(toolTexts[4]).toMatch(/^Error: .*no view with cursor 9/);
    const scores = await env.rubric.score({ prompt: out.prompt, completion: out.completion, answer: env.dataset[0]!.answer, info: env.dataset[0]!.info, task: undefined, state: out.state, turns: out.turns, stopReason: out.stopReason, parser: env.parser });
    expect(scores.reward).toBe(1);
    expect(scores.metrics).toMatchObject({ exact_match: 1, f1: 1, answered: 1, searches: 1, pages_opened: 2, action_errors: 1, opened_support: 1 });
  });

  it('tags protocol: one action per message, <information> replies, <answer> ends the episode', async () => {
    const env = searchEnv({ web, dataset: [row], protocol: 'tags' });
    expect(env.tools).toBeUndefined();
    const sampler = new ScriptedSampler({
      script: ['I will search. <search>capital of France', 'Let me look. <open>0</open>', 'no tag here', '<answer>Berlin</answer>'],
    });
    const out = await env.rollout(env.dataset[0]!, { sampler, sampling: {}, rng: new Rng(1) });
    expect(out.stopReason).toBe('terminated');
    const replies = out.completion.filter((m) => m.role === 'user').map((m) => m.content);
    expect(replies[0]).toMatch(/^<information>Search results for "capital of France"/);
    expect(replies[1]).toContain('France is a country in Europe');
    expect(replies[2]).toMatch(/^<information>Error: no action found/);
    const scores = await env.rubric.score({ prompt: out.prompt, completion: out.completion, answer: env.dataset[0]!.answer, info: env.dataset[0]!.info, task: undefined, state: out.state, turns: out.turns, stopReason: out.stopReason, parser: env.parser });
    expect(scores.reward).toBe(0);
    expect(scores.metrics).toMatchObject({ exact_match: 0, answered: 1, action_errors: 1, opened_support: 0 });
  });

  it('citeAnswers: 【id】 answers with the text of that link of the latest view (tags and tools); a missing link is an error', async () => {
    const capitalRow = { id: 'q2', question: 'What is the capital of France?', answer: ['Paris'] };
    const compactWeb = new SearchWeb(web.backend, { pageSize: 2, serpFormat: 'compact', pageFormat: 'compact' });
    const env = searchEnv({ web: compactWeb, dataset: [capitalRow], protocol: 'tags', citeAnswers: true });
    const score = async (script: unknown[], e = env) => {
      const out = await e.rollout(e.dataset[0]!, { sampler: new ScriptedSampler({ script: script as never }), sampling: {}, rng: new Rng(1) });
      const s = await e.rubric.score({ prompt: out.prompt, completion: out.completion, answer: e.dataset[0]!.answer, info: e.dataset[0]!.info, task: undefined, state: out.state, turns: out.turns, stopReason: out.stopReason, parser: e.parser });
      return { out, s };
    };
    const clicked = await score(['<search>France</search>', '<open>0</open>', '<answer>【0】</answer>']);
    expect(clicked.out.prompt[0]!.content).toContain('<answer>【3】</answer> answers with');
    // compact page view: the title, then the lines with their link markers
    expect(clicked.out.completion[3]!.content).toBe('<information>France\nFrance is a country in Europe. Its capital is 【0†Paris】.</information>');
    expect(clicked.out.state['search']).toMatchObject({ answer: 'Paris', citedLink: 0 });
    expect(clicked.s.metrics).toMatchObject({ exact_match: 1, action_errors: 0 });
    // a result title is cited the same way (the form with the title copied is accepted too)
    const title = await score(['<search>France</search>', '<answer>【0†France】</answer>']);
    expect(title.out.state['search']).toMatchObject({ answer: 'France', citedLink: 0 });
    expect(title.s.metrics).toMatchObject({ exact_match: 0 });
    const missing = await score(['<search>France</search>', '<answer>【7】</answer>']);
    expect(missing.out.state['search']).toMatchObject({ answer: '【7】', errors: 1 });
    expect(missing.out.state['search']).not.toHaveProperty('citedLink');
    // without citeAnswers the same text is just an answer
    const plain = searchEnv({ web: compactWeb, dataset: [capitalRow], protocol: 'tags' });
    expect((await score(['<search>France</search>', '<open>0</open>', '<answer>【0】</answer>'], plain)).out.state['search']).toMatchObject({ answer: '【0】' });
    // tools protocol
    const tools = searchEnv({ web: compactWeb, dataset: [capitalRow], citeAnswers: true });
    const viaTool = await score([call('c1', 'search', { query: 'France' }), call('c2', 'open', { id: 0 }), call('c3', 'answer', { answer: '【0】' })], tools);
    expect(viaTool.s.metrics).toMatchObject({ exact_match: 1 });
  });

  it('ends truncated when the model never answers within maxTurns', async () => {
    const env = searchEnv({ web, dataset: [row], protocol: 'tags', maxTurns: 2 });
    const sampler = new ScriptedSampler({ script: ['<search>france</search>', '<search>paris</search>'] });
    const out = await env.rollout(env.dataset[0]!, { sampler, sampling: {}, rng: new Rng(1) });
    expect(out.stopReason).toBe('truncated');
    expect(sampler.calls).toHaveLength(2);
  });
});

describe('searchRubric with a judge', () => {
  it('lets the judge decide the reward and keeps exact match as a metric', async () => {
    const judge = new ScriptedSampler({ script: ['yes, correct'] });
    const r = searchRubric({ judge });
    const scores = await r.score({ prompt: [], completion: [{ role: 'assistant', content: '<answer>about two million</answer>' }], answer: ['2,138,551'], info: {}, task: undefined, state: {}, turns: [], stopReason: 'terminated', parser: undefined });
    expect(scores.reward).toBe(1);
    expect(scores.metrics).toMatchObject({ judge: 1, exact_match: 0 });
    expect(JSON.stringify(judge.calls[0]!.request)).toContain('about two million');
  });
});

describe('parseTagAction', () => {
  it('reads each tag form', () => {
    expect(parseTagAction('x <search>a b | page 2</search>')).toEqual({ kind: 'search', query: 'a b', page: 2 });
    expect(parseTagAction('<open>3 line 40</open>')).toEqual({ kind: 'open', id: 3, line: 40 });
    expect(parseTagAction('<open>line 41</open>')).toEqual({ kind: 'open', line: 41 });
    expect(parseTagAction('<open>https://a.local/x</open>')).toEqual({ kind: 'open', url: 'https://a.local/x' });
    expect(parseTagAction('<open>the second one</open>')).toMatchObject({ kind: 'invalid' });
    expect(parseTagAction('<find>needle</find>')).toEqual({ kind: 'find', pattern: 'needle' });
    expect(parseTagAction('<search></search>')).toMatchObject({ kind: 'invalid' });
    expect(parseTagAction('nothing')).toBeUndefined();
  });

});

describe('searchEnv long episodes', async () => {
  const web = new SearchWeb(await LocalSearchIndex.build({ documents: docs }));

  it('long episodes: maxViews from searchEnv, old observations summarised so the context stays small, noise truth in state', async () => {
    const noisy = new SearchWeb(await LocalSearchIndex.build({ documents: docs }), { noise: { replaceProb: 1 } });
    const env = searchEnv({ web: noisy, dataset: [row], maxViews: 4, maxTurns: 10, observations: { keepLast: 1, mode: 'summarise' } });
    const script = [
      call('c1', 'search', { query: 'capital of France', topn: 2 }),
      call('c2', 'open', { url: 'https://geo.local/country/FR', num_lines: 1 }),
      call('c3', 'open', { url: 'geo.local/city/1' }),
      call('c4', 'open', { url: 'https://geo.local/country/DE' }),
      call('c5', 'open', { url: 'https://geo.local/country/FR' }),
      call('c6', 'answer', { answer: 'Paris' }),
    ];
    const sampler = new ScriptedSampler({ script });
    const out = await env.rollout(env.dataset[0]!, { sampler, sampling: {}, rng: new Rng(1) });
    expect(out.stopReason).toBe('terminated');
    const tools = out.completion.filter((m) => m.role === 'tool').map((m) => m.content ?? '');
    expect(tools[4]).toMatch(/^Error: .*4 views/);
    // The last prompt shows only the latest observation whole; older ones keep their headers.
    const last = sampler.chatRequests.at(-1)!.messages.filter((m) => m.role === 'tool').map((m) => m.content ?? '');
    expect(last[0]).toMatch(/^Search results for .*\n【0†.*】\n/);
    expect(last[0]).toContain('[snippets elided]');
    expect(last[1]).toMatch(/^France\nhttps:\/\/geo.local\/country\/FR.*\n\[viewing lines 1–1 of 1\]\n\[page text elided/);
    expect(last[4]).toBe(tools[4]);
    expect(last.join('').length).toBeLessThan(tools.join('').length);
    // The rollout's record keeps the full conversation and the noise truth.
    expect(tools[1]).toContain('Its capital is 【0†Paris】');
    const search = (out.state as { search: { noise: { kind: string; query: string }[]; visitedUrls: string[] } }).search;
    expect(search.noise.length).toBeGreaterThan(0);
    expect(search.noise[0]).toMatchObject({ kind: 'distractor', query: 'capital of France' });
    expect(search.visitedUrls).toEqual(['https://geo.local/country/FR', 'https://geo.local/city/1', 'https://geo.local/country/DE']);
    expect(() => searchEnv({ web, dataset: [row], maxViews: 0 })).toThrow(/maxViews/);
    expect(() => searchEnv({ web, dataset: [row], observations: { mode: 'forget' as never } })).toThrow(/observations/);
  });
});
