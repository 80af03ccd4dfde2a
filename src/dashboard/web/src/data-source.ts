import type { StepMetrics } from '../../../core/run-manifest.js';
import { queryRollouts, type RolloutSort } from '../../../runs/rollout-query.js';
import type { RunDetail } from '../../../runs/run-store.js';
import type { RunSummary } from '../../../runs/run-summary.js';
import type { EvalResponse, MetricsResponse, ReportData, RolloutsResponse, RunsResponse } from '../../payloads.js';

/** A rollout listing request, as the rollout viewer builds it. */
export interface RolloutRequest {
  source: string;
  offset: number;
  limit: number;
  sort: RolloutSort;
  errorsOnly: boolean;
  search: string;
}

/** Where the page gets its data: the `keiko view` API, or the JSON embedded in a static report. */
export interface DataSource {
  readonly live: boolean;
  runs(): Promise<RunsResponse>;
  run(id: string): Promise<RunDetail>;
  metrics(id: string): Promise<MetricsResponse>;
  rollouts(id: string, request: RolloutRequest): Promise<RolloutsResponse>;
  evalSummary(id: string, source: string, threshold?: number): Promise<EvalResponse>;
  /** Calls `onChange` when the run's files change; returns an unsubscribe function. */
  watch(id: string, onChange: () => void): () => void;
}

/** Error from the API, with its HTTP status and message. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!res.ok) throw new ApiRequestError(res.status, body.error?.message ?? `${res.status} ${res.statusText}`);
  return body as T;
}

const enc = encodeURIComponent;

/** Reads from the `keiko view` server; live updates through server-sent events. */
export class ApiSource implements DataSource {
  readonly live = true;
  runs(): Promise<RunsResponse> {
    return getJson('api/runs');
  }
  run(id: string): Promise<RunDetail> {
    return getJson(`api/runs/${enc(id)}`);
  }
  metrics(id: string): Promise<MetricsResponse> {
    return getJson(`api/runs/${enc(id)}/metrics`);
  }
  rollouts(id: string, r: RolloutRequest): Promise<RolloutsResponse> {
    const q = new URLSearchParams({ source: r.source, offset: String(r.offset), limit: String(r.limit), sort: r.sort });
    if (r.errorsOnly) q.set('errors', '1');
    if (r.search.trim()) q.set('q', r.search.trim());
    return getJson(`api/runs/${enc(id)}/rollouts?${q}`);
  }
  evalSummary(id: string, source: string, threshold?: number): Promise<EvalResponse> {
    const q = new URLSearchParams({ source });
    if (threshold !== undefined) q.set('threshold', String(threshold));
    return getJson(`api/runs/${enc(id)}/eval?${q}`);
  }
  watch(id: string, onChange: () => void): () => void {
    const events = new EventSource(`api/runs/${enc(id)}/events`);
    let first = true;
    events.addEventListener('update', () => {
      if (first) first = false; // the first event describes the current state
      else onChange();
    });
    return () => events.close();
  }
}

/** Serves a static report's embedded data, with the same filtering and paging as the server. */
export class EmbeddedSource implements DataSource {
  readonly live = false;
  constructor(private readonly data: ReportData) {}
  async runs(): Promise<RunsResponse> {
    return { schemaVersion: 1, runsDir: '(report)', runs: [this.data.summary as RunSummary], warnings: [] };
  }
  async run(): Promise<RunDetail> {
    return this.data.run;
  }
  async metrics(): Promise<MetricsResponse> {
    return { schemaVersion: 1, rows: this.data.metrics as StepMetrics[], skipped: 0, warnings: [] };
  }
  async rollouts(_id: string, r: RolloutRequest): Promise<RolloutsResponse> {
    const rollouts = this.data.rollouts[r.source];
    if (!rollouts) throw new ApiRequestError(404, `this report does not include ${r.source}`);
    const page = queryRollouts({ rollouts, offset: r.offset, limit: r.limit, sort: r.sort, errorsOnly: r.errorsOnly, search: r.search });
    return { schemaVersion: 1, source: r.source, ...page, skipped: 0, warnings: [] };
  }
  async evalSummary(_id: string, source: string): Promise<EvalResponse> {
    const summary = this.data.evals[source];
    if (!summary) throw new ApiRequestError(404, `this report does not include ${source}`);
    return { schemaVersion: 1, source, summary, skipped: 0, warnings: [] };
  }
  watch(): () => void {
    return () => undefined;
  }
}

/** The embedded report data when this page is a static report, else `undefined`. */
export function embeddedReport(): ReportData | undefined {
  const el = document.getElementById('keiko-report');
  if (!el?.textContent) return undefined;
  return JSON.parse(el.textContent) as ReportData;
}
