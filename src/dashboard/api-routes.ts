import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ConfigError } from '../core/index.js';
import { formatZodError } from '../core/index.js';
import { stepSource } from '../runs/index.js';
import { RunNotFoundError, type RunStore } from '../runs/index.js';
import { HttpError, sendError, sendJson } from './http-util.js';
import { streamRunEvents } from './live-events.js';
import {
  DASHBOARD_API_VERSION,
  EvalQuery,
  MetricsQuery,
  RolloutsQuery,
  RunsQuery,
  type EvalResponse,
  type MetricsResponse,
  type RolloutsResponse,
  type RunsResponse,
} from './payloads.js';
import { serveFile } from './static-files.js';

/**
 * Answers `/api/...` requests from the run store. `segments` are the decoded path parts after
 * `api`. Unknown runs and sources give 404, bad parameters 400, both as JSON.
 */
export async function handleApi(options: {
  req: IncomingMessage;
  res: ServerResponse;
  store: RunStore;
  segments: string[];
  query: URLSearchParams;
  pollMs: number;
}): Promise<void> {
  const { req, res, store, segments, query } = options;
  try {
    const [resource, runId, sub, ...rest] = segments;
    if (resource !== 'runs') throw new HttpError(404, 'not_found', `no API route /api/${segments.join('/')}`);
    if (runId === undefined) {
      const q = parseQuery(RunsQuery, query);
      const scan = await store.listRuns();
      const needle = q.q?.toLowerCase();
      const runs = scan.runs.filter(
        (r) =>
          (!q.kind || r.kind === q.kind) &&
          (!q.status || r.status === q.status) &&
          (!needle || `${r.id} ${r.env} ${r.model}`.toLowerCase().includes(needle)),
      );
      const body: RunsResponse = { schemaVersion: DASHBOARD_API_VERSION, runsDir: store.runsDir, runs, warnings: scan.warnings };
      return sendJson(res, 200, body);
    }
    if (sub === undefined) {
      parseQuery(MetricsQuery.pick({}), query);
      return sendJson(res, 200, await store.run({ runId }));
    }
    if (sub === 'metrics' && rest.length === 0) {
      const q = parseQuery(MetricsQuery, query);
      const read = await store.metrics({ runId, ...(q.since !== undefined && { sinceStep: q.since }) });
      const body: MetricsResponse = { schemaVersion: DASHBOARD_API_VERSION, ...read };
      return sendJson(res, 200, body);
    }
    if (sub === 'rollouts' && rest.length === 0) {
      const q = parseQuery(RolloutsQuery, query);
      if (q.source !== undefined && q.step !== undefined) throw new HttpError(400, 'bad_request', 'give either source or step, not both');
      const source = q.step !== undefined ? stepSource(q.step) : q.source;
      if (source === undefined) throw new HttpError(400, 'bad_request', "missing 'source' (results, rollouts/step-<n>, evals/<name>) or 'step'");
      const page = await store.rollouts({ runId, source, offset: q.offset, limit: q.limit, sort: q.sort, errorsOnly: q.errors, withTurns: q.turns, ...(q.q !== undefined && { search: q.q }) });
      const body: RolloutsResponse = { schemaVersion: DASHBOARD_API_VERSION, ...page };
      return sendJson(res, 200, body);
    }
    if (sub === 'eval' && rest.length === 0) {
      const q = parseQuery(EvalQuery, query);
      const read = await store.evalSummary({ runId, source: q.source, ...(q.threshold !== undefined && { threshold: q.threshold }) });
      const body: EvalResponse = { schemaVersion: DASHBOARD_API_VERSION, ...read };
      return sendJson(res, 200, body);
    }
    if (sub === 'events' && rest.length === 0) {
      await store.run({ runId }); // 404 before opening the stream
      return streamRunEvents({ req, res, runsDir: store.runsDir, runId, pollMs: options.pollMs });
    }
    if (sub === 'files' && rest.length > 0) {
      const rel = rest.join('/');
      if (!(await store.filePath({ runId, path: rel }))) throw new HttpError(403, 'forbidden', 'path leaves the run folder');
      const served = await serveFile({ res, root: join(store.runsDir, runId), relPath: rel, head: req.method === 'HEAD' });
      if (!served) throw new HttpError(404, 'not_found', `run '${runId}' has no file '${rel}'`);
      return;
    }
    throw new HttpError(404, 'not_found', `no API route /api/${segments.join('/')}`);
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof HttpError) return sendError(res, error.status, error.code, error.message);
    if (error instanceof RunNotFoundError) return sendError(res, 404, 'not_found', error.message);
    if (error instanceof ConfigError) return sendError(res, 400, 'bad_request', error.message);
    return sendError(res, 500, 'internal_error', (error as Error).message ?? String(error));
  }
}

function parseQuery<S extends z.ZodType>(schema: S, query: URLSearchParams): z.infer<S> {
  const parsed = schema.safeParse(Object.fromEntries(query));
  if (!parsed.success) throw new HttpError(400, 'bad_request', `bad query parameters: ${formatZodError(parsed.error)}`);
  return parsed.data;
}
