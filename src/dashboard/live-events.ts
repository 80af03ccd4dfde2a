import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { RUN_FILES } from '../core/index.js';
import type { UpdateEvent } from './payloads.js';

/**
 * Server-sent events for one run: an `update` event whenever `run.json` or `metrics.jsonl`
 * changes (checked every `pollMs`), and a comment every 15 s to keep proxies from closing the
 * stream. The page refetches what changed.
 */
export function streamRunEvents(options: { req: IncomingMessage; res: ServerResponse; runsDir: string; runId: string; pollMs: number }): void {
  const { req, res } = options;
  const dir = join(options.runsDir, options.runId);
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write('retry: 2000\n\n');
  let last = '';
  let beats = 0;
  const check = async () => {
    const [manifest, metrics] = await Promise.all([stat(join(dir, RUN_FILES.manifest)).catch(() => undefined), stat(join(dir, RUN_FILES.metrics)).catch(() => undefined)]);
    const key = `${manifest?.mtimeMs}:${manifest?.size}:${metrics?.size}`;
    if (key !== last) {
      last = key;
      const event: UpdateEvent = { status: 'changed', metricsSize: metrics?.size ?? 0, manifestMtimeMs: manifest?.mtimeMs ?? 0 };
      res.write(`event: update\ndata: ${JSON.stringify(event)}\n\n`);
    } else if (++beats * options.pollMs >= 15_000) {
      beats = 0;
      res.write(': keep-alive\n\n');
    }
  };
  void check();
  const timer = setInterval(() => void check(), options.pollMs);
  const stop = () => clearInterval(timer);
  req.on('close', stop);
  res.on('close', stop);
}
