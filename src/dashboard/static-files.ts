import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { resolveInside } from '../runs/index.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Streams `relPath` from inside `root` (never outside it: `..`, absolute paths and links that leave
 * the root give `false`). Returns false when there is no such file, so the caller can answer 404.
 */
export async function serveFile(options: { res: ServerResponse; root: string; relPath: string; head?: boolean; download?: boolean }): Promise<boolean> {
  const { res, root, relPath } = options;
  const path = resolveInside({ root, parts: relPath.split('/').filter((p) => p !== '') });
  if (!path) return false;
  let info;
  try {
    info = await stat(path);
  } catch {
    return false;
  }
  if (!info.isFile()) return false;
  res.writeHead(200, {
    'content-type': TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    'content-length': info.size,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
  });
  if (options.head) {
    res.end();
    return true;
  }
  await new Promise<void>((resolveDone) => {
    const stream = createReadStream(path);
    stream.on('error', () => {
      res.destroy();
      resolveDone();
    });
    stream.on('end', () => resolveDone());
    stream.pipe(res);
  });
  return true;
}
