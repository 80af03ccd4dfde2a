import cluster from 'node:cluster';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Command } from 'commander';
import { z } from 'zod';
import { ConfigError, unknownNameMessage } from '../../core/index.js';
import type { SearchDocument } from '../../search/index.js';
import { availableBuiltinSources, BUILTIN_SOURCES, builtinCorpus, type BuiltinSource } from '../../search/index.js';
import { readJsonlCorpus } from '../../search/index.js';
import { readParquetCorpus } from '../../search/index.js';
import { INDEX_FILES, LocalSearchIndex, type BuildProgress } from '../../search/index.js';
import { startSearchServer } from '../../search/index.js';
import { renderFind, renderPage, renderSerp } from '../../search/index.js';
import { SearchWeb } from '../../search/index.js';
import { QA_KINDS, synthesizeQa } from '../../search/index.js';
import { writeQaSplits } from '../../search/index.js';
import { settingsCommand } from '../settings-command.js';

/** Where `keiko search build` puts the built-in corpus's index unless told otherwise. */
export const DEFAULT_INDEX_DIR = '.keiko/search/builtin';

/** Settings several search subcommands share. */
const indexSetting = z.string().default(DEFAULT_INDEX_DIR).describe('Index folder.');
const jsonSetting = z.boolean().default(false).describe('Print the JSON form.');

const BuildSettings = z
  .object({
    out: z.string().default(DEFAULT_INDEX_DIR).describe('Index folder.'),
    sources: z.string().optional().describe(`Built-in sources, comma-separated (${Object.keys(BUILTIN_SOURCES).join(', ')}); unset: all installed.`),
    k1: z.number().optional().describe('BM25 k1 (unset: 0.9).'),
    b: z.number().optional().describe('BM25 b (unset: 0.4).'),
    passageWords: z.number().int().nonnegative().optional().describe('Words per retrieval passage (unset: 100).'),
    minPopulation: z.number().int().nonnegative().optional().describe('Smallest city that gets a page (unset: 15000).'),
    stem: z.boolean().default(false).describe('Light English (plural) stemming.'),
    keepStopwords: z.boolean().default(false).describe('Index stopwords too.'),
    limit: z.number().int().nonnegative().optional().describe('At most this many rows per dump file.'),
    force: z.boolean().default(false).describe('Rebuild even if the folder already has an index.'),
  })
  .strict();

const QuerySettings = z
  .object({
    index: indexSetting,
    page: z.number().int().nonnegative().default(1).describe('Results page (1-based).'),
    json: jsonSetting,
  })
  .strict();

const OpenSettings = z
  .object({
    index: indexSetting,
    line: z.number().int().nonnegative().default(1).describe('First line to show.'),
    lines: z.number().int().nonnegative().optional().describe('Lines to show (unset: a screenful).'),
    find: z.string().optional().describe('Find a pattern in the page instead.'),
    json: jsonSetting,
  })
  .strict();

const ServeSettings = z
  .object({
    index: indexSetting,
    port: z.number().int().nonnegative().default(8765).describe('Port (0 = any free port).'),
    host: z.string().default('127.0.0.1').describe('Interface to listen on.'),
    rate: z.number().int().nonnegative().default(2000).describe('Requests per second per client (0 = unlimited).'),
    noise: z.number().min(0).max(1).default(0).describe('Probability of replacing each result with a distractor.'),
    latency: z.number().int().nonnegative().default(0).describe('Added latency per search/open, ms.'),
    seed: z.number().int().nonnegative().default(0).describe('Seed for noise.'),
    deadLinks: z.number().min(0).max(1).default(0).describe('Probability that a page is gone (listed in results, a 404 when opened).'),
    workers: z.number().int().min(1).max(64).default(1).describe('Server processes sharing the port (node:cluster); each loads the index.'),
    proxy: z.boolean().default(true).describe('Serve emulated URLs at their own hosts (absolute-form requests or a Host header).'),
  })
  .strict();

const SynthSettings = z
  .object({
    index: indexSetting,
    out: z.string().default('.keiko/search/qa').describe('Output folder.'),
    count: z.number().int().nonnegative().default(1000).describe('Questions wanted.'),
    seed: z.number().int().nonnegative().default(0).describe('Seed.'),
    testFraction: z.number().min(0).max(1).default(0.2).describe('Share of answer entities held out for test.'),
    kinds: z.string().optional().describe(`Templates, comma-separated (${QA_KINDS.join(', ')}); unset: all.`),
    answerField: z.string().default('title').describe("What generic questions ask for: 'title' or a key of the pages' facts."),
  })
  .strict();

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

  settingsCommand(
    search,
    'build',
    { command: 'keiko search build', schema: BuildSettings, short: { o: 'out' }, positional: "['builtin' | .jsonl | .parquet files...]" },
    "Build a BM25 index: 'builtin' (FOLDOC, Jargon, WordNet, GCIDE from /usr/share/dictd + countries/cities from npm) or JSONL/Parquet passage dumps ({id, contents} or {id, title, text} rows).",
    async (o, positionals) => {
      const inputs = positionals.length ? positionals : ['builtin'];
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
    },
  );

  settingsCommand(
    search,
    'query',
    { command: 'keiko search query', schema: QuerySettings, short: { i: 'index', p: 'page' }, positional: '<query words...>' },
    'Show a results page for a query.',
    async (o, words) => {
      if (words.length === 0) throw new ConfigError('keiko search query needs a query: keiko search query <words...>');
      const web = new SearchWeb(openIndex(o.index));
      const serp = await web.search({ query: words.join(' '), page: o.page });
      process.stdout.write((o.json ? JSON.stringify(serp, null, 2) : renderSerp(serp)) + '\n');
    },
  );

  settingsCommand(
    search,
    'open',
    { command: 'keiko search open', schema: OpenSettings, short: { i: 'index', l: 'line', n: 'lines' }, positional: '<url-or-id>' },
    'Show a page (by URL or document id) as numbered lines.',
    async (o, refs) => {
      const ref = refs[0];
      if (!ref || refs.length > 1) throw new ConfigError('keiko search open takes one page: keiko search open <url-or-id>');
      const web = new SearchWeb(openIndex(o.index));
      const page = /^[a-z]+:\/\//.test(ref) ? { url: ref } : { id: ref };
      if (o.find) {
        const f = await web.find({ ...page, pattern: o.find });
        process.stdout.write((o.json ? JSON.stringify(f, null, 2) : renderFind(f)) + '\n');
        return;
      }
      const v = await web.open({ ...page, line: o.line, lines: o.lines });
      process.stdout.write((o.json ? JSON.stringify(v, null, 2) : renderPage(v)) + '\n');
    },
  );

  settingsCommand(
    search,
    'serve',
    { command: 'keiko search serve', schema: ServeSettings, short: { i: 'index' } },
    'Serve the emulated web: JSON API (/api/search, /api/open, /api/find, /api/doc/<id>, /health) and HTML pages.',
    async (o) => {
      if (o.workers > 1 && cluster.isPrimary) {
        // Workers re-run this command; listening on one port, the primary spreads connections over them.
        for (let i = 0; i < o.workers; i++) cluster.fork();
        await new Promise<void>((resolve) => {
          const stop = () => {
            for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
            resolve();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        return;
      }
      const index = openIndex(o.index);
      const web = new SearchWeb(index, { seed: o.seed, noise: { replaceProb: o.noise, latencyMs: o.latency, deadLinkProb: o.deadLinks } });
      const srv = await startSearchServer({ web, port: o.port, host: o.host, ratePerSecond: o.rate, proxy: o.proxy });
      const who = cluster.isWorker ? `worker ${cluster.worker?.id}: ` : '';
      process.stdout.write(`keiko search: ${who}${index.info.documents.toLocaleString('en-US')} pages at ${srv.url} (JSON API under /api, health at /health${o.proxy ? '; proxy for emulated hosts' : ''}); Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void srv.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    },
  );

  settingsCommand(
    search,
    'synth',
    { command: 'keiko search synth', schema: SynthSettings, short: { i: 'index', o: 'out', n: 'count' } },
    'Synthesize QA pairs from the corpus (single- and multi-hop, checked unique and solvable against the index); writes train/test JSONL.',
    async (o) => {
      const kinds = o.kinds?.split(',').map((k) => k.trim());
      for (const k of kinds ?? []) if (!QA_KINDS.includes(k)) throw new ConfigError(unknownNameMessage('question kind', k, QA_KINDS));
      if (!(o.testFraction >= 0 && o.testFraction <= 1)) throw new ConfigError('--test-fraction must be in [0, 1]');
      const index = openIndex(o.index);
      const t0 = performance.now();
      const result = synthesizeQa({ index, count: o.count, seed: o.seed, testFraction: o.testFraction, answerField: o.answerField, ...(kinds ? { kinds } : {}) });
      const m = writeQaSplits({ dir: o.out, result, index: o.index, seed: o.seed, requested: o.count });
      process.stdout.write(
        `wrote ${m.train} train + ${m.test} test questions to ${o.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n` +
          Object.entries(m.byKind).map(([k, n]) => `  ${k.padEnd(28)} ${n}`).join('\n') + '\n' +
          `  rejected (see synth.json): ${Object.entries(m.rejected).map(([k, n]) => `${k}=${n}`).join(' ') || 'none'}\n`,
      );
      index.close();
    },
  );
}
