/**
 * Where along the two-hop chain a policy's held-out episodes go wrong: of the two-hop questions,
 * how often the first query names the question's city, the second query names the country shown
 * in the first results, and the answer is the first title of the last results page; with cited
 * answers (`follow = 'cite'`), how often the city's page and then its country's page were opened,
 * and how often the episode answered after one page (the lazy habit). Reads the
 * episodes `run.ts` writes (`<run>/test/<label>.jsonl`, or a validation eval's `evals/<label>.jsonl`).
 *
 *   npx tsx examples/search-agent/copy-stats.ts runs/search-agent-seed0/test/sft.jsonl [...more files]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface Episode {
  prompt: { role: string; content?: string | null }[];
  completion: { role: string; content?: string | null }[];
  info: Record<string, unknown>;
  answer?: unknown;
  reward?: number;
}

export interface CopyStats {
  twoHop: number;
  /** First action is `<search>city of <the question's city></search>`. */
  cityQuery: number;
  /** ... and the second is `<search>capital of <country in the first result's title></search>`. */
  countryQuery: number;
  /** ... and the answer is the first result's title (before the comma) on the second page. */
  answerFromPage: number;
  /** Two-hop episodes that stop after one search (the lazy teacher's habit). */
  stoppedAfterOneSearch: number;
  /** Each copy on its own, whatever came before: the second query names the country in the first page's first title. */
  countryQueryAny: number;
  /** All episodes (one- and two-hop) that saw a page: the answer is the last view's title (a results page's first title, or an opened page's title), before the comma. */
  sawPage: number;
  answerFromPageAny: number;
  /** Episodes whose last page's first title is the (held-out) gold answer, and of those, answered with it: a copy of an unseen name. */
  goldOnPage: number;
  answeredGoldOnPage: number;
}

const CITY = /the city of (.+) lies\?$/;
const firstTitle = (page: string | null | undefined) => /【0†([^】]+)】/.exec(page ?? '')?.[1];
/** A view's title: a results page's first title, or an opened page's title (its first line). */
const viewTitle = (view: string) => (view.startsWith('<information>【') ? firstTitle(view) : /^<information>([^\n]+)\n/.exec(view)?.[1]);

/** Counts each link of the chain over the two-hop episodes. */
export function copyStats(episodes: readonly Episode[]): CopyStats {
  const s: CopyStats = { twoHop: 0, cityQuery: 0, countryQuery: 0, answerFromPage: 0, stoppedAfterOneSearch: 0, countryQueryAny: 0, sawPage: 0, answerFromPageAny: 0, goldOnPage: 0, answeredGoldOnPage: 0 };
  for (const e of episodes) {
    const pages = e.completion.filter((m) => m.role === 'user').map((m) => m.content ?? '');
    const lastAction = e.completion.filter((m) => m.role === 'assistant').at(-1)?.content ?? '';
    if (pages.length > 0) {
      s.sawPage++;
      const title = viewTitle(pages.at(-1)!)?.split(', ')[0];
      if (title && lastAction === `<answer>${title}</answer>`) s.answerFromPageAny++;
      if (title && Array.isArray(e.answer) && e.answer.includes(title)) {
        s.goldOnPage++;
        if (lastAction === `<answer>${title}</answer>`) s.answeredGoldOnPage++;
      }
    }
    if (e.info['hops'] !== 2) continue;
    s.twoHop++;
    const c = e.completion.map((m) => m.content ?? '');
    const actions = e.completion.filter((m) => m.role === 'assistant').map((m) => m.content ?? '');
    if (actions.filter((a) => a.startsWith('<search>')).length === 1 && actions.at(-1)?.startsWith('<answer>')) s.stoppedAfterOneSearch++;
    const anyCountry = firstTitle(c[1])?.split(', ').slice(1).join(', ');
    if (anyCountry && c[2] === `<search>capital of ${anyCountry}</search>`) s.countryQueryAny++;
    const city = CITY.exec(e.prompt.at(-1)?.content ?? '')?.[1];
    if (!city || c[0] !== `<search>city of ${city}</search>`) continue;
    s.cityQuery++;
    const country = firstTitle(c[1])?.split(', ').slice(1).join(', ');
    if (!country || c[2] !== `<search>capital of ${country}</search>`) continue;
    s.countryQuery++;
    const capital = firstTitle(c[3])?.split(', ')[0];
    if (capital && c[4] === `<answer>${capital}</answer>`) s.answerFromPage++;
  }
  return s;
}

export interface CiteStats {
  twoHop: number;
  /** First action is `<search>city of <the question's city></search>`. */
  cityQuery: number;
  /** An opened page is the question's city ("<city>, <country>"). */
  openedCity: number;
  /** ... and a later opened page is that city's country. */
  openedCountry: number;
  /** ... and the answer was right. */
  right: number;
  /** Episodes that answer after opening one page (the lazy teacher's habit: cite the city page's country). */
  stoppedAfterOnePage: number;
}

/** The chain of a cited-answer episode (`follow = 'cite'`) over the two-hop episodes. */
export function citeStats(episodes: readonly Episode[]): CiteStats {
  const s: CiteStats = { twoHop: 0, cityQuery: 0, openedCity: 0, openedCountry: 0, right: 0, stoppedAfterOnePage: 0 };
  for (const e of episodes) {
    if (e.info['hops'] !== 2) continue;
    s.twoHop++;
    const city = CITY.exec(e.prompt.at(-1)?.content ?? '')?.[1];
    const c = e.completion.map((m) => m.content ?? '');
    if (city && c[0] === `<search>city of ${city}</search>`) s.cityQuery++;
    // Opened pages: the replies to <open> actions; a compact page view starts with its title.
    const opened = c.flatMap((text, i) => (text.startsWith('<open>') && c[i + 1] !== undefined ? [viewTitle(c[i + 1]!) ?? ''] : []));
    const cityPage = opened.findIndex((t) => city !== undefined && t.startsWith(`${city}, `));
    if (opened.length === 1 && c.at(-1)?.startsWith('<answer>')) s.stoppedAfterOnePage++;
    if (cityPage < 0) continue;
    s.openedCity++;
    const country = opened[cityPage]!.split(', ').slice(1).join(', ');
    if (!opened.slice(cityPage + 1).includes(country)) continue;
    s.openedCountry++;
    if (e.reward === 1) s.right++;
  }
  return s;
}

function readEpisodes(path: string): Episode[] {
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.json')) return (JSON.parse(text) as { results: Episode[] }).results;
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Episode);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL('.', import.meta.url).pathname, 'copy-stats.ts')) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: copy-stats.ts EPISODES.jsonl|EVAL.json [...]\n');
    process.exit(2);
  }
  for (const f of files) {
    const episodes = readEpisodes(f);
    if (episodes.some((e) => e.completion.some((m) => m.role === 'assistant' && m.content?.startsWith('<answer>【')))) {
      const c = citeStats(episodes);
      const pct = (n: number) => `${n} (${((100 * n) / Math.max(1, c.twoHop)).toFixed(1)}%)`;
      process.stdout.write(`${f}: ${c.twoHop} two-hop · city query ${pct(c.cityQuery)} · opened the city ${pct(c.openedCity)} · + its country ${pct(c.openedCountry)} · + right ${pct(c.right)} · answered after one page ${pct(c.stoppedAfterOnePage)}\n`);
      continue;
    }
    const s = copyStats(episodes);
    const pct = (n: number) => `${n} (${((100 * n) / Math.max(1, s.twoHop)).toFixed(1)}%)`;
    process.stdout.write(`${f}: ${s.twoHop} two-hop · city query ${pct(s.cityQuery)} · + country query ${pct(s.countryQuery)} · + answer from page ${pct(s.answerFromPage)} · stopped after one search ${pct(s.stoppedAfterOneSearch)}\n`);
    process.stdout.write(`  each copy on its own: country query after any first search ${pct(s.countryQueryAny)} · answer = last page's first title ${s.answerFromPageAny} of ${s.sawPage} episodes with a page · gold answer there: ${s.goldOnPage}, copied ${s.answeredGoldOnPage}\n`);
  }
}
