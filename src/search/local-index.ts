import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, writeSync, renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { writeFileAtomic } from '../core/json-files.js';
import { formatZodError, safeParseJson } from '../core/parse.js';
import type { BackendInfo, DocRef, PassageHit, SearchBackend } from './backend.js';
import { SearchDocument } from './corpus/document.js';
import { FileDocStore, MemoryDocStore, type DocStore } from './corpus/doc-store.js';
import { splitPassages } from './corpus/passages.js';
import { Bm25Params } from './index/bm25.js';
import { Bm25Searcher, type SearchOptions } from './index/bm25-searcher.js';
import { packSections, SectionEntry, unpackSections } from './index/binary-sections.js';
import { Growable } from './index/growable.js';
import { IndexBuilder } from './index/index-builder.js';
import type { IndexData } from './index/index-data.js';
import { StringList, StringTable } from './index/string-table.js';
import { TokenizerConfig } from './index/tokenizer.js';
import type { ScoredPassage } from './index/top-k.js';

export const INDEX_SCHEMA_VERSION = 1;
export const INDEX_FILES = { manifest: 'manifest.json', index: 'index.bin', docs: 'docs.jsonl' } as const;

/** `manifest.json` of a saved index: parameters, counts and the layout of `index.bin`. */
export const IndexManifest = z.object({
  schemaVersion: z.literal(INDEX_SCHEMA_VERSION),
  format: z.literal('keiko-bm25'),
  params: Bm25Params,
  tokenizer: TokenizerConfig,
  passageWords: z.number().int().positive(),
  documents: z.number().int().nonnegative(),
  passages: z.number().int().nonnegative(),
  terms: z.number().int().nonnegative(),
  avgLen: z.number().nonnegative(),
  sites: z.record(z.string(), z.number().int()).default({}),
  sections: z.array(SectionEntry),
  createdAt: z.string(),
});
export type IndexManifest = z.infer<typeof IndexManifest>;

/** Progress of a build, reported every `progressEvery` documents and at the end. */
export interface BuildProgress {
  documents: number;
  passages: number;
  phase: 'reading' | 'inverting' | 'writing' | 'done';
}

export interface BuildIndexOptions {
  /** The corpus, streamed: any (async) iterable of documents. */
  documents: AsyncIterable<SearchDocument> | Iterable<SearchDocument>;
  /** Where to save the index; without it the index (and its documents) stays in memory. */
  dir?: string;
  params?: Partial<Bm25Params>;
  tokenizer?: Partial<TokenizerConfig>;
  /** Words per retrieval passage (pages stay whole for viewing). Default 100. */
  passageWords?: number;
  onProgress?: (p: BuildProgress) => void;
  progressEvery?: number;
}

/**
 * The local search backend: a BM25 index over passages plus the pages they came from. Build it
 * from a document stream with `LocalSearchIndex.build`, reopen a saved one with `.load`.
 */
export class LocalSearchIndex implements SearchBackend {
  readonly searcher: Bm25Searcher;

  private constructor(
    readonly manifest: Omit<IndexManifest, 'sections'>,
    data: IndexData,
    readonly docs: DocStore,
    /** [P] document index of each passage. */
    readonly passageDoc: Uint32Array,
    readonly passageStart: Uint32Array,
    readonly passageEnd: Uint32Array,
    private readonly urls: StringTable,
    private readonly ids: StringTable,
    /**
     * [D] page titles, so a hit needs no page read. Absent in indexes saved before they were added
     * (those read the page instead; rebuild to get the faster path).
     */
    private readonly titles: StringList | undefined,
  ) {
    this.searcher = new Bm25Searcher(data);
  }

  get info(): BackendInfo {
    return {
      name: 'local-bm25',
      documents: this.docs.size,
      passages: this.passageDoc.length,
      k1: this.manifest.params.k1,
      b: this.manifest.params.b,
    };
  }

  /** Builds an index from a stream of documents (and saves it when `dir` is given). */
  static async build(options: BuildIndexOptions): Promise<LocalSearchIndex> {
    const passageWords = options.passageWords ?? 100;
    const every = options.progressEvery ?? 10_000;
    const builder = new IndexBuilder({ params: options.params ?? {}, tokenizer: options.tokenizer ?? {} });
    const passageDoc = new Growable(Uint32Array);
    const passageStart = new Growable(Uint32Array);
    const passageEnd = new Growable(Uint32Array);
    const urls: string[] = [];
    const ids: string[] = [];
    const titles: string[] = [];
    const seenUrl = new Set<string>();
    const seenId = new Set<string>();
    const sites: Record<string, number> = {};
    const memDocs: SearchDocument[] = [];
    const docOffsets = new Growable(Float64Array);
    let fd: number | undefined;
    let pending: string[] = [];
    let pendingBytes = 0;
    let written = 0;
    const flush = () => {
      if (fd === undefined || pending.length === 0) return;
      writeSync(fd, pending.join(''));
      pending = [];
      pendingBytes = 0;
    };
    if (options.dir) {
      mkdirSync(options.dir, { recursive: true });
      fd = openSync(join(options.dir, INDEX_FILES.docs + '.tmp'), 'w');
      docOffsets.push(0);
    }
    try {
      let n = 0;
      for await (const raw of options.documents as AsyncIterable<SearchDocument>) {
        const parsed = SearchDocument.safeParse(raw);
        if (!parsed.success) throw new ConfigError(`document #${n} is invalid: ${formatZodError(parsed.error)}`);
        const doc = parsed.data;
        if (seenUrl.has(doc.url)) throw new ConfigError(`duplicate document url '${doc.url}' (document #${n}); urls must be unique`);
        if (seenId.has(doc.id)) throw new ConfigError(`duplicate document id '${doc.id}' (document #${n}); ids must be unique`);
        seenUrl.add(doc.url);
        seenId.add(doc.id);
        urls.push(doc.url);
        ids.push(doc.id);
        titles.push(doc.title);
        sites[doc.site] = (sites[doc.site] ?? 0) + 1;
        for (const span of splitPassages(doc.text, { words: passageWords })) {
          builder.add(doc.title + '\n' + doc.text.slice(span.start, span.end));
          passageDoc.push(n);
          passageStart.push(span.start);
          passageEnd.push(span.end);
        }
        if (fd !== undefined) {
          const line = JSON.stringify(doc) + '\n';
          pending.push(line);
          const len = Buffer.byteLength(line);
          written += len;
          pendingBytes += len;
          docOffsets.push(written);
          if (pendingBytes > 1 << 20) flush();
        } else memDocs.push(doc);
        n++;
        if (n % every === 0) options.onProgress?.({ documents: n, passages: builder.numPassages, phase: 'reading' });
      }
      flush();
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    options.onProgress?.({ documents: urls.length, passages: builder.numPassages, phase: 'inverting' });
    const data = builder.finish();
    const manifest = {
      schemaVersion: INDEX_SCHEMA_VERSION as typeof INDEX_SCHEMA_VERSION,
      format: 'keiko-bm25' as const,
      params: data.params,
      tokenizer: data.tokenizer,
      passageWords,
      documents: urls.length,
      passages: data.numPassages,
      terms: data.vocab.size,
      avgLen: data.avgLen,
      sites,
      createdAt: new Date().toISOString(),
    };
    const urlTable = StringTable.build(urls);
    const idTable = StringTable.build(ids);
    const titleList = StringList.build(titles);
    let docs: DocStore;
    if (options.dir) {
      options.onProgress?.({ documents: urls.length, passages: data.numPassages, phase: 'writing' });
      const offsets = docOffsets.toArray();
      const p = data.postings;
      const { bytes, toc } = packSections({
        termDf: p.termDf,
        termBlock: p.termBlock,
        blockLast: p.blockLast,
        blockOffset: p.blockOffset,
        blockMax: p.blockMax,
        postings: p.bytes,
        vocabBlob: data.vocab.blob,
        vocabOffsets: data.vocab.offsets,
        vocabSlots: data.vocab.slots,
        passageLen: data.passageLen,
        passageDoc: passageDoc.toArray(),
        passageStart: passageStart.toArray(),
        passageEnd: passageEnd.toArray(),
        docOffsets: offsets,
        urlBlob: urlTable.blob,
        urlOffsets: urlTable.offsets,
        urlSlots: urlTable.slots,
        idBlob: idTable.blob,
        idOffsets: idTable.offsets,
        idSlots: idTable.slots,
        titleBlob: titleList.blob,
        titleOffsets: titleList.offsets,
      });
      await writeFileAtomic(join(options.dir, INDEX_FILES.index), bytes);
      renameSync(join(options.dir, INDEX_FILES.docs + '.tmp'), join(options.dir, INDEX_FILES.docs)); // streamed to .tmp above
      // The manifest goes last: a folder with a manifest is a complete index.
      writeFileSync(join(options.dir, INDEX_FILES.manifest), JSON.stringify({ ...manifest, sections: toc }, null, 2) + '\n');
      docs = new FileDocStore(join(options.dir, INDEX_FILES.docs), offsets);
    } else docs = new MemoryDocStore(memDocs);
    options.onProgress?.({ documents: urls.length, passages: data.numPassages, phase: 'done' });
    return new LocalSearchIndex(manifest, data, docs, passageDoc.toArray(), passageStart.toArray(), passageEnd.toArray(), urlTable, idTable, titleList);
  }

  /** True when `dir` holds a complete saved index. */
  static exists(dir: string): boolean {
    return existsSync(join(dir, INDEX_FILES.manifest));
  }

  /** Opens a saved index: one read of `index.bin` and typed-array views over it; documents stay on disk. */
  static load(dir: string): LocalSearchIndex {
    const manifestPath = join(dir, INDEX_FILES.manifest);
    if (!existsSync(manifestPath)) throw new ConfigError(`no search index at ${dir} (missing ${INDEX_FILES.manifest}); build one with 'keiko search build'`);
    const parsed = safeParseJson(readFileSync(manifestPath, 'utf8'), IndexManifest);
    if (!parsed.success) throw new ConfigError(`invalid index manifest ${manifestPath}: ${parsed.error}`);
    const m = parsed.data;
    const s = unpackSections(readFileSync(join(dir, INDEX_FILES.index)), m.sections);
    const get = <T>(name: string): T => {
      const v = s.get(name);
      if (!v) throw new ConfigError(`index ${dir} lacks section '${name}'`);
      return v as T;
    };
    const data: IndexData = {
      params: m.params,
      tokenizer: m.tokenizer,
      numPassages: m.passages,
      avgLen: m.avgLen,
      vocab: new StringTable(get('vocabBlob'), get('vocabOffsets'), get('vocabSlots')),
      postings: {
        termDf: get('termDf'),
        termBlock: get('termBlock'),
        blockLast: get('blockLast'),
        blockOffset: get('blockOffset'),
        blockMax: get('blockMax'),
        bytes: get('postings'),
      },
      passageLen: get('passageLen'),
    };
    const docs = new FileDocStore(join(dir, INDEX_FILES.docs), get('docOffsets'));
    const titleBlob = s.get('titleBlob') as Uint8Array | undefined;
    const titleOffsets = s.get('titleOffsets') as Uint32Array | undefined;
    const { sections: _sections, ...manifest } = m;
    return new LocalSearchIndex(
      manifest,
      data,
      docs,
      get('passageDoc'),
      get('passageStart'),
      get('passageEnd'),
      new StringTable(get('urlBlob'), get('urlOffsets'), get('urlSlots')),
      new StringTable(get('idBlob'), get('idOffsets'), get('idSlots')),
      titleBlob && titleOffsets ? new StringList(titleBlob, titleOffsets) : undefined,
    );
  }

  /** Top-k passage ids and scores (synchronous; what benchmarks time). */
  search(query: string, options: SearchOptions = {}): ScoredPassage[] {
    return this.searcher.search(query, options);
  }

  /** Document index for a URL or id, or -1. */
  docIndex(ref: DocRef): number {
    return 'url' in ref ? this.urls.lookup(ref.url) : this.ids.lookup(ref.id);
  }

  /** The page at document index `i`. */
  document(i: number): SearchDocument {
    return this.docs.get(i);
  }

  /** A passage hit with its page's metadata. */
  hit(p: ScoredPassage): PassageHit {
    const i = this.passageDoc[p.passage]!;
    const start = this.passageStart[p.passage]!;
    const end = this.passageEnd[p.passage]!;
    const title = this.titles ? this.titles.get(i) : this.docs.get(i).title;
    return { passage: p.passage, docId: this.ids.get(i), url: this.urls.get(i), title, score: p.score, start, end };
  }

  async searchPassages(query: string, options: { k: number }): Promise<PassageHit[]> {
    return this.search(query, { k: options.k }).map((p) => this.hit(p));
  }

  /**
   * About how many pages match `query`: the most passages any one query term occurs in (a lower
   * bound on the passages matching some term), scaled to pages by the corpus's pages per passage.
   */
  estimateMatches(query: string): number {
    let df = 0;
    for (const t of this.searcher.analyze(query)) df = Math.max(df, t.df);
    if (df === 0) return 0;
    return Math.max(1, Math.round((df * this.manifest.documents) / Math.max(1, this.manifest.passages)));
  }

  /** The site at `host`: the build's site named like the host's first label (`foldoc` at `foldoc.local`). */
  siteOf(host: string): { name: string; documents: number } | undefined {
    const name = host.split('.')[0]!;
    const n = Object.hasOwn(this.manifest.sites, name) ? this.manifest.sites[name] : undefined;
    return n === undefined ? undefined : { name, documents: n };
  }

  async getDocument(ref: DocRef): Promise<SearchDocument | undefined> {
    const i = this.docIndex(ref);
    return i < 0 ? undefined : this.docs.get(i);
  }

  /** Bytes of RAM held by the index (postings, vocabulary, norms, passage and URL tables). */
  get memoryBytes(): number {
    return (
      this.searcher.memoryBytes +
      this.passageDoc.byteLength +
      this.passageStart.byteLength +
      this.passageEnd.byteLength +
      this.urls.byteLength +
      this.ids.byteLength +
      (this.titles?.byteLength ?? 0)
    );
  }

  close(): void {
    this.docs.close?.();
  }
}
