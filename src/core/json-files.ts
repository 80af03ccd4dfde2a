import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { safeParseJson } from './parse.js';

/**
 * keiko's JSON and JSONL files: the one atomic-write helper, the one JSONL reader and the JSONL
 * appender. Every reader and writer of a run folder, a results file or a dataset goes through here.
 *
 * The JSONL policy, for every file keiko reads:
 * - a writer appends whole lines (`JSON.stringify(value) + '\n'` in one write), so a line is in the
 *   file complete or not at all, except when the writer is killed mid-write;
 * - blank lines are ignored;
 * - a last line without its newline is read when it parses (a file written by hand may lack the
 *   final newline); when it does not, it is a *torn* write (a writer still appending, or one killed
 *   mid-line): skipped, flagged `torn`, and cut off with `dropTornTail` before anyone appends again;
 * - any other line that is not JSON or fails the schema is *corrupt*: skipped and reported with its
 *   line number, and the rest of the file is still read.
 * What a skipped line means is the caller's call: readers of run folders (the run store, a resumed
 * eval) warn and go on; readers of files a person hands in (datasets, SFT data) stop at the first
 * one with a `ConfigError` naming `file:line`.
 */

let tempCounter = 0;

/**
 * Writes `data` to `path` atomically: a temp file in the same folder, then a rename over the target,
 * so a reader sees the old file or the new one, never half of one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${tempCounter++}`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Writes `value` as pretty-printed JSON (with a final newline) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** A line that was skipped: its 1-based number, why it did not parse, and whether it was the torn last line. */
export interface JsonlBadLine {
  line: number;
  error: string;
  torn: boolean;
}

/** What reading a JSONL file gave: the valid lines and what was skipped (see the policy above). */
export interface JsonlRead<T> {
  items: T[];
  /** Line number (1-based) of each item, in file order. */
  lines: number[];
  /** Lines skipped, torn or corrupt (all of them, also past the cap of `bad`). */
  skipped: number;
  /** The first skipped lines (at most 20), in file order. */
  bad: JsonlBadLine[];
  /** True when the last line had no newline and did not parse. */
  torn: boolean;
  /** `bad` as messages: `<label>:<line>: skipped: <why>`. */
  warnings: string[];
}

const MAX_BAD = 20;

/** Parses JSONL text line by line against `schema`, following the JSONL policy above. */
export function parseJsonl<S extends z.ZodType>(options: { text: string; schema: S; label?: string }): JsonlRead<z.infer<S>> {
  const { text, schema, label = 'jsonl' } = options;
  const out: JsonlRead<z.infer<S>> = { items: [], lines: [], skipped: 0, bad: [], torn: false, warnings: [] };
  let start = 0;
  let lineNo = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    const last = end === -1;
    if (last) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    const parsed = safeParseJson(line, schema);
    if (parsed.success) {
      out.items.push(parsed.data);
      out.lines.push(lineNo);
      continue;
    }
    out.skipped++;
    if (last) out.torn = true;
    if (out.bad.length < MAX_BAD) {
      const error = parsed.error.slice(0, 200);
      out.bad.push({ line: lineNo, error, torn: last });
      out.warnings.push(`${label}:${lineNo}: skipped: ${last ? 'torn last line (still being written?)' : error}`);
    }
  }
  return out;
}

/** Reads and parses a JSONL file (see `parseJsonl`); `undefined` when the file does not exist. */
export async function readJsonlFile<S extends z.ZodType>(options: { path: string; schema: S; label?: string }): Promise<JsonlRead<z.infer<S>> | undefined> {
  let text: string;
  try {
    text = await readFile(options.path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseJsonl({ text, schema: options.schema, label: options.label ?? options.path });
}

/** Cuts a partial last line off a JSONL file so new lines start cleanly. Returns the bytes removed. */
export async function dropTornTail(path: string): Promise<number> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return 0;
    // Scan backwards in chunks for the last newline.
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const at = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (at >= 0) {
        const keep = start + at + 1;
        if (keep < size) await truncate(path, keep);
        return size - keep;
      }
      end = start;
    }
    await truncate(path, 0);
    return size;
  } finally {
    await handle.close();
  }
}

/** Appends one JSON object per line; lines reach the OS as they are written, in order. */
export class JsonlAppender {
  private failure: Error | undefined;

  private constructor(private readonly stream: WriteStream) {
    stream.on('error', (error) => (this.failure ??= error));
  }

  /** Opens `path` for appending, creating its folder. */
  static async open(path: string): Promise<JsonlAppender> {
    await mkdir(dirname(path), { recursive: true });
    const stream = createWriteStream(path, { flags: 'a' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return new JsonlAppender(stream);
  }

  write(value: unknown): void {
    if (this.failure) throw this.failure;
    this.stream.write(`${JSON.stringify(value)}\n`);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.end((error?: Error | null) => {
        const failure = error ?? this.failure;
        if (failure) reject(failure);
        else resolve();
      });
    });
  }
}

/** The JSONL text of `values`: one line each, every line ending in a newline. */
export function toJsonl(values: readonly unknown[]): string {
  return values.map((v) => `${JSON.stringify(v)}\n`).join('');
}
