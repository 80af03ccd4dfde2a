import { readFile, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { safeParseJson } from '../core/parse.js';

/** What reading a JSONL file gave: the valid lines, how many were skipped, and why (capped). */
export interface JsonlRead<T> {
  items: T[];
  /** Line number (1-based) of each item, in file order. */
  lines: number[];
  skipped: number;
  warnings: string[];
}

const MAX_WARNINGS = 20;

/**
 * Parses JSONL text line by line against `schema`. Blank lines are ignored; a line that is not
 * JSON or fails the schema (a run killed mid-write leaves a torn last line) is skipped with a
 * warning instead of failing the whole file.
 */
export function parseJsonl<S extends z.ZodType>(options: { text: string; schema: S; label?: string }): JsonlRead<z.infer<S>> {
  const { text, schema, label = 'jsonl' } = options;
  const out: JsonlRead<z.infer<S>> = { items: [], lines: [], skipped: 0, warnings: [] };
  let start = 0;
  let lineNo = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    const torn = end === -1;
    if (torn) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    const parsed = safeParseJson(line, schema);
    if (parsed.success) {
      out.items.push(parsed.data);
      out.lines.push(lineNo);
    } else {
      out.skipped++;
      if (out.warnings.length < MAX_WARNINGS) {
        const why = torn ? 'torn last line (still being written?)' : parsed.error.slice(0, 200);
        out.warnings.push(`${label}:${lineNo}: skipped: ${why}`);
      }
    }
  }
  return out;
}

interface CacheEntry {
  mtimeMs: number;
  size: number;
  value: unknown;
}

/**
 * Reads and parses JSONL files, keeping the last few results keyed by path and validated by
 * (mtime, size), so re-reading an unchanged file is free and a growing file is re-read.
 */
export class JsonlCache {
  private readonly entries = new Map<string, CacheEntry>();
  /** Parses under way, keyed by path + mtime + size, so concurrent requests share one parse. */
  private readonly pending = new Map<string, Promise<unknown>>();
  private readonly maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.maxEntries = options.maxEntries ?? 64;
  }

  /**
   * The parsed file plus whatever `derive` computes from it (cached with it), or `undefined` when the
   * file does not exist.
   */
  async read<S extends z.ZodType, D = undefined>(options: {
    path: string;
    schema: S;
    label?: string;
    derive?: (read: JsonlRead<z.infer<S>>) => D;
  }): Promise<(JsonlRead<z.infer<S>> & { derived: D }) | undefined> {
    let info;
    try {
      info = await stat(options.path);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const key = options.path;
    const hit = this.entries.get(key);
    if (hit && hit.mtimeMs === info.mtimeMs && hit.size === info.size) {
      this.entries.delete(key);
      this.entries.set(key, hit); // most recently used last
      return hit.value as JsonlRead<z.infer<S>> & { derived: D };
    }
    const pendingKey = `${key}\0${info.mtimeMs}\0${info.size}`;
    let parse = this.pending.get(pendingKey);
    if (!parse) {
      parse = this.parse(options, info.mtimeMs, info.size).finally(() => this.pending.delete(pendingKey));
      this.pending.set(pendingKey, parse);
    }
    return (await parse) as JsonlRead<z.infer<S>> & { derived: D };
  }

  private async parse<S extends z.ZodType, D>(
    options: { path: string; schema: S; label?: string; derive?: (read: JsonlRead<z.infer<S>>) => D },
    mtimeMs: number,
    size: number,
  ): Promise<JsonlRead<z.infer<S>> & { derived: D }> {
    const key = options.path;
    const text = await readFile(options.path, 'utf8');
    const read = parseJsonl({ text, schema: options.schema, label: options.label ?? key });
    const value = { ...read, derived: (options.derive ? options.derive(read) : undefined) as D };
    if (read.warnings.length) process.emitWarning(`${read.skipped} bad line(s) skipped in ${options.path}: ${read.warnings[0]}`);
    this.entries.set(key, { mtimeMs, size, value });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return value;
  }
}
