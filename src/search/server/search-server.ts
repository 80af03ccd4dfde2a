import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { ConfigError, EnvError } from '../../core/errors.js';
import { formatZodError, safeParseJson } from '../../core/parse.js';
import type { SearchWeb } from '../web/search-web.js';
import { FindRequest, OpenRequest, SearchRequest } from './api-schemas.js';
import { errorHtml, homeHtml, pageHtml, serpHtml } from './html.js';
import { RateLimiter } from './rate-limiter.js';

export interface SearchServerOptions {
  web: SearchWeb;
  /** Port (0 = any free port). Default 0. */
  port?: number;
  /** Default 127.0.0.1: the emulator is for local agents, not the internet. */
  host?: string;
  /** Largest request body in bytes. Default 16 KiB. */
  maxBodyBytes?: number;
  /** Longest request URL (path + query) in chars. Default 4096. */
  maxUrlChars?: number;
  /** Requests per second per client address (0 = unlimited). Default 2000. */
  ratePerSecond?: number;
  /** Burst allowance per client. Default 2 × ratePerSecond. */
  rateBurst?: number;
}

/** A running server; `close()` stops it. */
export interface RunningSearchServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves the emulated web over HTTP: a JSON API (`/api/search`, `/api/open`, `/api/find`,
 * `/api/doc/<id>`, `/health`) and plain HTML pages for people (`/`, `/search`, `/page`). Every
 * request is validated; bad ones get a 4xx JSON error and never take the server down.
 */
export async function startSearchServer(options: SearchServerOptions): Promise<RunningSearchServer> {
  const { web } = options;
  const maxBody = options.maxBodyBytes ?? 16 * 1024;
  const maxUrl = options.maxUrlChars ?? 4096;
  const rate = options.ratePerSecond ?? 2000;
  const limiter = new RateLimiter(rate, options.rateBurst ?? rate * 2);
  const started = Date.now();
  let served = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    served++;
    const rawUrl = req.url ?? '/';
    if (rawUrl.length > maxUrl) throw new HttpError(414, 'uri_too_long', `request URL longer than ${maxUrl} chars`);
    if (!limiter.take(req.socket.remoteAddress ?? '?')) throw new HttpError(429, 'rate_limited', `more than ${rate} requests/s from this client`);
    const u = new URL(rawUrl, 'http://localhost');
    const path = u.pathname;
    const method = req.method ?? 'GET';
    const params = Object.fromEntries(u.searchParams);

    if (path === '/health') {
      requireMethod(method, ['GET', 'HEAD']);
      return sendJson(res, 200, { status: 'ok', backend: web.backend.info, uptimeSeconds: Math.round((Date.now() - started) / 1000), requests: served });
    }
    if (path.startsWith('/api/')) {
      const api = path.slice(5);
      if (api === 'search' || api === 'open' || api === 'find') {
        requireMethod(method, ['GET', 'POST']);
        const body = method === 'POST' ? await readBody(req, maxBody) : undefined;
        const input = <S extends z.ZodType>(schema: S): z.infer<S> => (body !== undefined ? parseBody(schema, body) : validate(schema, renameParams(params)));
        if (api === 'search') {
          const r = input(SearchRequest);
          return sendJson(res, 200, await web.search(r));
        }
        if (api === 'open') {
          const r = input(OpenRequest);
          return sendJson(res, 200, await web.open(r.url !== undefined ? { url: r.url, line: r.line, lines: r.lines } : { id: r.id!, line: r.line, lines: r.lines }));
        }
        const r = input(FindRequest);
        return sendJson(res, 200, await web.find(r.url !== undefined ? { url: r.url, pattern: r.pattern } : { id: r.id!, pattern: r.pattern }));
      }
      if (api.startsWith('doc/')) {
        requireMethod(method, ['GET']);
        const id = safeDecode(api.slice(4));
        const doc = await web.backend.getDocument({ id });
        if (!doc) throw new HttpError(404, 'not_found', `no document with id '${id}'`);
        return sendJson(res, 200, doc);
      }
      throw new HttpError(404, 'not_found', `unknown API route ${path}; routes: /api/search, /api/open, /api/find, /api/doc/<id>, /health`);
    }
    // HTML pages for people.
    requireMethod(method, ['GET', 'HEAD']);
    if (path === '/') return sendHtml(res, 200, homeHtml(web.backend.info));
    if (path === '/search') {
      const r = validate(SearchRequest, renameParams(params));
      return sendHtml(res, 200, serpHtml(await web.search(r)));
    }
    if (path === '/page') {
      const { find, ...rest } = params;
      const r = validate(OpenRequest, rest);
      const ref = r.url !== undefined ? { url: r.url } : { id: r.id! };
      const view = await web.open({ ...ref, line: r.line, lines: r.lines });
      const found = find ? await web.find({ ...ref, pattern: validate(FindRequest, { ...ref, pattern: find }).pattern }) : undefined;
      return sendHtml(res, 200, pageHtml(view, found));
    }
    throw new HttpError(404, 'not_found', `no page at ${path}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const e = toHttpError(error);
      if (res.headersSent) return res.destroy();
      const wantsHtml = !(req.url ?? '').startsWith('/api/') && req.url !== '/health' && (req.headers.accept ?? '').includes('text/html');
      if (wantsHtml) sendHtml(res, e.status, errorHtml(e.status, e.message));
      else sendJson(res, e.status, { error: { code: e.code, message: e.message } });
    });
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxHeadersCount = 100;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function requireMethod(method: string, allowed: string[]): void {
  if (!allowed.includes(method)) throw new HttpError(405, 'method_not_allowed', `method ${method} not allowed; use ${allowed.join(' or ')}`);
}

/** GET parameters under their short names (q, size) mapped to the JSON field names. */
function renameParams(p: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...p };
  if ('q' in out) {
    out.query = out.q!;
    delete out.q;
  }
  if ('size' in out) {
    out.pageSize = out.size!;
    delete out.size;
  }
  return out;
}

function validate<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new HttpError(400, 'invalid_request', formatZodError(r.error));
  return r.data;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'invalid_request', 'malformed percent-encoding in path');
  }
}

async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    req.resume();
    throw new HttpError(413, 'body_too_large', `request body larger than ${max} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, 'body_too_large', `request body larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody<S extends z.ZodType>(schema: S, text: string): z.infer<S> {
  if (!text.trim()) throw new HttpError(400, 'invalid_json', 'empty request body; send a JSON object');
  const r = safeParseJson(text, schema);
  if (!r.success) throw new HttpError(400, r.error.startsWith('invalid JSON') ? 'invalid_json' : 'invalid_request', r.error);
  return r.data;
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof ConfigError) return new HttpError(400, 'invalid_request', error.message);
  if (error instanceof EnvError) return new HttpError(404, 'not_found', error.message);
  return new HttpError(500, 'internal_error', (error as Error)?.message ?? String(error));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}
