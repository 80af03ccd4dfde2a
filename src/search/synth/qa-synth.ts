import { ConfigError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { Tokenizer } from '../index/tokenizer.js';
import { answerOf, CLUE_SENTENCES, describePage, hiddenSentences, linkHop, pageFact, type GenericCandidate, type GenericContext, type Verdict } from './generic-templates.js';
import { normalizeAnswer } from '../../rubrics/answer-match.js';
import type { SearchDocument } from '../corpus/document.js';
import type { LocalSearchIndex } from '../local-index.js';
import { hashSeed } from '../web/search-web.js';
import { QA_SCHEMA_VERSION, type QaItem } from './qa-item.js';

export interface SynthOptions {
  index: LocalSearchIndex;
  /** Questions wanted (fewer come out when the corpus cannot support that many). */
  count: number;
  seed?: number;
  /** Share of answer entities held out for the test split. Default 0.2. */
  testFraction?: number;
  /** A supporting page must rank within this many results to count as findable. Default 10. */
  retrievalDepth?: number;
  /** Which templates to use (default: all). */
  kinds?: readonly string[];
  /**
   * What generic questions ask for: 'title' (default) or a key of the pages' `facts` (e.g. 'name'
   * when titles are "ls(1)"). The built-in geo/dictionary templates keep their own answers.
   */
  answerField?: string;
}

export interface SynthResult {
  items: QaItem[];
  /** Candidates dropped, by `kind:reason` (leak, ambiguous-clue, hop-not-needed, not-retrievable…). */
  rejected: Record<string, number>;
}

type Candidate = Omit<QaItem, 'id' | 'split' | 'schemaVersion'> & {
  /**
   * Per hop: the query that must retrieve supportingUrls[i] within `depth` results (depth 1 = the
   * clue singles out that page: the uniqueness check for descriptions), or undefined when the page is
   * reached by a link from the previous hop.
   */
  checks: ({ query: string; depth?: number } | undefined)[];
};

interface Corpus {
  countries: SearchDocument[];
  cities: SearchDocument[];
  terms: SearchDocument[];
  byUrl: Map<string, SearchDocument>;
  cityNameCount: Map<string, number>;
  cityNameCountryCount: Map<string, number>;
}

const fact = (d: SearchDocument, k: string) => d.facts?.[k];
const str = (d: SearchDocument, k: string) => String(d.facts?.[k] ?? '');

function scan(index: LocalSearchIndex): Corpus {
  const c: Corpus = { countries: [], cities: [], terms: [], byUrl: new Map(), cityNameCount: new Map(), cityNameCountryCount: new Map() };
  for (let i = 0; i < index.docs.size; i++) {
    const d = index.document(i);
    const type = fact(d, 'type');
    if (type === 'country') c.countries.push(d);
    else if (type === 'city') {
      c.cities.push(d);
      const n = normalizeAnswer(str(d, 'name'));
      c.cityNameCount.set(n, (c.cityNameCount.get(n) ?? 0) + 1);
      const nc = `${n}|${str(d, 'countryCode')}`;
      c.cityNameCountryCount.set(nc, (c.cityNameCountryCount.get(nc) ?? 0) + 1);
    } else if ((d.site === 'foldoc' || d.site === 'jargon') && d.text.length > 80) c.terms.push(d);
    if (type === 'country' || type === 'city' || d.site === 'foldoc' || d.site === 'jargon') c.byUrl.set(d.url, d);
  }
  return c;
}

/** First sentence of a definition, with the headword hidden, or undefined when too short/long. */
function clue(d: SearchDocument): string | undefined {
  const body = d.text.replace(/^<[^>]+>\s*/, '').replace(/^\([^)]*\)\s*/, '').replace(/\s+/g, ' ');
  const m = /^(.{30,220}?[.!?])(\s|$)/.exec(body);
  if (!m) return undefined;
  let s = m[1]!;
  const words = d.title.split(/\s+/).filter((w) => w.length > 2);
  if (words.length === 0) return undefined;
  for (const w of [d.title, ...words]) s = s.replace(new RegExp(`\\b${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'gi'), '___');
  return s.includes('___') && s.replace(/___/g, '').trim().length < 25 ? undefined : s;
}

const popAliases = (p: number) => [p.toLocaleString('en-US'), String(p)];

/** Question templates; each yields candidates for one seed document. */
const TEMPLATES: Record<string, (d: SearchDocument, c: Corpus) => Candidate | undefined> = {
  capital(d) {
    const cap = str(d, 'capital');
    if (fact(d, 'type') !== 'country' || !cap) return undefined;
    const q = `What is the capital of ${str(d, 'name')}?`;
    return { question: q, answer: [cap], kind: 'capital', hops: 1, supportingUrls: [d.url], answerEntity: cap, checks: [{ query: q }] };
  },
  'city-population'(d, c) {
    if (fact(d, 'type') !== 'city' || c.cityNameCountryCount.get(`${normalizeAnswer(str(d, 'name'))}|${str(d, 'countryCode')}`) !== 1) return undefined;
    const q = `What is the population of ${str(d, 'name')}, a city in ${str(d, 'country')}, according to GeoNames?`;
    return { question: q, answer: popAliases(Number(fact(d, 'population'))), kind: 'city-population', hops: 1, supportingUrls: [d.url], answerEntity: d.url, checks: [{ query: q }] };
  },
  'city-country-capital'(d, c) {
    if (fact(d, 'type') !== 'city' || c.cityNameCount.get(normalizeAnswer(str(d, 'name'))) !== 1) return undefined;
    const country = c.byUrl.get(d.links[0]?.url ?? '');
    const cap = country ? str(country, 'capital') : '';
    if (!country || !cap || normalizeAnswer(cap) === normalizeAnswer(str(d, 'name'))) return undefined;
    const q = `What is the capital of the country in which the city of ${str(d, 'name')} lies?`;
    return { question: q, answer: [cap], kind: 'city-country-capital', hops: 2, supportingUrls: [d.url, country.url], answerEntity: cap, checks: [{ query: q }, undefined] };
  },
  'phone-country-largest-city'(d, c) {
    if (fact(d, 'type') !== 'country' || !str(d, 'largestCity') || !str(d, 'phone')) return undefined;
    const phone = str(d, 'phone');
    const continent = str(d, 'continent');
    // Obscure the country: name it by its calling code and continent, if that pins it down.
    const same = c.countries.filter((x) => str(x, 'phone') === phone && str(x, 'continent') === continent);
    if (same.length !== 1) return undefined;
    const largest = str(d, 'largestCity');
    const q = `Which is the most populous city of the ${continent} country whose international calling code is +${phone.split(', ')[0]}?`;
    return { question: q, answer: [largest], kind: 'phone-country-largest-city', hops: 1, supportingUrls: [d.url], answerEntity: largest, checks: [{ query: q }] };
  },
  'define-term'(d) {
    const s = clue(d);
    if (!s) return undefined;
    const site = d.site === 'jargon' ? 'hacker slang (the Jargon File)' : 'computing (FOLDOC)';
    const q = `Which term in ${site} is described as: "${s}"?`;
    return { question: q, answer: [d.title], kind: 'define-term', hops: 1, supportingUrls: [d.url], answerEntity: normalizeAnswer(d.title), checks: [{ query: s, depth: 1 }] };
  },
  'city-by-id'(d) {
    // A city named only by its GeoNames id: the answer is read off the page (thousands of distinct names).
    const id = /\/city\/(\d+)$/.exec(d.url)?.[1];
    if (fact(d, 'type') !== 'city' || !id || !d.text.includes(`GeoNames id ${id}`)) return undefined;
    const q = `Which city has the GeoNames id ${id}?`;
    return { question: q, answer: [str(d, 'name')], kind: 'city-by-id', hops: 1, supportingUrls: [d.url], answerEntity: d.url, checks: [{ query: `GeoNames id ${id}`, depth: 1 }] };
  },
  'linked-term'(d, c) {
    if (d.site !== 'foldoc' && d.site !== 'jargon') return undefined;
    for (const l of d.links) {
      const target = c.byUrl.get(l.url);
      if (!target || target.site !== d.site) continue;
      const s = clue(target);
      if (!s || normalizeAnswer(target.title) === normalizeAnswer(d.title)) continue;
      const q = `The entry for "${d.title}" refers to another term that is described as: "${s}". Which term is it?`;
      return { question: q, answer: [target.title], kind: 'linked-term', hops: 2, supportingUrls: [d.url, target.url], answerEntity: normalizeAnswer(target.title), checks: [{ query: d.title }, { query: s, depth: 1 }] };
    }
    return undefined;
  },
};

/** Generic templates (any corpus: titles, text, links, facts); see `generic-templates.ts`. */
const GENERIC: Record<string, (ctx: GenericContext, d: SearchDocument, rng: Rng) => Verdict<GenericCandidate>> = {
  'describe-page': (ctx, d) => describePage(ctx, d),
  'link-hop': (ctx, d) => linkHop(ctx, d),
  'page-fact': (ctx, d, rng) => pageFact(ctx, d, rng),
};

/** Names of the question templates: the built-in corpus's, then the generic ones. */
export const QA_KINDS = [...Object.keys(TEMPLATES), ...Object.keys(GENERIC)];
/** The generic templates, which work on any corpus. */
export const GENERIC_QA_KINDS = Object.keys(GENERIC);

/**
 * Synthesizes QA pairs by backtranslation from the corpus: start at an answer entity's page, walk
 * structured facts or links, phrase a question that names the start only indirectly, and keep it
 * only if it is solvable (each supporting page that is not reached by a link ranks within
 * `retrievalDepth` for its hop query) and unique (the identifying detail picks exactly one entity;
 * the question is not a duplicate). Splits train/test by a hash of the answer entity, so no answer
 * appears in both. Deterministic for the same index and seed.
 */
export function synthesizeQa(options: SynthOptions): SynthResult {
  const seed = options.seed ?? 0;
  const rng = new Rng(seed);
  const depth = options.retrievalDepth ?? 10;
  const testFraction = options.testFraction ?? 0.2;
  const unknown = (options.kinds ?? []).filter((k) => !QA_KINDS.includes(k));
  if (unknown.length) throw new ConfigError(`unknown question kind${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; available: ${QA_KINDS.join(', ')}`);
  const kinds = (options.kinds ?? QA_KINDS).slice();
  const answerField = options.answerField ?? 'title';
  const corpus = scan(options.index);
  const all: SearchDocument[] = [];
  const answerCount = new Map<string, number>();
  if (kinds.some((k) => k in GENERIC)) {
    for (let i = 0; i < options.index.docs.size; i++) {
      const d = options.index.document(i);
      all.push(d);
      const a = answerOf(d, answerField);
      if (a) answerCount.set(normalizeAnswer(a), (answerCount.get(normalizeAnswer(a)) ?? 0) + 1);
    }
  }
  const allByUrl = new Map(all.map((d) => [d.url, d]));
  const factCounts = new Map<string, number>();
  for (const d of all) {
    for (const [k, v] of Object.entries(d.facts ?? {})) {
      factCounts.set(k, (factCounts.get(k) ?? 0) + 1);
      factCounts.set(`${k}\u0000${normalizeAnswer(String(v))}`, (factCounts.get(`${k}\u0000${normalizeAnswer(String(v))}`) ?? 0) + 1);
    }
  }
  const factDistinct = new Map<string, Set<string>>();
  const sentenceCounts = new Map<string, number>();
  for (const d of all) {
    for (const [k, v] of Object.entries(d.facts ?? {})) {
      let set = factDistinct.get(k);
      if (!set) factDistinct.set(k, (set = new Set()));
      if (set.size < 1000) set.add(normalizeAnswer(String(v)));
    }
    for (const sentence of new Set(hiddenSentences(d, [answerOf(d, answerField) ?? d.title, ...(d.aliases ?? [])], CLUE_SENTENCES).map(normalizeAnswer))) sentenceCounts.set(sentence, (sentenceCounts.get(sentence) ?? 0) + 1);
  }
  const factShare = (k: string, v: string) => (factCounts.get(`${k}\u0000${normalizeAnswer(v)}`) ?? 0) / Math.max(1, factCounts.get(k) ?? 0);
  const ctx: GenericContext = { index: options.index, tokenizer: new Tokenizer(options.index.manifest.tokenizer), depth, answerField, answerCount, byUrl: (u) => allByUrl.get(u), factShare, factValues: (k) => factDistinct.get(k)?.size ?? 0, factPages: (k) => factCounts.get(k) ?? 0, sentencePages: (x) => sentenceCounts.get(normalizeAnswer(x)) ?? 0 };
  const pools: Record<string, SearchDocument[]> = {};
  for (const k of kinds) {
    const src = k in GENERIC ? (k === 'page-fact' ? all.filter((d) => d.facts) : all) : k === 'define-term' || k === 'linked-term' ? corpus.terms : k.startsWith('city') ? corpus.cities : corpus.countries;
    pools[k] = rng.shuffle(src);
  }
  const rejected: Record<string, number> = {};
  const reject = (r: string) => (rejected[r] = (rejected[r] ?? 0) + 1);
  const seenQuestions = new Set<string>();
  const items: QaItem[] = [];
  const cursor: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
  const ranksWithin = (query: string, url: string, within = depth): boolean => {
    const hits = options.index.search(query, { k: within * 3 + 5 });
    const urls: string[] = [];
    for (const h of hits) {
      const u = options.index.hit(h).url;
      if (!urls.includes(u)) urls.push(u);
      if (urls.length >= within) break;
    }
    return urls.includes(url);
  };
  /** The next candidate of kind `k` that passes its checks, or undefined when the pool is spent. */
  const nextOf = (k: string): Omit<Candidate, 'checks'> | undefined => {
    const pool = pools[k]!;
    while (cursor[k]! < pool.length) {
      const d = pool[cursor[k]!++]!;
      let cand: Omit<Candidate, 'checks'>;
      if (k in GENERIC) {
        const v = GENERIC[k]!(ctx, d, rng);
        if (!v.ok) {
          reject(`${k}:${v.reason}`);
          continue;
        }
        cand = v.value;
      } else {
        const c = TEMPLATES[k]!(d, corpus);
        if (!c) continue;
        if (!c.checks.every((ch, i) => ch === undefined || ranksWithin(ch.query, c.supportingUrls[i]!, ch.depth))) {
          reject(`not-retrievable:${k}`);
          continue;
        }
        const { checks: _checks, ...rest } = c;
        cand = rest;
      }
      if (seenQuestions.has(cand.question)) {
        reject('duplicate');
        continue;
      }
      return cand;
    }
    return undefined;
  };
  let active = kinds.slice();
  while (items.length < options.count && active.length) {
    const next: string[] = [];
    for (const k of active) {
      if (items.length >= options.count) break;
      const cand = nextOf(k);
      if (!cand) continue;
      seenQuestions.add(cand.question);
      const split = hashSeed(seed, cand.answerEntity) / 2 ** 32 < testFraction ? 'test' : 'train';
      items.push({ schemaVersion: QA_SCHEMA_VERSION, id: `${k}-${hashSeed(seed, cand.question).toString(36)}`, split, ...cand });
      next.push(k);
    }
    active = next;
  }
  if (items.length === 0 && options.count > 0) {
    const why = Object.entries(rejected)
      .sort((a, b) => b[1] - a[1])
      .map(([r, n]) => `${r}=${n}`)
      .join(', ');
    throw new ConfigError(
      `no questions could be synthesised from this index (${options.index.info.documents} pages; kinds ${kinds.join(', ')}); ` +
        `rejected: ${why || 'no page fit any template'}. Generic questions need pages with a title (or the answerField fact, now '${answerField}') ` +
        `and a descriptive sentence of 30-240 characters; link-hop needs links between pages; page-fact needs facts.`,
    );
  }
  return { items, rejected };
}
