import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ConfigError } from '../core/errors.js';

/** One upstream answer: status and raw body text. */
export interface UpstreamReply {
  status: number;
  text: string;
}

/**
 * A minimal keep-alive JSON poster for one OpenAI-compatible base URL (`…/v1`). Connections are
 * pooled and reused across every rollout that shares the base URL.
 */
export class UpstreamClient {
  readonly baseUrl: string;
  private readonly https: boolean;
  private readonly hostname: string;
  private readonly port: number;
  private readonly basePath: string;
  private readonly agent: HttpAgent;
  private readonly authorization: string;

  constructor(options: { baseUrl: string; apiKey?: string | undefined; maxSockets?: number | undefined }) {
    if (!URL.canParse(options.baseUrl)) throw new ConfigError(`invalid upstream base URL '${options.baseUrl}'; expected e.g. http://127.0.0.1:8000/v1`);
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`upstream base URL must be http(s), got '${options.baseUrl}'`);
    this.baseUrl = options.baseUrl;
    this.https = url.protocol === 'https:';
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = url.port ? Number(url.port) : this.https ? 443 : 80;
    this.basePath = url.pathname.replace(/\/+$/, '');
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 1024, keepAliveMsecs: 10_000 };
    this.agent = this.https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.authorization = `Bearer ${options.apiKey ?? 'none'}`;
  }

  /**
   * POSTs `body` (JSON text) to `<baseUrl>/<path>`; rejects on connection errors. `onAbortable`
   * receives a function that cuts the request off and rejects it with the given reason (cheaper
   * than an AbortController per call on the proxy's hot path).
   */
  post(path: string, body: string, onAbortable?: (abort: (reason: Error) => void) => void): Promise<UpstreamReply> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      const send = this.https ? httpsRequest : httpRequest;
      const req = send(
        {
          hostname: this.hostname,
          port: this.port,
          path: `${this.basePath}/${path}`,
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: this.authorization,
          },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            resolve({ status: res.statusCode ?? 0, text: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', fail);
          res.on('aborted', () => fail(new Error('upstream closed the connection mid-response')));
        },
      );
      req.on('error', fail);
      onAbortable?.((reason) => {
        fail(reason);
        req.destroy();
      });
      req.end(body);
    });
  }

  /** Closes pooled connections. */
  close(): void {
    this.agent.destroy();
  }
}
