import { describe, expect, it } from 'vitest';
import { ConfigError, EnvError } from '../../core/errors.js';
import type { SearchDocument } from '../corpus/document.js';
import { LocalSearchIndex } from '../local-index.js';
import { Browser } from './browser.js';
import { SearchWeb } from './search-web.js';

function corpus(): SearchDocument[] {
  const docs: SearchDocument[] = [];
  for (let i = 0; i < 30; i++) {
    docs.push({ id: `fruit${i}`, url: `https://t.local/fruit/${i}`, title: `Fruit ${i}`, text: `Fruit number ${i} is an apple variety grown in orchard ${i}.`, site: 't', links: [] });
  }
  const long = Array.from({ length: 120 }, (_, i) => `Paragraph ${i} talks about pears and ${i % 10 === 0 ? 'the rare quince' : 'plums'}.`).join('\n\n');
  docs.push({ id: 'long', url: 'https://t.local/long', title: 'Long page', text: long, site: 't', links: [{ text: 'pears', url: 'https://t.local/fruit/0' }, { text: 'nowhere', url: 'https://t.local/fruit/1' }] });
  return docs;
}

describe('SearchWeb', async () => {
  const index = await LocalSearchIndex.build({ documents: corpus() });
  const web = new SearchWeb(index, { pageSize: 5, snippetChars: 60 });

  it('paginates results pages with ranks and highlighted snippets', async () => {
    const p1 = await web.search({ query: 'apple orchard' });
    expect(p1.results).toHaveLength(5);
    expect(p1.results.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
    expect(p1.totalResults).toBeGreaterThan(5);
    expect(p1.results[0]!.snippet).toMatch(/\*\*apple\*\*/);
    const p2 = await web.search({ query: 'apple orchard', page: 2 });
    expect(p2.results[0]!.rank).toBe(6);
    const urls1 = new Set(p1.results.map((r) => r.url));
    expect(p2.results.some((r) => urls1.has(r.url))).toBe(false);
    expect((await web.search({ query: 'apple', page: 7 })).results).toEqual([]);
  });

  it('rejects bad queries and pages', async () => {
    await expect(web.search({ query: '   ' })).rejects.toThrow(ConfigError);
    await expect(web.search({ query: 'x'.repeat(600) })).rejects.toThrow(/too long/);
    await expect(web.search({ query: 'apple', page: 0 })).rejects.toThrow(/page/);
    await expect(web.open({ url: 'https://t.local/none' })).rejects.toThrow(EnvError);
  });

  it('opens pages as numbered line windows with link ids', async () => {
    const v = await web.open({ url: 'https://t.local/long', line: 1, lines: 10 });
    expect(v.startLine).toBe(1);
    expect(v.endLine).toBe(10);
    expect(v.totalLines).toBeGreaterThan(200);
    expect(v.lines[0]).toBe('Paragraph 0 talks about 【0†pears】 and the rare quince.');
    expect(v.links).toEqual([{ id: 0, text: 'pears', url: 'https://t.local/fruit/0' }]);
    const end = await web.open({ id: 'long', line: 100_000 });
    expect(end.endLine).toBe(end.totalLines);
    // An anchor missing from the text is listed at the end under "Links:".
    expect(end.lines.at(-1)).toBe('【1†nowhere】');
  });

  it('finds a pattern with line numbers', async () => {
    const f = await web.find({ url: 'https://t.local/long', pattern: 'RARE QUINCE' });
    expect(f.totalMatches).toBe(12);
    expect(f.matches[0]).toEqual({ line: 1, text: 'Paragraph 0 talks about 【0†pears】 and the rare quince.' });
    expect(f.matches[1]!.line).toBe(21);
  });

  it('noise replaces results deterministically for a seed, rising with probability', async () => {
    const noisy = (seed: number, p: number) => new SearchWeb(index, { pageSize: 5, seed, noise: { replaceProb: p } });
    const a = await noisy(1, 0.5).search({ query: 'apple orchard 3' });
    const b = await noisy(1, 0.5).search({ query: 'apple orchard 3' });
    expect(a).toEqual(b);
    const all = await noisy(1, 1).searchWithTruth({ query: 'apple orchard 3' });
    expect(all.noise.map((n) => [n.kind, n.rank])).toEqual(all.serp.results.map((r) => ['distractor', r.rank]));
    const clean = await noisy(1, 0).search({ query: 'apple orchard 3' });
    expect(clean.results[0]!.url).toBe('https://t.local/fruit/3');
    expect(all.serp.results.map((r) => r.url)).not.toContain('https://t.local/fruit/3');
    expect(all.noise[0]!.replaced).toBe('https://t.local/fruit/3');
  });

  it('noise leaves no trace in what the API returns: same fields, scores in rank order', async () => {
    const noisy = new SearchWeb(index, { pageSize: 5, seed: 4, noise: { replaceProb: 0.5 } });
    const { serp, noise } = await noisy.searchWithTruth({ query: 'apple orchard 3' });
    expect(noise.length).toBeGreaterThan(0);
    expect(noise.length).toBeLessThan(5);
    const clean = await web.search({ query: 'apple orchard 3' });
    for (const r of serp.results) expect(Object.keys(r).sort()).toEqual(Object.keys(clean.results[0]!).sort());
    const scores = serp.results.map((r) => r.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores).toEqual(clean.results.map((r) => r.score));
    expect(JSON.stringify(serp)).not.toMatch(/inject|noise|distract/i);
  });

  it('dead-link noise: results still list the page, opening it is a 404, the truth is recorded', async () => {
    const dead = new SearchWeb(index, { pageSize: 10, seed: 2, noise: { deadLinkProb: 0.5 } });
    const { serp, noise } = await dead.searchWithTruth({ query: 'apple orchard' });
    const gone = noise.filter((n) => n.kind === 'dead').map((n) => n.url);
    expect(gone.length).toBeGreaterThan(0);
    expect(gone.length).toBeLessThan(serp.results.length);
    await expect(dead.open({ url: gone[0]! })).rejects.toThrow(/404/);
    const alive = serp.results.find((r) => !gone.includes(r.url))!;
    expect((await dead.open({ url: alive.url })).url).toBe(alive.url);
    dead.setNoise({ deadLinkProb: 0 });
    expect((await dead.open({ url: gone[0]! })).url).toBe(gone[0]);
    expect(() => dead.setNoise({ replaceProb: 2 })).toThrow(ConfigError);
  });
});

describe('Browser', async () => {
  const index = await LocalSearchIndex.build({ documents: corpus() });
  const web = new SearchWeb(index, { pageSize: 3 });

  it('follows result and page links by id and cursor, scrolls, and finds', async () => {
    const b = new Browser(web);
    const s = await b.search({ query: 'quince' });
    expect(s.cursor).toBe(0);
    expect(s.text).toContain('【0†Long page】 https://t.local/long');
    const page = await b.open({ id: 0 });
    expect(page.cursor).toBe(1);
    expect(page.text).toContain('[viewing lines 1–40 of');
    expect(page.text).toContain('L 1: Paragraph 0');
    const next = await b.open({ cursor: 1, line: 41 });
    expect(next.data.startLine).toBe(41);
    const linked = await b.open({ cursor: 1, id: 0 });
    expect(linked.data.url).toBe('https://t.local/fruit/0');
    const f = await b.find({ pattern: 'quince', cursor: 1 });
    expect(f.text).toMatch(/^12 matches for "quince" in Long page:\nL1: /);
    expect(b.visitedUrls).toEqual(['https://t.local/long', 'https://t.local/long', 'https://t.local/fruit/0']);
    await expect(b.open({ cursor: 9, id: 0 })).rejects.toThrow(/no view with cursor 9/);
    await expect(b.open({ cursor: 0, id: 7 })).rejects.toThrow(/has no link 7/);
    await expect(b.find({ pattern: 'x', cursor: 0 })).rejects.toThrow(/results page/);
  });

  it("shows results pages in the compact format when the web's serpFormat is 'compact'", async () => {
    const compact = new SearchWeb(index, { pageSize: 2, snippetChars: 40, serpFormat: 'compact' });
    const s = await new Browser(compact).search({ query: 'apple orchard 3' });
    const lines = s.text.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe("【0†Fruit 3】 …3 is an apple variety grown in orchard…");
    expect(s.text).not.toMatch(/\*\*|https:|Search results|more on page/);
    expect((await new Browser(compact).search({ query: 'zzz' })).text).toBe('No results.');
  });
});

describe('makeSnippet', () => {
  it('bolds query words without their punctuation and marks cut text', async () => {
    const { makeSnippet } = await import('./snippet.js');
    const { Tokenizer } = await import('../index/tokenizer.js');
    const text = 'Intro words here. The "Blue Screen" of Death, as seen on Windows. ' + 'filler '.repeat(60);
    const s = makeSnippet({ text, query: 'blue screen death', tokenizer: new Tokenizer(), maxChars: 60 });
    expect(s).toContain('"**Blue** **Screen**" of **Death**,');
    expect(s.endsWith('…')).toBe(true);
  });

  it('finds the same words and query hits on its ASCII fast path as on the general path', async () => {
    const { splitAsciiWords, splitWords } = await import('./snippet.js');
    const { Tokenizer } = await import('../index/tokenizer.js');
    const texts = [
      'The "Blue Screen" of Death, as seen on Windows 95/98.',
      '  tabs\tand\nnewlines\r\n(parens) x-ray X-RAYS e-mail;emails 3.14 a1b2 ...',
      'Screens screening SCREEN screen, the THE an; supercalifragilistic supercalifragilisticexpialidocious',
    ];
    const queries = ['blue screen death', 'x-ray emails', 'the screens', 'supercalifragilisticexpialidocious 14 a1b2'];
    const configs = [{}, { stem: true }, { lowercase: false }, { stopwords: false, maxLength: 8 }, { minLength: 3 }];
    for (const config of configs) {
      const tokenizer = new Tokenizer(config);
      for (const query of queries) {
        const terms = new Map<string, number>();
        for (const t of tokenizer.tokenize(query)) if (!terms.has(t)) terms.set(t, terms.size);
        for (const text of texts) {
          const fast = { start: [], end: [], hit: [] };
          const general = { start: [], end: [], hit: [] };
          splitAsciiWords(text, tokenizer, terms, fast);
          splitWords(text, tokenizer, terms, general);
          expect(fast, JSON.stringify({ config, query, text })).toEqual(general);
        }
      }
    }
  });
});
