import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import type { SearchDocument } from '../corpus/document.js';
import { LocalSearchIndex } from '../local-index.js';
import { SearchWeb } from '../web/search-web.js';
import { startSearchServer, type RunningSearchServer } from './search-server.js';

const docs: SearchDocument[] = [
  { id: 'geo:country:FR', url: 'https://geo.local/country/FR', title: 'France', text: 'France is a country in Europe. Its capital is Paris.', site: 'geo', links: [{ text: 'Paris', url: 'https://geo.local/city/1' }] },
  { id: 'geo:city:1', url: 'https://geo.local/city/1', title: 'Paris, France', text: 'Paris is a city in France. It is the capital of <France>.', site: 'geo', links: [{ text: 'France', url: 'https://geo.local/country/FR' }] },
];

let srv: RunningSearchServer;
beforeAll(async () => {
  const index = await LocalSearchIndex.build({ documents: docs });
  srv = await startSearchServer({ web: new SearchWeb(index), ratePerSecond: 0, maxBodyBytes: 1024 });
});
afterAll(() => srv.close());

const get = (path: string, headers: Record<string, string> = {}) => fetch(srv.url + path, { headers });
const post = (path: string, body: string) => fetch(srv.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

describe('search server', () => {
  it('answers health, search, open, find and doc requests', async () => {
    const h = await get('/health');
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', backend: { documents: 2 } });

    const s = await post('/api/search', JSON.stringify({ query: 'capital of france', pageSize: 1 }));
    expect(s.status).toBe(200);
    const serp = (await s.json()) as { results: { url: string }[] };
    expect(serp.results).toHaveLength(1);

    const g = await get('/api/search?q=paris&page=1&size=2');
    expect(((await g.json()) as { results: unknown[] }).results.length).toBe(2);

    const o = await post('/api/open', JSON.stringify({ url: 'https://geo.local/country/FR', line: 1 }));
    expect(await o.json()).toMatchObject({ title: 'France', startLine: 1, links: [{ id: 0, text: 'Paris', url: 'https://geo.local/city/1' }] });

    const f = await get('/api/find?id=geo:city:1&pattern=capital');
    expect(await f.json()).toMatchObject({ totalMatches: 1, matches: [{ line: 1 }] });

    const d = await get('/api/doc/' + encodeURIComponent('geo:city:1'));
    expect(await d.json()).toEqual(docs[1]);
  });

  it('serves browsable HTML with escaped text and working links', async () => {
    const s = await get('/search?q=paris');
    expect(s.headers.get('content-type')).toMatch(/text\/html/);
    const html = await s.text();
    expect(html).toContain('href="/page?url=https%3A%2F%2Fgeo.local%2Fcity%2F1"');
    const p = await (await get('/page?url=' + encodeURIComponent('https://geo.local/city/1') + '&find=capital')).text();
    expect(p).toContain('&lt;France&gt;');
    expect(p).not.toContain('<France>');
    expect(p).toContain('<a href="/page?url=https%3A%2F%2Fgeo.local%2Fcountry%2FFR">France</a>');
    expect(p).toContain('1 matches');
  });

  it('rejects malformed requests with 4xx and stays alive', async () => {
    const cases: [Promise<Response>, number, string][] = [
      [post('/api/search', '{"query": "paris"'), 400, 'invalid_json'],
      [post('/api/search', ''), 400, 'invalid_json'],
      [post('/api/search', JSON.stringify({ query: 'x'.repeat(600) })), 400, 'invalid_request'],
      [post('/api/search', JSON.stringify({ query: 'paris', page: 0 })), 400, 'invalid_request'],
      [post('/api/search', JSON.stringify({ query: 'paris', page: 'two' })), 400, 'invalid_request'],
      [post('/api/search', JSON.stringify({ query: 'paris', extra: 1 })), 400, 'invalid_request'],
      [post('/api/search', JSON.stringify({ query: 'p', pad: 'y'.repeat(2000) })), 413, 'body_too_large'],
      [get('/api/search?q=' + 'z'.repeat(5000)), 414, 'uri_too_long'],
      [get('/api/search'), 400, 'invalid_request'],
      [post('/api/open', JSON.stringify({ url: 'https://nowhere.local/x' })), 404, 'not_found'],
      [post('/api/open', JSON.stringify({ url: 'https://geo.local/city/1', id: 'geo:city:1' })), 400, 'invalid_request'],
      [post('/api/open', JSON.stringify({ id: 'geo:city:1', line: -3 })), 400, 'invalid_request'],
      [get('/api/doc/unknown'), 404, 'not_found'],
      [get('/api/doc/%E0%A4%A'), 400, 'invalid_request'],
      [get('/api/nope'), 404, 'not_found'],
      [fetch(srv.url + '/api/search', { method: 'DELETE' }), 405, 'method_not_allowed'],
    ];
    for (const [p, status, code] of cases) {
      const r = await p;
      expect(r.status, code).toBe(status);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    expect((await get('/health')).status).toBe(200);
  });

  it('survives a client that disconnects mid-body', async () => {
    await new Promise<void>((resolve) => {
      const r = request(srv.url + '/api/search', { method: 'POST', headers: { 'content-length': '500' } });
      r.on('error', () => resolve());
      r.write('{"query": "par');
      setTimeout(() => {
        r.destroy();
        resolve();
      }, 50);
    });
    expect((await get('/health')).status).toBe(200);
  });

  it('rate-limits per client', async () => {
    const index = await LocalSearchIndex.build({ documents: docs });
    const limited = await startSearchServer({ web: new SearchWeb(index), ratePerSecond: 1, rateBurst: 2 });
    try {
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await fetch(limited.url + '/health')).status);
      expect(codes.slice(0, 2)).toEqual([200, 200]);
      expect(codes).toContain(429);
    } finally {
      await limited.close();
    }
  });
});

/** A request through the server as an HTTP proxy: absolute-form target, the emulated Host. */
function viaProxy(target: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(target);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path: target, headers: { host: u.host, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('search server: batch and proxy mode', () => {
  it('answers a batch of operations in order, one bad operation failing alone', async () => {
    const r = await post(
      '/api/batch',
      JSON.stringify({ requests: [{ op: 'search', query: 'capital', pageSize: 1 }, { op: 'open', url: 'https://geo.local/nope' }, { op: 'find', id: 'geo:city:1', pattern: 'capital' }, { op: 'open', url: 'http://geo.local/country/FR/' }] }),
    );
    expect(r.status).toBe(200);
    const { responses } = (await r.json()) as { responses: { status: number; body?: { url?: string; totalMatches?: number; results?: unknown[] }; error?: { code: string } }[] };
    expect(responses.map((x) => x.status)).toEqual([200, 404, 200, 200]);
    expect(responses[0]!.body!.results).toHaveLength(1);
    expect(responses[1]!.error!.code).toBe('not_found');
    expect(responses[2]!.body!.totalMatches).toBe(1);
    expect(responses[3]!.body!.url).toBe('https://geo.local/country/FR');
    expect((await post('/api/batch', JSON.stringify({ requests: [{ op: 'fly' }] }))).status).toBe(400);
    expect((await get('/api/batch')).status).toBe(405);
  });

  it('serves each emulated URL at its own host: pages, redirects, site roots, 404s, content types', async () => {
    const page = await viaProxy('http://geo.local/country/FR');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<h1>France</h1>');
    expect(page.body).toContain('<a href="http://geo.local/city/1">Paris</a>');
    const moved = await viaProxy('http://GEO.local/country/FR/');
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe('http://geo.local/country/FR');
    const root = await viaProxy('http://geo.local/');
    expect(root.status).toBe(200);
    expect(root.body).toContain('2 pages');
    const missing = await viaProxy('http://geo.local/country/XX');
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('was not found on this server');
    const text = await viaProxy('http://geo.local/country/FR', { accept: 'text/plain' });
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.body).toBe('France\n\nFrance is a country in Europe. Its capital is Paris.\n');
    const json = await viaProxy('http://geo.local/city/1', { accept: 'application/json' });
    expect(JSON.parse(json.body)).toMatchObject({ id: 'geo:city:1', title: 'Paris, France' });
    const serp = await viaProxy('http://search.local/search?q=capital+of+france');
    expect(serp.status).toBe(200);
    expect(serp.body).toContain('href="http://geo.local/country/FR"');
    // The API server itself is unchanged when addressed by IP or by a name that is no emulated site.
    expect((await get('/health')).status).toBe(200);
    const named = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: srv.port, path: '/health', headers: { host: 'search-server:8765' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(named).toBe(200);
    // A Host header naming an emulated site is served as that site.
    const byHost = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: srv.port, path: '/country/FR', headers: { host: 'geo.local' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    expect(byHost).toContain('<h1>France</h1>');
  });
});
