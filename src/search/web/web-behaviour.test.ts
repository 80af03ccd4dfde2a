import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import type { SearchDocument } from '../corpus/document.js';
import { LocalSearchIndex } from '../local-index.js';
import { Browser } from './browser.js';
import { layoutPage, plainText } from './page-lines.js';
import { parseQuery } from './query-operators.js';
import { SearchWeb, urlVariants } from './search-web.js';

const doc = (id: string, site: string, title: string, text: string, links: SearchDocument['links'] = []): SearchDocument => ({ id, url: `https://${site}.local/wiki/${id}`, title, text, site, links });

function corpus(): SearchDocument[] {
  const docs: SearchDocument[] = [
    doc('Peru', 'geo', 'Peru', 'Peru is a country in South America. Its capital is Lima and its currency is the sol. Peruvian food is famous.', [
      { text: 'Lima', url: 'https://geo.local/wiki/Lima' },
      { text: 'South America', url: 'https://geo.local/wiki/South_America' },
      { text: 'sol', url: 'https://money.local/wiki/sol' },
    ]),
    doc('Lima', 'geo', 'Lima', 'Lima is the capital of Peru, on the Pacific coast.'),
    doc('sol', 'money', 'Sol', 'The sol is the currency of Peru.'),
    doc('llama', 'zoo', 'Llama', 'The llama is a domesticated camelid from the Andes of Peru, kept for wool.'),
    doc('alpaca', 'zoo', 'Alpaca', 'The alpaca is a camelid from the Andes, smaller than the llama.'),
    // A mirror: same title and text at another host.
    { ...doc('alpaca', 'mirror', 'Alpaca', 'The alpaca is a camelid from the Andes, smaller than the llama.'), id: 'mirror-alpaca' },
  ];
  for (let i = 0; i < 40; i++) docs.push(doc(`andes${i}`, 'hike', `Andes trail ${i}`, `Trail ${i} crosses the Andes mountains near ${i % 2 ? 'Cusco' : 'Quito'}.`));
  return docs;
}

describe('pages: link markers, find across them, line counts', async () => {
  it('places each link at its own first whole-word occurrence, whatever order the links are listed in', () => {
    const text = 'Peruvian food. Peru borders Chile; Lima is the capital of Peru.';
    const l = layoutPage(text, [
      { text: 'Lima', url: 'https://geo.local/Lima' },
      { text: 'Peru', url: 'https://geo.local/Peru' },
      { text: 'Chile', url: 'https://other.org/Chile' },
    ], { pageUrl: 'https://geo.local/x', width: 200 });
    expect(l.lines[0]).toBe('Peruvian food. 【1†Peru】 borders 【2†Chile†other.org】; 【0†Lima】 is the capital of Peru.');
    expect(l.lines.join('\n')).not.toContain('Links:');
    const always = layoutPage('see Lima', [{ text: 'Lima', url: 'https://geo.local/Lima' }], { pageUrl: 'https://geo.local/x', linkDomains: 'always' });
    expect(always.lines[0]).toBe('see 【0†Lima†geo.local】');
    const never = layoutPage('see Chile', [{ text: 'Chile', url: 'https://other.org/Chile' }], { linkDomains: 'never' });
    expect(never.lines[0]).toBe('see 【0†Chile】');
  });

  it('reads the plain text through markers, wrapping and blank lines', () => {
    const p = plainText(['The capital is 【0†Lima†geo.local】 and', '', 'the 【1†currency', 'is】 sol.']);
    expect(p.text).toBe('the capital is lima and the currency is sol.');
    expect(p.lineOf[p.text.indexOf('currency')]).toBe(2);
    expect(p.lineOf[p.text.indexOf('sol')]).toBe(3);
  });

  const index = await LocalSearchIndex.build({ documents: corpus() });
  const web = new SearchWeb(index, { pageSize: 5, lineWidth: 30 });

  it('find matches a phrase that crosses a link marker and a line break, on the line it starts', async () => {
    const f = await web.find({ url: 'https://geo.local/wiki/Peru', pattern: 'capital is Lima' });
    expect(f.totalMatches).toBe(1);
    const view = await web.open({ url: 'https://geo.local/wiki/Peru', lines: 100 });
    expect(view.lines[f.matches[0]!.line - 1]).toContain('capital');
    expect((await web.find({ url: 'https://geo.local/wiki/Peru', pattern: 'currency is the sol' })).totalMatches).toBe(1);
    expect((await web.find({ url: 'https://geo.local/wiki/Peru', pattern: 'money.local' })).totalMatches).toBe(0);
  });

  it('open takes a line count and search a result count, both bounded', async () => {
    const b = new Browser(web);
    const s = await b.search({ query: 'andes trail', pageSize: 12 });
    expect(s.data.results).toHaveLength(12);
    await expect(b.search({ query: 'andes', pageSize: 51 })).rejects.toThrow(ConfigError);
    const v = await b.open({ url: 'https://geo.local/wiki/Peru', lines: 2 });
    expect(v.data.endLine - v.data.startLine + 1).toBe(2);
    await expect(b.open({ url: 'https://geo.local/wiki/Peru', lines: 501 })).rejects.toThrow(/1\.\.500/);
  });

  it('the view cap is configurable and says how to raise it', async () => {
    const b = new Browser(web, { maxViews: 2 });
    await b.search({ query: 'lima' });
    await b.open({ id: 0 });
    await expect(b.search({ query: 'peru' })).rejects.toThrow(/2 views; raise maxViews/);
    expect(() => new Browser(web, { maxViews: 0 })).toThrow(ConfigError);
  });
});

describe('a web: URLs, site roots, operators, duplicates, counts', async () => {
  const index = await LocalSearchIndex.build({ documents: corpus() });
  const web = new SearchWeb(index, { pageSize: 5 });

  it('resolves http, case, fragments, trailing slashes, missing schemes and encodings to the page (as redirects)', async () => {
    for (const u of ['http://geo.local/wiki/Peru', 'https://GEO.local/wiki/Peru', 'https://geo.local/wiki/Peru#History', 'https://geo.local/wiki/Peru/', 'geo.local/wiki/Peru', 'https://geo.local:443/wiki/Peru']) {
      const v = await web.open({ url: u });
      expect(v.url, u).toBe('https://geo.local/wiki/Peru');
      expect(v.redirectedFrom).toBe(u);
    }
    expect((await web.open({ url: 'https://geo.local/wiki/Peru' })).redirectedFrom).toBeUndefined();
    expect(urlVariants('https://x.local/a%20b')).toContain('https://x.local/a b');
    await expect(web.open({ url: 'https://geo.local/wiki/Atlantis' })).rejects.toThrow(/404/);
  });

  it('serves a root page for each site', async () => {
    const root = await web.open({ url: 'https://zoo.local' });
    expect(root.url).toBe('https://zoo.local/');
    expect(root.lines.join(' ')).toMatch(/2 pages.*site:zoo\.local/);
    await expect(web.open({ url: 'https://nosuch.local/' })).rejects.toThrow(/404/);
  });

  it('parses site:, "phrases" and -terms', () => {
    expect(parseQuery('camelid site:zoo.local "the Andes" -wool')).toEqual({ text: 'the Andes camelid', sites: ['zoo.local'], phrases: ['the andes'], exclude: ['wool'] });
    expect(() => parseQuery('site:zoo.local -llama')).toThrow(/only operators/);
  });

  it('applies the operators to results', async () => {
    const site = await web.search({ query: 'Peru site:zoo.local' });
    expect(site.results.map((r) => r.url)).toEqual(['https://zoo.local/wiki/llama']);
    const phrase = await web.search({ query: '"capital of Peru"' });
    expect(phrase.results.map((r) => r.url)).toEqual(['https://geo.local/wiki/Lima']);
    const minus = await web.search({ query: 'camelid andes -wool' });
    expect(minus.results.map((r) => r.url)).not.toContain('https://zoo.local/wiki/llama');
    expect(minus.results.length).toBeGreaterThan(0);
  });

  it('collapses near-duplicates (a mirror with the same title and passage)', async () => {
    const r = await web.search({ query: 'alpaca camelid' });
    expect(r.results.filter((x) => x.title === 'Alpaca')).toHaveLength(1);
  });

  it('reports the same "about N" count on every page', async () => {
    const counts = [];
    for (let p = 1; p <= 5; p++) {
      const page = await web.search({ query: 'andes trail', page: p });
      counts.push(page.totalResults);
      expect(page.hasMore).toBe(p < 9);
    }
    expect(new Set(counts).size).toBe(1);
    expect(counts[0]).toBeGreaterThanOrEqual(40);
    expect((await new Browser(web).search({ query: 'andes trail' })).text).toMatch(/about \d+ results/);
  });
});
