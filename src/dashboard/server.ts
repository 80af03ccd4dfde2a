import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RunStore } from '../runs/index.js';
import { handleApi } from './api-routes.js';
import { sendError } from './http-util.js';
import { serveFile } from './static-files.js';

/** A running dashboard server. */
export interface DashboardServer {
  url: string;
  port: number;
  store: RunStore;
  close(): Promise<void>;
}

/**
 * Starts the dashboard: the built page from `webDir` and a JSON API over the runs in `runsDir`.
 * Only files inside those two folders are ever served. `port: 0` picks a free port.
 */
export async function startDashboard(options: {
  runsDir: string;
  webDir: string;
  port?: number;
  host?: string;
  /** How often live-update streams check the run folder, in ms. */
  pollMs?: number;
}): Promise<DashboardServer> {
  const { runsDir, webDir, port = 0, host = '127.0.0.1', pollMs = 1000 } = options;
  const store = new RunStore({ runsDir });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'only GET and HEAD');
    let url: URL;
    let segments: string[];
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      segments = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    } catch {
      return sendError(res, 400, 'bad_request', 'malformed URL');
    }
    if (segments[0] === 'api') {
      return handleApi({ req, res, store, segments: segments.slice(1), query: url.searchParams, pollMs });
    }
    const rel = segments.length === 0 ? 'index.html' : segments.join('/');
    const served = await serveFile({ res, root: webDir, relPath: rel, head: req.method === 'HEAD' });
    if (!served) sendError(res, 404, 'not_found', `no such page: ${url.pathname}`);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'internal_error', String((error as Error)?.message ?? error));
      else res.destroy();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${address.port}/`,
    port: address.port,
    store,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections(); // live-update streams stay open otherwise
      }),
  };
}
