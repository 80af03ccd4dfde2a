import type { ServerResponse } from 'node:http';
import { DASHBOARD_API_VERSION, type ApiError } from './payloads.js';

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Writes `{ error: { code, message } }`. */
export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body: ApiError = { schemaVersion: DASHBOARD_API_VERSION, error: { code, message } };
  sendJson(res, status, body);
}

/** Thrown inside a handler to answer with a given status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
