/**
 * Exports the benchmark corpora and queries (pre-tokenized with keiko's tokenizer, so every engine
 * indexes exactly the same terms and differences come from the engines, not the analyzers):
 *   data/builtin.jsonl      the built-in corpus's retrieval passages (real text)
 *   data/mixed-1m.jsonl     the same passages + generated passages up to 1,000,000
 *   data/queries.json       short / long / common-term query sets
 * Generated passages are 100 tokens drawn from the built-in corpus's unigram distribution (seeded).
 * Usage: npx tsx bench/search/export-corpus.ts [--total 1000000] [--queries 400]
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.js';
import { builtinCorpus, availableBuiltinSources } from '../../src/search/corpus/builtin-corpus.js';
import { splitPassages } from '../../src/search/corpus/passages.js';
import { Tokenizer } from '../../src/search/index/tokenizer.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const TOTAL = opt('total', 1_000_000);
const NQ = opt('queries', 400);
const dir = join(import.meta.dirname, 'data');
mkdirSync(dir, { recursive: true });
const tok = new Tokenizer();
const rng = new Rng(20261122);

async function write(path: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  for (const l of lines) if (!out.write(l)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(r));
}

const t0 = performance.now();
const passages: string[][] = [];
const titles: string[][] = [];
const counts = new Map<string, number>();
const df = new Map<string, number>();
for (const doc of builtinCorpus({ sources: availableBuiltinSources() })) {
  const title = tok.tokenize(doc.title);
  for (const s of splitPassages(doc.text, { words: 100 })) {
    const toks = tok.tokenize(doc.title + '\n' + doc.text.slice(s.start, s.end));
    if (toks.length === 0) continue;
    passages.push(toks);
    titles.push(title);
    for (const t of toks) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const t of new Set(toks)) df.set(t, (df.get(t) ?? 0) + 1);
  }
}
console.log(`built-in passages: ${passages.length} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
const line = (id: number, toks: string[]) => JSON.stringify({ id: String(id), text: toks.join(' ') }) + '\n';
await write(join(dir, 'builtin.jsonl'), (function* () {
  for (let i = 0; i < passages.length; i++) yield line(i, passages[i]!);
})());

// Unigram sampler (cumulative counts + binary search).
const vocab = [...counts.keys()];
const cum = new Float64Array(vocab.length);
let acc = 0;
vocab.forEach((t, i) => (cum[i] = acc += counts.get(t)!));
const sample = () => {
  const x = rng.next() * acc;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return vocab[lo]!;
};
await write(join(dir, 'mixed-1m.jsonl'), (function* () {
  for (let i = 0; i < passages.length; i++) yield line(i, passages[i]!);
  for (let i = passages.length; i < TOTAL; i++) yield line(i, Array.from({ length: 100 }, sample));
})());

// Queries: short = a passage's title (1-3 terms); long = 12 consecutive terms of a passage;
// common = 2-3 of the 50 terms with the highest document frequency.
const common = [...df].sort((a, b) => b[1] - a[1]).slice(0, 50).map(([t]) => t);
const short: string[] = [];
const long: string[] = [];
const frequent: string[] = [];
while (short.length < NQ) {
  const t = titles[rng.int(0, titles.length - 1)]!;
  if (t.length >= 1 && t.length <= 3) short.push(t.join(' '));
}
while (long.length < NQ) {
  const p = passages[rng.int(0, passages.length - 1)]!;
  if (p.length < 12) continue;
  const s = rng.int(0, p.length - 12);
  long.push(p.slice(s, s + 12).join(' '));
}
while (frequent.length < NQ) frequent.push(rng.shuffle(common).slice(0, rng.int(2, 3)).join(' '));
await write(join(dir, 'queries.json'), [JSON.stringify({ short, long, common: frequent, commonTerms: common }, null, 1)]);
console.log(`wrote ${dir}: ${TOTAL} mixed passages, ${NQ} queries per set (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
