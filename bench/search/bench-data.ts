import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** The passages of an exported bench corpus (`{id, text}` JSONL), as parallel arrays. */
export async function readCorpus(path: string): Promise<{ ids: string[]; texts: string[] }> {
  const ids: string[] = [];
  const texts: string[] = [];
  for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    if (!line) continue;
    const row = JSON.parse(line) as { id: string; text: string };
    ids.push(row.id);
    texts.push(row.text);
  }
  return { ids, texts };
}

/** The bench query sets (queries.json from export-corpus.ts). */
export function readQueries(path: string): Record<'short' | 'long' | 'common', string[]> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<'short' | 'long' | 'common', string[]>;
}

/** The pages the HTTP load opens (1 request in 4), by URL. */
export const BENCH_OPENS = ['https://jargon.local/wiki/hacker', 'https://foldoc.local/wiki/abstract_data_type', 'https://geo.local/country/PE', 'https://wordnet.local/wiki/dog'];

/**
 * How every engine's queries are timed (Node, Python and Java drivers alike; `run.sh` exports the
 * variables): per query set, WARMUP_PASSES untimed passes, then TIMED_PASSES timed ones, stopping
 * an engine early once its timed queries of the set took QUERY_BUDGET_S seconds (its warm-up gets
 * a quarter of that).
 */
export function queryProtocol(): { warmupPasses: number; timedPasses: number; budgetMs: number } {
  return {
    warmupPasses: Number(process.env.WARMUP_PASSES ?? 5),
    timedPasses: Number(process.env.TIMED_PASSES ?? 3),
    budgetMs: Number(process.env.QUERY_BUDGET_S ?? 30) * 1000,
  };
}
