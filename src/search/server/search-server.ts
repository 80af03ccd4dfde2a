import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { ConfigError, EnvError } from '../../core/errors.js';
import { formatZodError, safeParseJson } from '../../core/parse.js';
import { WEB_LIMITS, type SearchWeb } from '../web/search-web.js';
import { BatchRequest, FindRequest, OpenRequest, SearchRequest, type BatchOperation } from './api-schemas.js';
import { errorHtml, homeHtml, notFoundHtml, pageHtml, serpHtml } from './html.js';
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
  /**
   * Proxy mode (default on): a request for another host — absolute-form (`GET http://geo.local/x`,
   * as HTTP clients send through a proxy) or with that `Host` header — is answered as that emulated
   * URL: the page as HTML (or text/plain, or JSON, by `Accept`), 301 to its canonical URL, a site's
   * root page, or a 404 page. `searchHost` serves the results pages.
   */
  proxy?: boolean;
  /** Host of the emulated search engine in proxy mode. Default 'search.local'. */
  searchHost?: string;
  /** Most operations in one POST /api/batch. Default 256. */
  maxBatch?: number;
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
 * `/api/batch`, `/api/doc/<id>`, `/health`), plain HTML pages for people (`/`, `/search`, `/page`),
 * and, in proxy mode, every emulated URL at its own host. Every request is validated; bad ones get a
 * 4xx error and never take the server down.
 */
export async function startSearchServer(options: SearchServerOptions): Promise<RunningSearchServer> {
  const { web } = options;
  const maxBody = options.maxBodyBytes ?? 16 * 1024;
  const maxUrl = options.maxUrlChars ?? 4096;
  const rate = options.ratePerSecond ?? 2000;
  const limiter = new RateLimiter(rate, options.rateBurst ?? rate * 2);
  const started = Date.now();
  let served = 0;
  const proxy = options.proxy ?? true;
  const searchHost = (options.searchHost ?? 'search.local').toLowerCase();
  const maxBatch = options.maxBatch ?? 256;

  const runOperation = async (r: BatchOperation): Promise<unknown> => {
    if (r.op === 'search') return web.search(r);
    if (r.op === 'open') return web.open(r.url !== undefined ? { url: r.url, line: r.line, lines: r.lines } : { id: r.id!, line: r.line, lines: r.lines });
    return web.find(r.url !== undefined ? { url: r.url, pattern: r.pattern } : { id: r.id!, pattern: r.pattern });
  };

  /** An emulated URL served at its own host (proxy mode). */
  const serveEmulated = async (req: IncomingMessage, res: ServerResponse, host: string, rawUrl: string): Promise<void> => {
    requireMethod(req.method ?? 'GET', ['GET', 'HEAD']);
    const u = new URL(rawUrl, `http://${host}`);
    const wants = preferredType(req.headers.accept);
    if (host === searchHost) {
      const q = u.searchParams.get('q');
      if (u.pathname === '/search' && q) {
        const serp = await web.search(validate(SearchRequest, renameParams(Object.fromEntries(u.searchParams))));
        if (wants === 'json') return sendJson(res, 200, serp);
        return sendHtml(res, 200, serpHtml(serp, { proxied: true }));
      }
      if (u.pathname === '/' || u.pathname === '/search') return sendHtml(res, 200, homeHtml(web.backend.info));
      return sendHtml(res, 404, notFoundHtml(`http://${host}${u.pathname}`));
    }
    const asked = `https://${host}${u.pathname}${u.search}`;
    const found = await web.resolve(asked);
    if (!found || web.isDead(found.doc.url)) {
      if (wants === 'json') return sendJson(res, 404, { error: { code: 'not_found', message: `no page at ${asked}` } });
      return sendHtml(res, 404, notFoundHtml(asked));
    }
    const doc = found.doc;
    if (doc.url !== asked && found.redirected) {
      const location = doc.url.replace(/^https:/, 'http:');
      res.writeHead(301, { location, 'content-type': 'text/html; charset=utf-8', 'content-length': 0 });
      return void res.end();
    }
    if (wants === 'json') return sendJson(res, 200, doc);
    if (wants === 'text') return sendText(res, 200, `${doc.title}\n\n${doc.text}\n`);
    const view = await web.open({ url: doc.url, lines: WEB_LIMITS.maxViewLines });
    return sendHtml(res, 200, pageHtml(view, undefined, { proxied: true }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    served++;
    const rawUrl = req.url ?? '/';
    if (rawUrl.length > maxUrl) throw new HttpError(414, 'uri_too_long', `request URL longer than ${maxUrl} chars`);
    if (!limiter.take(req.socket.remoteAddress ?? '?')) throw new HttpError(429, 'rate_limited', `more than ${rate} requests/s from this client`);
    const method = req.method ?? 'GET';
    if (method === 'CONNECT') throw new HttpError(405, 'method_not_allowed', 'CONNECT (https tunnelling) is not emulated; request emulated pages as http://host/path through this proxy');
    const emulatedHost = proxy ? proxyHost(rawUrl, req.headers.host, (h) => h === searchHost || web.backend.siteOf?.(h) !== undefined) : undefined;
    if (emulatedHost !== undefined) return serveEmulated(req, res, emulatedHost, rawUrl);
    const u = new URL(rawUrl, 'http://localhost');
    const path = u.pathname;
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
      if (api === 'batch') {
        requireMethod(method, ['POST']);
        const { requests } = parseBody(BatchRequest, await readBody(req, maxBody * 64));
        if (requests.length > maxBatch) throw new HttpError(413, 'batch_too_large', `batch of ${requests.length} operations; at most ${maxBatch}`);
        const responses = [];
        for (const r of requests) {
          try {
            responses.push({ status: 200, body: await runOperation(r) });
          } catch (error) {
            const e = toHttpError(error);
            responses.push({ status: e.status, error: { code: e.code, message: e.message } });
          }
        }
        return sendJson(res, 200, { responses });
      }
      if (api.startsWith('doc/')) {
        requireMethod(method, ['GET']);
        const id = safeDecode(api.slice(4));
        const doc = await web.backend.getDocument({ id });
        if (!doc) throw new HttpError(404, 'not_found', `no document with id '${id}'`);
        return sendJson(res, 200, doc);
      }
      throw new HttpError(404, 'not_found', `unknown API route ${path}; routes: /api/search, /api/open, /api/find, /api/batch, /api/doc/<id>, /health`);
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

/**
 * The emulated host a request names, if any: any host of an absolute-form request (what clients
 * send to a proxy), or a `Host` header naming an emulated site or the search host (so the API keeps
 * working under whatever name the server itself is reached by).
 */
function proxyHost(rawUrl: string, hostHeader: string | undefined, emulated: (host: string) => boolean): string | undefined {
  const abs = /^https?:\/\/([^/?#]+)/i.exec(rawUrl);
  const host = (abs ? abs[1]! : (hostHeader ?? '')).toLowerCase().replace(/:\d+$/, '');
  if (!host || host === 'localhost' || /^[\d.]+$/.test(host) || host.startsWith('[')) return undefined;
  return abs || emulated(host) ? host : undefined;
}

function preferredType(accept: string | undefined): 'html' | 'text' | 'json' {
  const a = (accept ?? '').toLowerCase();
  if (a.includes('text/html') || !a) return 'html';
  if (a.includes('application/json')) return 'json';
  if (a.includes('text/plain')) return 'text';
  return 'html';
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

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}
