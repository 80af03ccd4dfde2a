import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RolloutResult } from '../core/rollout-result.js';
import { safeParseJson } from '../core/parse.js';

/** What was found in an existing results file. */
export interface ResultsFileContents {
  results: RolloutResult[];
  /** Lines that failed to parse (a torn last line is expected after a crash; others are reported). */
  badLines: { line: number; error: string }[];
  /** True when the file ended in a partial line (no trailing newline). */
  tornTail: boolean;
}

/**
 * Reads a rollout JSONL file written by `runRollouts`, validating each line. A missing file reads as
 * empty. Later lines for the same (exampleId, sample) replace earlier ones.
 */
export async function readResultsFile(path: string): Promise<ResultsFileContents> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { results: [], badLines: [], tornTail: false };
    throw error;
  }
  const lines = text.split('\n');
  const tornTail = lines.at(-1) !== '';
  const byKey = new Map<string, RolloutResult>();
  const badLines: ResultsFileContents['badLines'] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const parsed = safeParseJson(line, RolloutResult);
    if (parsed.success) byKey.set(resultKey(parsed.data.exampleId, parsed.data.sample), parsed.data);
    else badLines.push({ line: i + 1, error: parsed.error });
  });
  return { results: [...byKey.values()], badLines, tornTail };
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

/** The identity of one rollout in a run. */
export function resultKey(exampleId: string | number, sample: number): string {
  return `${typeof exampleId}:${exampleId}#${sample}`;
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
