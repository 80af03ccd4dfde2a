/**
 * The context a long episode costs under each observation policy: a scripted browse of 100 page
 * views and 33 results pages (1 search per 3 opens, the founding picture's episode) over a saved
 * index, each observation appended as a tool message; reports the last prompt (the context the
 * 134th turn needs) and the sum of prompts over the episode (what sampling processes), in characters
 * and in tokens ≈ characters / 4, and per step (16 × 512 episodes).
 *
 * Usage: node --import tsx bench/search/episode-tokens.ts INDEX_DIR
 */
import type { ChatMessage } from '../../src/core/index.js';
import { applyObservationPolicy, Browser, LocalSearchIndex, ObservationPolicy, SearchWeb } from '../../src/search/index.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: episode-tokens.ts INDEX_DIR');
const index = LocalSearchIndex.load(dir);
const web = new SearchWeb(index);
const browser = new Browser(web, { maxViews: 200 });
const messages: ChatMessage[] = [{ role: 'user', content: 'Question: …' }];
const turns: ChatMessage[][] = [];
const step = Math.max(1, Math.floor(index.docs.size / 40));
let opened = 0;
for (let i = 0; opened < 100; i += step) {
  const serp = await browser.search({ query: index.document(i % index.docs.size).title });
  turns.push(messages.slice());
  messages.push({ role: 'assistant', content: 'search' }, { role: 'tool', tool_call_id: `s${i}`, content: serp.text });
  for (let k = 0; k < 3 && opened < 100 && k < serp.data.results.length; k++) {
    const page = await browser.open({ cursor: serp.cursor, id: k });
    opened++;
    turns.push(messages.slice());
    messages.push({ role: 'assistant', content: 'open' }, { role: 'tool', tool_call_id: `o${opened}`, content: page.text });
  }
}
const chars = (ms: ChatMessage[]) => ms.reduce((n, m) => n + (m.content?.length ?? 0), 0);
const policies: [string, ObservationPolicy | undefined][] = [
  ['everything whole', undefined],
  ['keep last 3, summarise', ObservationPolicy.parse({ keepLast: 3, mode: 'summarise' })],
  ['keep last 3, truncate 300', ObservationPolicy.parse({ keepLast: 3, mode: 'truncate', truncateChars: 300 })],
  ['keep last 3, drop', ObservationPolicy.parse({ keepLast: 3, mode: 'drop' })],
  ['keep last 1, summarise', ObservationPolicy.parse({ keepLast: 1, mode: 'summarise' })],
];
const out = [`index: ${dir}; ${browser.queries.length} results pages, ${opened} page views (40 lines each); tokens ≈ chars / 4`, '| policy | last prompt, tokens | sum of prompts per episode, tokens | per step (8,192 episodes), M tokens |', '|---|---|---|---|'];
for (const [name, p] of policies) {
  const shown = (ms: ChatMessage[]) => (p ? applyObservationPolicy(ms, p) : ms);
  const last = chars(shown(messages)) / 4;
  const sum = turns.reduce((n, t) => n + chars(shown(t)), 0) / 4;
  out.push(`| ${name} | ${Math.round(last).toLocaleString('en-US')} | ${Math.round(sum).toLocaleString('en-US')} | ${((sum * 16 * 512) / 1e6).toFixed(0)} |`);
}
process.stdout.write(out.join('\n') + '\n');
index.close();
