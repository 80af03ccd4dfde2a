import { normalizeAnswer } from '../../rubrics/answer-match.js';
import type { SearchDocument } from '../corpus/document.js';
import { Tokenizer } from '../index/tokenizer.js';
import type { LocalSearchIndex } from '../local-index.js';

/**
 * Question templates that need nothing but titles, text and links, so they work on any corpus:
 *
 * - `describe-page` (1 hop): a sentence of the page with its name hidden → the page's answer
 *   field. Kept only if the clue does not give the answer away (no answer word left in it), ranks
 *   the page first, and by a margin over the runner-up (else another page fits it as well:
 *   ambiguous).
 * - `link-hop` (2 hops): "page A links to a page described as <clue>" → B's answer field. The
 *   clue is cut down until it no longer finds B by itself within `depth` results (so the first hop
 *   is necessary: checked by retrieval), A's title must find A, and among A's links only B may fit
 *   the clue.
 * - `page-fact` (1 hop): a page's structured fact ("What is the <key> of <title>?"), for pages with
 *   `facts`; the title must name one page only and the question must find it.
 *
 * The answer is the page's `answerField`: 'title' (default) or a key of its facts; aliases and the
 * other spelling are accepted answers.
 */
export interface GenericContext {
  index: LocalSearchIndex;
  tokenizer: Tokenizer;
  depth: number;
  answerField: string;
  /** Pages per normalised answer (for ambiguity). */
  answerCount: Map<string, number>;
  byUrl: (url: string) => SearchDocument | undefined;
  /** Share of the pages with fact `key` whose value is `value`. */
  factShare: (key: string, value: string) => number;
  /** Pages with fact `key`. */
  factPages: (key: string) => number;
  /** Distinct values of fact `key` in the corpus. */
  factValues: (key: string) => number;
  /** Pages containing a sentence (normalised, names hidden), counted over each page's first sentences. */
  sentencePages: (sentence: string) => number;
}

/** How many sentences of each page `sentencePages` counts. */
export const CLUE_SENTENCES = 12;

/** A candidate with its verdict: either the question or the reason it was rejected. */
export type Verdict<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface GenericCandidate {
  question: string;
  answer: string[];
  kind: string;
  hops: number;
  supportingUrls: string[];
  answerEntity: string;
}

const reject = <T>(reason: string): Verdict<T> => ({ ok: false, reason });

/** The page's answer under `field` (its title, or a fact), or undefined when it has none. */
export function answerOf(d: SearchDocument, field: string): string | undefined {
  const v = field === 'title' ? d.title : d.facts?.[field];
  const s = v === undefined ? '' : String(v).trim();
  return s ? s : undefined;
}

/** Accepted answers: the answer, the page's aliases, and the title when the answer is a fact. */
function accepted(d: SearchDocument, answer: string): string[] {
  const out = [answer, ...(d.aliases ?? [])];
  return [...new Set(out.filter((x) => x.trim()))];
}

/** Content words of a text (the index's tokenizer: lowercase, folded, no stopwords). */
function words(ctx: GenericContext, text: string): Set<string> {
  return new Set(ctx.tokenizer.tokenize(text));
}

/** True when a word of any accepted answer (or of the title) is in the text: the clue gives it away. */
function leaks(ctx: GenericContext, text: string, d: SearchDocument, answers: string[]): boolean {
  const w = [...words(ctx, text)];
  for (const a of [...answers, d.title]) {
    const ts = [...words(ctx, a)];
    // A number beside words ("awk(1)") is a qualifier, not the name.
    const named = ts.some((t) => !/^\d+$/.test(t));
    for (const t of ts) if (!(named && /^\d+$/.test(t)) && w.some((x) => giveaway(x, t))) return true;
  }
  return false;
}

/**
 * Whether clue word `w` gives answer word `t` away: the same word, a word that starts with it
 * ("fwmark" for "fw"), or the same stem ("sampling" for "sample": all but the answer's last letter shared).
 */
export function giveaway(w: string, t: string): boolean {
  if (w === t || (t.length >= 2 && w.startsWith(t))) return true;
  if (t.length < 5) return false;
  return w.startsWith(t.slice(0, -1));
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Sentences of a page, whitespace collapsed. */
export function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+(?=[A-Z0-9"(])/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Clues for a page, in page order: sentences (of the first `max`) that, once the page's names are
 * hidden, are 30..240 characters of prose with at least four content words and none of the answer's.
 */
export function pageClues(ctx: GenericContext, d: SearchDocument, answers: string[], max = 5): string[] {
  const out: string[] = [];
  for (const c of hiddenSentences(d, answers, max)) {
    if (c.length < 30 || c.length > 240) continue;
    if (words(ctx, c.replace(/___/g, ' ')).size < 4) continue;
    // Prose, not a path or a table row: six words of letters, at most two hidden names.
    if ((c.match(/(?<![\p{L}\p{N}/._-])\p{L}{3,}(?![\p{L}\p{N}/._-])/gu) ?? []).length < 6) continue;
    if ((c.match(/___/g) ?? []).length > 2) continue;
    if (leaks(ctx, c, d, answers)) continue;
    // Boilerplate shared by other pages ("With no FILE, read standard input.") describes none of them.
    if (ctx.sentencePages(c) > 1) continue;
    out.push(c);
  }
  return out;
}

/** The page's first `max` sentences with its names (answers, title, title words) hidden as ___. */
export function hiddenSentences(d: SearchDocument, answers: readonly string[], max: number): string[] {
  const names = [...new Set([...answers, d.title, ...d.title.split(/[\s(),:;/]+/)].map((n) => n.trim()).filter((n) => n.length > 1))].sort((a, b) => b.length - a.length);
  return sentences(d.text)
    .slice(0, max)
    .map((s) => {
      let c = s;
      for (const n of names) c = c.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRe(n)}(?![\\p{L}\\p{N}])`, 'giu'), '___');
      return c.replace(/(___[\s,]*)+___/g, '___');
    });
}

/** The first clue for a page (see `pageClues`). */
export function pageClue(ctx: GenericContext, d: SearchDocument, answers: string[]): string | undefined {
  return pageClues(ctx, d, answers)[0];
}

/** Distinct pages for a query, best first, with their best passage score. */
function rankedPages(ctx: GenericContext, query: string, want: number): { url: string; score: number }[] {
  const hits = ctx.index.search(query, { k: want * 3 + 5 });
  const out: { url: string; score: number }[] = [];
  const seen = new Set<string>();
  for (const h of hits) {
    const u = ctx.index.hit(h).url;
    if (seen.has(u)) continue;
    seen.add(u);
    out.push({ url: u, score: h.score });
    if (out.length >= want) break;
  }
  return out;
}

const ranksWithin = (ctx: GenericContext, query: string, url: string, within: number) => rankedPages(ctx, query, within).some((p) => p.url === url);

/** The question's answer is not unique when another page has the same answer under the field. */
function ambiguousAnswer(ctx: GenericContext, answer: string): boolean {
  return (ctx.answerCount.get(normalizeAnswer(answer)) ?? 0) > 1;
}

export function describePage(ctx: GenericContext, d: SearchDocument): Verdict<GenericCandidate> {
  const answer = answerOf(d, ctx.answerField);
  if (!answer) return reject('no-answer-field');
  if (answer.split(/\s+/).length > 6) return reject('answer-too-long');
  if (ambiguousAnswer(ctx, answer)) return reject('ambiguous-answer');
  const answers = accepted(d, answer);
  // Only the page's opening sentences: later ones ("Every cluster is identified by its name.") fit
  // sibling pages as well.
  const clue = pageClues(ctx, d, answers, 1)[0];
  if (!clue) return reject('no-clue');
  const top = rankedPages(ctx, clue.replace(/___/g, ' '), 2);
  if (top[0]?.url !== d.url) return reject('not-retrievable');
  // A runner-up scoring within 20% of the page fits the clue nearly as well: ambiguous.
  if (top[1] && top[1].score >= 0.8 * top[0].score) return reject('ambiguous-clue');
  const label = ctx.answerField === 'title' ? 'title' : ctx.answerField;
  // (The clue was checked for leaks; the template's own words are not the page's.)
  const question = `Which page on ${d.site} is described as follows: "${clue}"? Give its ${label}.`;
  return { ok: true, value: { question, answer: answers, kind: 'describe-page', hops: 1, supportingUrls: [d.url], answerEntity: d.url } };
}

export function linkHop(ctx: GenericContext, a: SearchDocument): Verdict<GenericCandidate> {
  if (a.links.length === 0) return reject('no-links');
  if (!ranksWithin(ctx, a.title, a.url, ctx.depth)) return reject('first-hop-not-retrievable');
  let last = 'no-linked-page';
  const targets = [...new Map(a.links.map((l) => ctx.byUrl(l.url)).filter((t): t is SearchDocument => t !== undefined && t.url !== a.url).map((t) => [t.url, t])).values()];
  // With one link the description would not matter: the question must make the agent choose.
  if (targets.length < 2) return reject('single-link');
  for (const b of targets) {
    const answer = answerOf(b, ctx.answerField);
    if (!answer || answer.split(/\s+/).length > 6) continue;
    if (ambiguousAnswer(ctx, answer)) {
      last = 'ambiguous-answer';
      continue;
    }
    const answers = accepted(b, answer);
    const clues = pageClues(ctx, b, answers, CLUE_SENTENCES);
    if (clues.length === 0) {
      last = 'no-clue';
      continue;
    }
    // A sentence of B that does not find B on its own (within `depth`): only the link from A leads there.
    const clue = clues.find((c) => !ranksWithin(ctx, c.replace(/___/g, ' '), b.url, ctx.depth));
    if (!clue) {
      last = 'hop-not-needed';
      continue;
    }
    // Among A's links, B must be the only page whose text has all of the clue's words.
    const cw = [...words(ctx, clue.replace(/___/g, ' '))];
    const fits = targets.filter((t) => {
      const tw = words(ctx, `${t.title} ${t.text}`);
      return cw.every((w) => tw.has(w));
    });
    if (fits.length !== 1 || fits[0]!.url !== b.url) {
      last = 'ambiguous-link';
      continue;
    }
    const label = ctx.answerField === 'title' ? 'title' : ctx.answerField;
    const question = `The page "${a.title}" on ${a.site} links to a page described as: "${clue}". What is that page's ${label}?`;
    // The first page's title must not give B away either ("git-diff(1)" links to "diff").
    if (leaks(ctx, `${a.title} ${clue}`, b, answers)) {
      last = 'leak';
      continue;
    }
    return { ok: true, value: { question, answer: answers, kind: 'link-hop', hops: 2, supportingUrls: [a.url, b.url], answerEntity: b.url } };
  }
  return reject(last);
}

const SKIP_FACTS = new Set(['type', 'id', 'name', 'url', 'title']);

export function pageFact(ctx: GenericContext, d: SearchDocument, rng: { int(a: number, b: number): number }): Verdict<GenericCandidate> {
  const keys = Object.keys(d.facts ?? {}).filter((k) => !SKIP_FACTS.has(k) && k !== ctx.answerField && String(d.facts![k]).trim());
  if (keys.length === 0) return reject('no-facts');
  const name = answerOf(d, ctx.answerField) ?? d.title;
  if (ambiguousAnswer(ctx, name)) return reject('ambiguous-subject');
  const key = keys[rng.int(0, keys.length - 1)]!;
  const value = String(d.facts![key]);
  // A value most pages share ("section 1") can be guessed without searching.
  const share = ctx.factShare(key, value);
  if (share * ctx.factPages(key) > Math.max(2, 0.05 * ctx.factPages(key)) || ctx.factValues(key) < Math.min(20, ctx.factPages(key) / 2)) return reject('guessable-answer');
  if (value.split(/\s+/).length > 8) return reject('answer-too-long');
  const label = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  const question = `On ${d.site}, what is the ${label} of ${name}?`;
  // Answerable: the value must be readable on the page itself.
  if (!` ${normalizeAnswer(`${d.title} ${d.text}`)} `.includes(` ${normalizeAnswer(value)} `)) return reject('answer-not-on-page');
  const vw = words(ctx, value);
  const qw = words(ctx, question);
  if (vw.size > 0 && [...vw].every((w) => qw.has(w))) return reject('leak');
  if (!ranksWithin(ctx, question, d.url, ctx.depth)) return reject('not-retrievable');
  return { ok: true, value: { question, answer: [value], kind: 'page-fact', hops: 1, supportingUrls: [d.url], answerEntity: `${d.url}#${key}` } };
}
