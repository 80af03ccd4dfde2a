import { readFile, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { parseJsonl, type JsonlRead } from '../core/json-files.js';

export { parseJsonl, type JsonlRead } from '../core/json-files.js';

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
