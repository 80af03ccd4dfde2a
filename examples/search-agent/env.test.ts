import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, type Environment } from '../../src/core/index.js';
import { availableBuiltinSources } from '../../src/search/index.js';
import { ScriptedSampler } from '../../src/testing/index.js';
import { citeStats, copyStats } from './copy-stats.js';
import { loadEnvironment } from './env.js';

// A small index (large cities only) keeps the build to a few seconds.
const indexDir = join(mkdtempSync(join(tmpdir(), 'keiko-search-agent-')), 'geo');
const args = { indexDir, minPopulation: 1_000_000, questions: 200 };
let env: Environment;
let test: Environment;

beforeAll(async () => {
  env = await loadEnvironment(args);
  test = await loadEnvironment({ ...args, evalSplit: 'test', evalCount: 0 });
});

describe('search-agent environment', () => {
  it('splits train, validation and test by answer entity', () => {
    const entity = (e: { info: Record<string, unknown> }) => String(e.info['answerEntity']);
    const train = new Set(env.dataset.map(entity));
    expect(env.dataset.length).toBeGreaterThan(20);
    expect(env.evalDataset!.length).toBeGreaterThan(0);
    expect(test.evalDataset!.length).toBeGreaterThan(0);
    expect(env.evalDataset!.some((e) => train.has(entity(e)))).toBe(false);
    expect(test.evalDataset!.some((e) => train.has(entity(e)))).toBe(false);
  });

  it('replays a diligent demonstration through SearchEnv: same observations, exact-match reward 1', async () => {
    const example = env.dataset.find((e) => e.info['hops'] === 2) ?? env.dataset[0]!;
    // Find the diligent transcript (its last answer is right) among a few draws.
    const rng = new Rng(0);
    let demo = env.demonstrate!(example, rng);
    for (let i = 0; i < 20 && !demo.at(-1)!.content!.includes(String((example.answer as string[])[0])); i++) demo = env.demonstrate!(example, rng);
    const actions = demo.filter((m) => m.role === 'assistant').map((m) => m.content!);
    const sampler = new ScriptedSampler({ script: actions });
    const out = await env.rollout(example, { sampler, sampling: {}, rng: new Rng(1) });
    expect(out.completion.map((m) => m.content)).toEqual(demo.map((m) => m.content)); // the web turns match exactly
    const scores = await env.rubric.score({ ...out, answer: example.answer, info: example.info, task: undefined, parser: env.parser });
    expect(scores.reward).toBe(1);
    expect(scores.metrics['searches']).toBe(actions.length - 1);
  });

  it('has a lazy teacher: 60% of the time it answers with the country after one search (rarely right), so it is right on ~35% of held-out questions', async () => {
    const rng = new Rng(3);
    let right = 0;
    let lazy = 0;
    let lazyRight = 0;
    const examples = test.evalDataset!;
    for (const e of examples) {
      const completion = test.demonstrate!(e, rng);
      const score = (await test.rubric.score({ prompt: e.prompt, completion, answer: e.answer, info: e.info, task: undefined, state: {}, turns: [], stopReason: 'terminated', parser: test.parser })).reward;
      right += score;
      const searches = completion.filter((m) => m.role === 'assistant' && m.content!.startsWith('<search>')).length;
      if (searches < Number(e.info['hops'])) {
        lazy++;
        lazyRight += score; // right only where the capital shares the country's name (Singapore)
      }
    }
    expect(lazy / examples.length).toBeGreaterThan(0.45);
    expect(lazy / examples.length).toBeLessThan(0.75);
    expect(lazyRight / lazy).toBeLessThan(0.1);
    expect(right / examples.length).toBeGreaterThan(0.2);
    expect(right / examples.length).toBeLessThan(0.55);
  });

  it('shows compact results pages: one 【i†title】 snippet line per result, no URLs', async () => {
    const example = env.dataset.find((e) => e.info['hops'] === 2)!;
    const page = env.demonstrate!(example, new Rng(0))[1]!.content!;
    expect(page).toMatch(/^<information>【0†[^】]+】 /);
    expect(page).not.toContain('https://');
    expect(page.split('\n').length).toBeLessThanOrEqual(2);
  });

  it('copy-stats follows the two-hop chain of a diligent transcript and flags a lazy one', () => {
    const example = env.dataset.find((e) => e.info['hops'] === 2)!;
    const rng = new Rng(0);
    const draws = Array.from({ length: 40 }, () => env.demonstrate!(example, rng));
    const diligent = draws.find((d) => d.length === 5)!;
    const lazy = draws.find((d) => d.length === 3)!;
    const s = copyStats([{ prompt: example.prompt, completion: diligent, info: example.info, answer: example.answer }, { prompt: example.prompt, completion: lazy, info: example.info, answer: example.answer }]);
    expect(s.twoHop).toBe(2);
    expect(s.cityQuery).toBe(2);
    expect(s.countryQuery).toBe(1);
    expect(s.countryQueryAny).toBe(1);
    expect(s.stoppedAfterOneSearch).toBe(1);
    // The diligent answer is the last page's first title, the gold answer; the lazy one is not.
    expect(s.goldOnPage).toBe(1);
    expect(s.answeredGoldOnPage).toBe(1);
    expect(s.answerFromPageAny).toBe(1);
  });
});

describe('search-agent environment following links', () => {
  it('demonstrates a two-hop question as: search the city, open its result, the country link and the capital link, answer the page title', async () => {
    const links = await loadEnvironment({ ...args, follow: 'links', viewLines: 1, maxTurns: 5, cityIdQuestions: 20, lazyRate: 0 });
    const example = links.dataset.find((e) => e.info['hops'] === 2)!;
    const demo = links.demonstrate!(example, new Rng(0));
    const actions = demo.filter((m) => m.role === 'assistant').map((m) => m.content!);
    expect(actions.slice(1, -1).every((a) => /^<open>\d+<\/open>$/.test(a))).toBe(true);
    expect(actions.at(-1)).toBe(`<answer>${(example.answer as string[])[0]}</answer>`);
    const sampler = new ScriptedSampler({ script: actions });
    const out = await links.rollout(example, { sampler, sampling: {}, rng: new Rng(1) });
    expect(out.completion.map((m) => m.content)).toEqual(demo.map((m) => m.content));
    const scores = await links.rubric.score({ ...out, answer: example.answer, info: example.info, task: undefined, parser: links.parser });
    expect(scores.reward).toBe(1);
    expect(scores.metrics['pages_opened']).toBe(actions.length - 2);
    // copy-stats reads the opened page's title: the gold answer was there and was copied.
    const s = copyStats([{ prompt: example.prompt, completion: demo, info: example.info, answer: example.answer }]);
    expect([s.cityQuery, s.goldOnPage, s.answeredGoldOnPage]).toEqual([1, 1, 1]);
  });
});

describe('search-agent environment citing answers', () => {
  it('demonstrates a two-hop question as: search the city, open it and its country, cite the capital link (lazy: cite the country); replayed rewards 1 and 0', async () => {
    const cite = await loadEnvironment({ ...args, follow: 'cite', pageFormat: 'compact', viewLines: 1 });
    const example = cite.dataset.find((e) => e.info['hops'] === 2)!;
    const rng = new Rng(0);
    const draws = Array.from({ length: 40 }, () => cite.demonstrate!(example, rng));
    const diligent = draws.find((d) => d.length === 7)!;
    const lazy = draws.find((d) => d.length === 5)!;
    const replay = async (demo: typeof diligent) => {
      const actions = demo.filter((m) => m.role === 'assistant').map((m) => m.content!);
      const out = await cite.rollout(example, { sampler: new ScriptedSampler({ script: actions }), sampling: {}, rng: new Rng(1) });
      expect(out.completion.map((m) => m.content)).toEqual(demo.map((m) => m.content));
      expect(actions.at(-1)).toMatch(/^<answer>【\d+】<\/answer>$/);
      return { out, scores: await cite.rubric.score({ ...out, answer: example.answer, info: example.info, task: undefined, parser: cite.parser }) };
    };
    const good = await replay(diligent);
    expect(good.scores.reward).toBe(1);
    expect(good.out.state['search']).toMatchObject({ answer: (example.answer as string[])[0] });
    expect(good.scores.metrics).toMatchObject({ searches: 1, pages_opened: 2 });
    // The compact page view: the title, then one line with its link markers.
    expect(diligent[3]!.content).toMatch(/^<information>[^\n]+\n[^\n]*【0†[^】]+】[^\n]*<\/information>$/);
    const bad = await replay(lazy);
    expect(bad.scores.reward).toBe(0);
    const country = /^<information>([^\n]+)\n/.exec(diligent[5]!.content!)![1]; // the title of the country page the diligent one opened
    expect(bad.out.state['search']).toMatchObject({ answer: country });
    // copy-stats follows the cited chain: the diligent one reaches the country and is right, the lazy one answers after one page.
    const episode = (r: typeof good) => ({ prompt: example.prompt, completion: r.out.completion, info: example.info, answer: example.answer, reward: r.scores.reward });
    expect(citeStats([episode(good), episode(bad)])).toEqual({ twoHop: 2, cityQuery: 2, openedCity: 2, openedCountry: 1, right: 1, stoppedAfterOnePage: 1 });
  });
});

// Term questions need FOLDOC and the Jargon File (scripts/search-setup.sh installs them).
const haveTerms = ['foldoc', 'jargon'].every((s) => availableBuiltinSources().includes(s as 'foldoc'));

describe.skipIf(!haveTerms)('search-agent environment with copy-training questions', () => {
  const termIndex = join(mkdtempSync(join(tmpdir(), 'keiko-search-agent-terms-')), 'geo-terms');
  let withTerms: Environment;
  beforeAll(async () => {
    withTerms = await loadEnvironment({ ...args, indexDir: termIndex, termQuestions: 40, cityIdQuestions: 40 });
  }, 120_000);

  it('mixes term questions into training only; held-out questions stay geography', () => {
    const kinds = (es: readonly { info: Record<string, unknown> }[]) => new Set(es.map((e) => String(e.info['kind'])));
    expect(kinds(withTerms.dataset).has('define-term')).toBe(true);
    expect(kinds(withTerms.dataset).has('city-by-id')).toBe(true);
    expect([...kinds(withTerms.evalDataset!)].every((k) => k === 'capital' || k === 'city-country-capital')).toBe(true);
  });

  it('heldOutKind evaluates on held-out copy-training questions (answer entities not in training)', async () => {
    const held = await loadEnvironment({ ...args, indexDir: termIndex, termQuestions: 40, cityIdQuestions: 40, heldOutKind: 'city-by-id', evalCount: 0 });
    const entities = new Set(held.dataset.map((e) => String(e.info['answerEntity'])));
    expect(held.evalDataset!.length).toBeGreaterThan(0);
    expect(held.evalDataset!.every((e) => e.info['kind'] === 'city-by-id' && !entities.has(String(e.info['answerEntity'])))).toBe(true);
  });

  it.each(['define-term', 'city-by-id'])('demonstrates a %s question as: search the description or id, answer the first result title (reward 1 in SearchEnv)', async (kind) => {
    const example = withTerms.dataset.find((e) => e.info['kind'] === kind)!;
    const demo = withTerms.demonstrate!(example, new Rng(0));
    expect(demo).toHaveLength(3);
    // The answer is the first result's title (a city's title goes on ", <country>").
    expect(demo[1]!.content).toMatch(new RegExp(`^<information>【0†${(example.answer as string[])[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[】,]`));
    const sampler = new ScriptedSampler({ script: demo.filter((m) => m.role === 'assistant').map((m) => m.content!) });
    const out = await withTerms.rollout(example, { sampler, sampling: {}, rng: new Rng(1) });
    expect(out.completion.map((m) => m.content)).toEqual(demo.map((m) => m.content));
    const scores = await withTerms.rubric.score({ ...out, answer: example.answer, info: example.info, task: undefined, parser: withTerms.parser });
    expect(scores.reward).toBe(1);
  });
});
