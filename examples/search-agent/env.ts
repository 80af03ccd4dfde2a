import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { Rng, type ChatMessage, type Environment, type Example } from '../../src/core/index.js';
import { parseEnvArgs } from '../../src/envs/index.js';
import { normalizeAnswer } from '../../src/rubrics/answer-match.js';
import { Browser, LocalSearchIndex, type BuiltinSource, SearchWeb, builtinCorpus, searchEnv, synthesizeQa, type QaItem } from '../../src/search/index.js';

/**
 * The search-agent example's environment: the multi-step `SearchEnv` (text-tag protocol) over
 * keiko's built-in geography corpus, with questions synthesised from that corpus — one-hop ("What
 * is the capital of Chile?") and two-hop ("What is the capital of the country in which the city of
 * Göttingen lies?"). Train and test are split by answer entity, so no test answer is ever seen in
 * training; a validation split (also split by answer entity, carved from the training entities)
 * is what training watches. Results pages are compact (two `【i†title】 snippet` lines) so that an
 * episode is ~170 tokens.
 *
 * `demonstrate` is a scripted searcher that really uses the emulated web, in one of three ways
 * (`follow`). The example's config uses `cite`: search "city of <city>", open the city's result,
 * open its country link, and answer by citing the capital's link (`<answer>【1】</answer>`, which
 * `SearchEnv` resolves to the link's text). The schema's default, `type`, is the first attempt's:
 * search "city of <city>", then "capital of <country>" (typed, read off the first result), then
 * type the capital. Either way the searcher is lazy with probability `lazyRate` (default 0.6): it
 * stops one hop early and answers the country, which is right only when the capital shares the
 * country's name. Demonstrations are computed when the environment loads (the web is asynchronous,
 * `demonstrate` is not), two per question: diligent and lazy. Because lazy is the majority, a model
 * that imitates the teacher greedily skips the second hop; GRPO has to find out that it pays.
 */
export const SearchAgentArgs = z.object({
  /**
   * Index folder; built from the built-in `geo` source (plus FOLDOC and the Jargon File when
   * `termQuestions` > 0) when missing. Default: `.keiko/search/geo-30k`, or `geo-30k-terms`.
   */
  indexDir: z.string().optional(),
  /**
   * FOLDOC/Jargon `define-term` questions mixed into training (0 = none). Their answer is the first
   * result's title, drawn from thousands of distinct terms, so that answering with a string read off
   * the results page is a general skill rather than recall of ~150 capitals. Held-out evaluation
   * stays the geography questions.
   */
  termQuestions: z.number().int().min(0).default(0),
  /**
   * `city-by-id` questions mixed into training (0 = none): "Which city has the GeoNames id N?", whose
   * answer is the first result's title before the comma, one of ~14,000 city names. The same copy as
   * the capital's last step ("Abuja, Nigeria" → Abuja), but over many distinct names.
   */
  cityIdQuestions: z.number().int().min(0).default(0),
  /**
   * Smallest city that gets a page (index build only). 30,000 gives ~14,000 cities: many distinct
   * city names, which is what makes copying (not memorising) the way to fit the demonstrations.
   */
  minPopulation: z.number().int().min(0).default(30000),
  /** Questions synthesised (before the split). */
  questions: z.number().int().min(10).default(40000),
  /**
   * Most questions kept per answer entity in the held-out splits, and in training (0 = no cap).
   * Without a cap one country's many cities (the United States) make most of whichever split its
   * capital lands in; training keeps more, because many distinct city names are what teach a tiny
   * model to copy names instead of memorising them.
   */
  maxPerAnswer: z.number().int().min(0).default(12),
  maxPerAnswerTrain: z.number().int().min(0).default(100),
  /** Share of answer entities held out for the test split. */
  testFraction: z.number().min(0.05).max(0.9).default(0.25),
  /** Share of the remaining (training) answer entities held out for validation. */
  validationFraction: z.number().min(0.01).max(0.5).default(0.1),
  /** Which held-out split `evalDataset` holds. Test is only scored at the very end. */
  evalSplit: z.enum(['validation', 'test']).default('validation'),
  /**
   * Diagnostics (`copy-eval.ts`): make `evalDataset` the held-out (test-split) questions of a
   * copy-training kind instead of the geography questions.
   */
  heldOutKind: z.enum(['define-term', 'city-by-id']).optional(),
  /** Held-out questions in `evalDataset` (0 = all). */
  evalCount: z.number().int().min(0).default(200),
  /** Probability that a demonstration skips the second hop and answers with the country it found. */
  lazyRate: z.number().min(0).max(1).default(0.6),
  /** Results per page, snippet length and page format: kept small so episodes stay short. */
  pageSize: z.number().int().min(1).max(10).default(2),
  snippetChars: z.number().int().min(20).max(400).default(40),
  serpFormat: z.enum(['full', 'compact']).default('compact'),
  maxTurns: z.number().int().min(1).max(16).default(4),
  /**
   * How the searcher gets from the first results page to the answer. `type`: search "capital of
   * <country>", typing the country read off the first results, and answer the first title. `links`:
   * open the city's result, its country link, then the capital's link, and answer the opened page's
   * title: no name is typed but the city's (needs `maxTurns` 5). With `links`, city-by-id
   * demonstrations also open their result and answer its title, the same final copy. `cite`: open
   * the city's result and its country link, and answer by citing the capital's link (`【1】`, see
   * `citeAnswers` in `searchEnv`): no name is typed or copied but the city's; the lazy searcher cites
   * the country link on the city page instead. One-hop questions search the country, open it and
   * cite its capital (lazy: cite the country's result).
   */
  follow: z.enum(['type', 'links', 'cite']).default('type'),
  /** How opened pages are shown (`compact`: the title and the shown lines only). */
  pageFormat: z.enum(['full', 'compact']).default('full'),
  /** Lines shown when a page is opened (`links` keeps pages short: the first line says what matters). */
  viewLines: z.number().int().min(1).max(100).default(40),
  seed: z.number().int().default(0),
});
export type SearchAgentArgs = z.input<typeof SearchAgentArgs>;

/** The system prompt: short, because every token of it is context a tiny model must carry. */
export const SYSTEM_PROMPT = 'One action per message: <search>query</search> or <answer>answer</answer>.';
const LINKS_PROMPT = 'One action per message: <search>query</search>, <open>link id</open> or <answer>answer</answer>.';
const CITE_PROMPT = 'One action per message: <search>query</search>, <open>link id</open> or <answer>【link id】</answer>.';
const PROMPTS = { type: SYSTEM_PROMPT, links: LINKS_PROMPT, cite: CITE_PROMPT } as const;

async function openIndex(a: z.infer<typeof SearchAgentArgs>): Promise<LocalSearchIndex> {
  const dir = resolve(a.indexDir ?? (a.termQuestions > 0 ? '.keiko/search/geo-30k-terms' : '.keiko/search/geo-30k'));
  if (existsSync(dir) && LocalSearchIndex.exists(dir)) return LocalSearchIndex.load(dir);
  const sources: BuiltinSource[] = a.termQuestions > 0 ? ['foldoc', 'jargon', 'geo'] : ['geo'];
  return LocalSearchIndex.build({ documents: builtinCorpus({ sources, minPopulation: a.minPopulation }), dir });
}

const CITY_QUESTION = /the city of (.+) lies\?$/;
const COUNTRY_QUESTION = /^What is the capital of (.+)\?$/;
/** Term questions longer than this are left out: the searcher types the description again, and episodes must fit 512 positions. */
const MAX_AUX_QUESTION_CHARS = 160;

/** What the scripted searcher types for an auxiliary (copy-training) question. */
const AUX_QUERY: Record<string, (question: string) => string | undefined> = {
  'define-term': (q) => /described as: "(.+)"\?$/.exec(q)?.[1],
  'city-by-id': (q) => /(GeoNames id \d+)\?$/.exec(q)?.[1],
};

const tag = (name: string, body: string) => `<${name}>${body}</${name}>`;
const info = (text: string) => ({ role: 'user' as const, content: `<information>${text}</information>` });

/**
 * The scripted searcher's two transcripts for one question (diligent, lazy), produced against the
 * same emulated web the model will use, rendered exactly as the environment renders its turns.
 * Diligent: search "city of <city>" (two-hop questions), then "capital of <country>", then answer
 * the capital. Lazy: stop after the first search (two-hop) or without searching (one-hop) and
 * answer with the country's name, a misreading of the question that is never right.
 */
async function scriptedTranscripts(item: QaItem, web: SearchWeb, index: LocalSearchIndex, follow: SearchAgentArgs['follow']): Promise<{ diligent: ChatMessage[]; lazy: ChatMessage[] }> {
  if (follow === 'cite' && AUX_QUERY[item.kind] === undefined) {
    const cited = await citingTranscripts(item, web, index);
    if (cited) return cited;
  }
  const auxQuery = AUX_QUERY[item.kind]?.(item.question);
  if (auxQuery !== undefined) {
    // Search the description or the id, answer the first result's title (following links: open the
    // city's result and answer the opened page's title): never lazy.
    const browser = new Browser(web);
    const demo: ChatMessage[] = [{ role: 'assistant', content: tag('search', auxQuery) }, info((await browser.search({ query: auxQuery })).text)];
    if (follow === 'links' && item.kind === 'city-by-id') demo.push({ role: 'assistant', content: tag('open', '0') }, info((await browser.open({ id: 0 })).text));
    demo.push({ role: 'assistant', content: tag('answer', item.answer[0]!) });
    return { diligent: demo, lazy: demo };
  }
  const capital = item.answer[0]!;
  const countryDoc = await index.getDocument({ url: item.supportingUrls.at(-1)! });
  const country = countryDoc?.title ?? COUNTRY_QUESTION.exec(item.question)?.[1] ?? '';
  const browser = new Browser(web);
  const firstHop: ChatMessage[] = [];
  if (item.hops > 1) {
    const q1 = `city of ${CITY_QUESTION.exec(item.question)?.[1] ?? item.question}`;
    const serp = await browser.search({ query: q1 });
    firstHop.push({ role: 'assistant', content: tag('search', q1) }, info(serp.text));
    const lazy: ChatMessage[] = [...firstHop, { role: 'assistant', content: tag('answer', country) }];
    const cityResult = serp.data.results.findIndex((r) => r.url === item.supportingUrls[0]);
    if (follow === 'links' && cityResult >= 0 && countryDoc) {
      // City result → its country link → the capital's link (when the capital has a page) → answer.
      const cityDoc = await index.getDocument({ url: item.supportingUrls[0]! });
      const chain = [cityResult, cityDoc?.links.findIndex((l) => l.url === countryDoc.url) ?? -1, countryDoc.links.findIndex((l) => l.text === capital && l.url.includes('/city/'))];
      const diligent = [...firstHop];
      for (const id of chain[1]! < 0 ? [] : chain.filter((i) => i >= 0)) diligent.push({ role: 'assistant', content: tag('open', String(id)) }, info((await browser.open({ id })).text));
      if (diligent.length > firstHop.length) return { diligent: [...diligent, { role: 'assistant', content: tag('answer', capital) }], lazy };
    }
  }
  const q2 = `capital of ${country}`;
  const secondPage = (await browser.search({ query: q2 })).text;
  const diligent: ChatMessage[] = [...firstHop, { role: 'assistant', content: tag('search', q2) }, info(secondPage), { role: 'assistant', content: tag('answer', capital) }];
  const lazy: ChatMessage[] = [...firstHop, { role: 'assistant', content: tag('answer', country) }];
  return { diligent, lazy };
}

const cite = (id: number) => tag('answer', `【${id}】`);

/**
 * The scripted searcher's transcripts with cited answers (`follow = 'cite'`), or undefined when the
 * pages do not allow it (the capital has no page to link to, or the city or country is not among
 * the shown results; those questions keep the typed transcripts): two-hop, search
 * "city of <city>", open the city's result, open its country link, cite the capital's link (lazy:
 * cite the country link on the city page); one-hop, search the country, open it, cite its capital
 * (lazy: cite the country's result).
 */
async function citingTranscripts(item: QaItem, web: SearchWeb, index: LocalSearchIndex): Promise<{ diligent: ChatMessage[]; lazy: ChatMessage[] } | undefined> {
  const countryUrl = item.supportingUrls.at(-1)!;
  const countryDoc = await index.getDocument({ url: countryUrl });
  const capitalLink = countryDoc?.links.findIndex((l) => l.text === item.answer[0] && l.url.includes('/city/')) ?? -1;
  if (!countryDoc || capitalLink < 0) return undefined;
  const browser = new Browser(web);
  const query = item.hops > 1 ? `city of ${CITY_QUESTION.exec(item.question)?.[1] ?? item.question}` : `country ${countryDoc.title}`;
  const serp = await browser.search({ query });
  const steps: ChatMessage[] = [{ role: 'assistant', content: tag('search', query) }, info(serp.text)];
  const first = serp.data.results.findIndex((r) => r.url === item.supportingUrls[0]);
  if (first < 0) return undefined;
  if (item.hops === 1) {
    const lazy = [...steps, { role: 'assistant' as const, content: cite(first) }];
    steps.push({ role: 'assistant', content: tag('open', String(first)) }, info((await browser.open({ id: first })).text));
    return { diligent: [...steps, { role: 'assistant', content: cite(capitalLink) }], lazy };
  }
  const cityDoc = await index.getDocument({ url: item.supportingUrls[0]! });
  const countryLink = cityDoc?.links.findIndex((l) => l.url === countryUrl) ?? -1;
  if (countryLink < 0) return undefined;
  steps.push({ role: 'assistant', content: tag('open', String(first)) }, info((await browser.open({ id: first })).text));
  const lazy = [...steps, { role: 'assistant' as const, content: cite(countryLink) }];
  steps.push({ role: 'assistant', content: tag('open', String(countryLink)) }, info((await browser.open({ id: countryLink })).text));
  return { diligent: [...steps, { role: 'assistant', content: cite(capitalLink) }], lazy };
}

/** Splits items by a seeded hash of the answer entity: a share `fraction` of entities goes to `held`. */
function splitByEntity(items: readonly QaItem[], fraction: number, seed: number): { kept: QaItem[]; held: QaItem[] } {
  const entities = [...new Set(items.map((i) => i.answerEntity))].sort();
  const held = new Set(new Rng(seed).fork('validation').shuffle(entities).slice(0, Math.round(entities.length * fraction)));
  return { kept: items.filter((i) => !held.has(i.answerEntity)), held: items.filter((i) => held.has(i.answerEntity)) };
}

/** The first `cap` questions of each answer entity (all of them when `cap` is 0). */
function capPerAnswer(items: readonly QaItem[], cap: number): QaItem[] {
  const seen = new Map<string, number>();
  return items.filter((i) => {
    const n = (seen.get(i.answerEntity) ?? 0) + 1;
    seen.set(i.answerEntity, n);
    return cap === 0 || n <= cap;
  });
}

const toRow = (item: QaItem) => ({ id: item.id, question: item.question, answer: item.answer, info: { kind: item.kind, hops: item.hops, supportingUrls: item.supportingUrls, answerEntity: item.answerEntity } });

/** Loads the environment (builds the index on first use; synthesis and demonstrations take seconds). */
export async function loadEnvironment(args: Record<string, unknown> = {}): Promise<Environment> {
  const a = parseEnvArgs({ env: 'search-agent', schema: SearchAgentArgs, args });
  const index = await openIndex(a);
  const web = new SearchWeb(index, { pageSize: a.pageSize, snippetChars: a.snippetChars, serpFormat: a.serpFormat, pageFormat: a.pageFormat, viewLines: a.viewLines, seed: a.seed });
  const { items: all } = synthesizeQa({ index, count: a.questions, seed: a.seed, testFraction: a.testFraction, kinds: ['capital', 'city-country-capital'] });
  const { kept: geoTrain, held: validationAll } = splitByEntity(capPerAnswer(all.filter((i) => i.split === 'train'), a.maxPerAnswerTrain), a.validationFraction, a.seed);
  // Copy-training questions: their own synthesis (so the geography splits do not move), training
  // split only, and none whose answer is any geography question's answer (a capital's city page).
  const geoAnswers = new Set(all.flatMap((i) => i.answer.map(normalizeAnswer)));
  const auxAll = ([['define-term', a.termQuestions], ['city-by-id', a.cityIdQuestions]] as const).flatMap(([kind, count]) =>
    count > 0 || a.heldOutKind === kind
      ? synthesizeQa({ index, count: count || 1000, seed: a.seed, testFraction: a.testFraction, kinds: [kind] }).items.filter((i) => i.question.length <= MAX_AUX_QUESTION_CHARS && !i.answer.some((x) => geoAnswers.has(normalizeAnswer(x))))
      : [],
  );
  const aux = auxAll.filter((i) => i.split === 'train' && (i.kind === 'define-term' ? a.termQuestions : a.cityIdQuestions) > 0);
  const train = [...geoTrain, ...aux];
  const validation = capPerAnswer(validationAll, a.maxPerAnswer);
  const test = capPerAnswer(all.filter((i) => i.split === 'test'), a.maxPerAnswer);
  const held = a.heldOutKind ? auxAll.filter((i) => i.split === 'test' && i.kind === a.heldOutKind) : a.evalSplit === 'test' ? test : validation;
  const evalItems = a.evalCount > 0 ? new Rng(a.seed).fork('eval').shuffle(held).slice(0, a.evalCount) : held;
  const env = searchEnv({ web, dataset: train.map(toRow), evalDataset: evalItems.map(toRow), protocol: 'tags', maxTurns: a.maxTurns, systemPrompt: PROMPTS[a.follow], citeAnswers: a.follow === 'cite', name: 'search-agent' });
  const transcripts = new Map<string | number, { diligent: ChatMessage[]; lazy: ChatMessage[] }>();
  // Every question gets a transcript, so the teacher can be scored on held-out questions too; SFT
  // only ever draws from `dataset` (the training split).
  for (const item of [...train, ...evalItems]) transcripts.set(item.id, await scriptedTranscripts(item, web, index, a.follow));
  const demonstrate = (example: Example, rng: Rng): ChatMessage[] => {
    const t = transcripts.get(example.id);
    if (!t) throw new Error(`no scripted demonstration for '${String(example.id)}'`);
    return rng.next() < a.lazyRate ? t.lazy : t.diligent;
  };
  return {
    name: env.name,
    dataset: env.dataset,
    ...(env.evalDataset ? { evalDataset: env.evalDataset } : {}),
    rubric: env.rubric,
    parser: env.parser,
    rollout: (example, ctx) => env.rollout(example, ctx),
    demonstrate,
  };
}
