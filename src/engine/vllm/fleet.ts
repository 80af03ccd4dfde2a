import { join } from 'node:path';
import { ConfigError, SamplerError } from '../../core/errors.js';
import type { CallOptions, ChatRequest, ChatResponse, Sampler, SamplingArgs } from '../../core/sampler.js';
import { OpenAISampler } from '../../samplers/openai-sampler.js';
import { pauseGeneration, reloadWeights, resetPrefixCache, resumeGeneration, setWeightVersion } from './admin.js';
import { VllmServer, vllmHealth, type VllmServerOptions } from './server.js';

/** Where one member of the fleet stands. */
export type MemberState = 'ready' | 'syncing' | 'restarting' | 'out';

/** Progress of the fleet, for logs and tests. */
export type FleetEvent =
  | { kind: 'started'; member: number; url: string }
  | { kind: 'died'; member: number; url: string; code: number | null; signal: string | null }
  | { kind: 'restarted'; member: number; url: string; version: number }
  | { kind: 'out'; member: number; url: string; reason: string }
  | { kind: 'synced'; version: number; seconds: number; members: number[]; failed: number[] }
  | { kind: 'retry'; member: number; url: string; reason: string };

/** How to get the fleet's servers: given URLs, or `servers` processes keiko starts and supervises. */
export interface VllmFleetOptions {
  /** Running servers (base URLs without /v1). keiko syncs them but cannot restart them. */
  urls?: readonly string[];
  /** Servers keiko starts on `server.model`, one log file each under `logDir`. */
  servers?: number;
  /** How keiko starts each server (with `servers`). */
  server?: Omit<VllmServerOptions, 'port' | 'logFile'>;
  /** Folder of the servers' logs (`vllm-<k>.log`). */
  logDir?: string;
  /** Model name requests carry (`--served-model-name`). Default 'keiko-policy'. */
  modelName?: string;
  /** The policy version of the weights the servers start with (the trainer's step at start). */
  initialVersion: number;
  /** Restarts allowed per started server. Default 3. */
  maxRestarts?: number;
  onEvent?: (event: FleetEvent) => void;
}

interface Member {
  id: number;
  url: string;
  server: VllmServer | undefined;
  client: OpenAISampler;
  /** The policy version of the weights it holds (valid while `ready` or `syncing`). */
  version: number;
  state: MemberState;
  /** Bumped whenever its weights stop being known (death, failed sync): in-flight answers from an older epoch are dropped. */
  epoch: number;
  inFlight: number;
  restarts: number;
  restarting: Promise<void> | undefined;
}

/** What one `sync` did. */
export interface SyncReport {
  version: number;
  seconds: number;
  /** Members now holding `version`. */
  synced: number[];
  /** Members whose sync failed: out of rotation (a started one is restarted with the new weights). */
  failed: number[];
}

/**
 * N vLLM servers sampling one policy, kept at the trainer's weights (DESIGN "Scale").
 *
 * **Weight sync** (`sync`): on every member in parallel, `POST /pause?mode=keep` (in-flight requests
 * freeze), reload the sync checkpoint the engine wrote (`/collective_rpc reload_weights`), reset the
 * prefix cache (prompt KV from the old weights), `POST /resume`. A member whose sync fails is taken
 * out of rotation; one keiko started is restarted and reloads the newest weights before it samples
 * again. **Versions** are keiko's own bookkeeping, exact by construction: a request is sent only to a
 * member in rotation, and its response carries the version that member held when the request was
 * sent. A request in flight across a sync (async training) finishes under the new weights after
 * `/resume`, so the recorded version is the *oldest* that produced any of its tokens — what the
 * staleness cap needs; the per-token logprobs are vLLM's own, whichever weights produced them. An
 * answer from a member whose weights stopped being known while the request was in flight (it died
 * or its sync failed) is dropped and the request retried on another member.
 */
export class VllmFleet {
  private readonly members: Member[];
  private latest: { path: string; version: number } | undefined;
  private stopped = false;
  private readonly emit: (event: FleetEvent) => void;

  private constructor(
    private readonly options: VllmFleetOptions,
    members: Member[],
  ) {
    this.members = members;
    this.emit = options.onEvent ?? (() => {});
  }

  /** Starts (or connects to) the servers; resolves once every one is healthy. */
  static async start(options: VllmFleetOptions): Promise<VllmFleet> {
    const given = options.urls ?? [];
    const count = options.servers ?? 0;
    if (given.length > 0 && count > 0) throw new ConfigError('give vLLM servers either as urls or as a number to start, not both');
    if (given.length === 0 && count === 0) throw new ConfigError('a vLLM fleet needs vllm.urls or vllm.servers >= 1');
    if (count > 0 && !options.server?.model) throw new ConfigError('starting vLLM servers needs a model directory');
    const modelName = options.modelName ?? options.server?.servedModelName ?? 'keiko-policy';
    const member = (id: number, url: string, server: VllmServer | undefined): Member => ({
      id,
      url,
      server,
      client: new OpenAISampler({ model: modelName, baseUrl: `${url}/v1`, apiKey: 'none', retry: { maxRetries: 0 }, defaultSampling: { returnTokens: true } }),
      version: options.initialVersion,
      state: 'ready',
      epoch: 0,
      inFlight: 0,
      restarts: 0,
      restarting: undefined,
    });
    const fleet = new VllmFleet(options, []);
    if (given.length > 0) {
      for (const [k, raw] of given.entries()) {
        const url = raw.replace(/\/+$/, '').replace(/\/v1$/, '');
        if (!URL.canParse(url)) throw new ConfigError(`invalid vLLM URL '${raw}'; expected e.g. http://127.0.0.1:8000`);
        if (!(await vllmHealth(url))) throw new SamplerError(`vLLM server at ${url} is not healthy (GET /health)`, { retryable: false });
        fleet.members.push(member(k, url, undefined));
      }
    } else {
      // Started one after another: vLLM's start-up is CPU-bound, and two at once on a small machine only slow each other.
      try {
        for (let k = 0; k < count; k++) {
          const logFile = options.logDir ? join(options.logDir, `vllm-${k}.log`) : undefined;
          const server = await VllmServer.start({ ...options.server!, servedModelName: modelName, ...(logFile ? { logFile } : {}) }, (info) => fleet.onDeath(k, info));
          fleet.members.push(member(k, server.url, server));
          fleet.emit({ kind: 'started', member: k, url: server.url });
        }
      } catch (error) {
        await fleet.stop();
        throw error;
      }
    }
    return fleet;
  }

  /** Base URLs of the members (no /v1). */
  get urls(): string[] {
    return this.members.map((m) => m.url);
  }

  /** Each member's state and version. */
  get status(): { id: number; url: string; state: MemberState; version: number; pid: number | undefined }[] {
    return this.members.map((m) => ({ id: m.id, url: m.url, state: m.state, version: m.version, pid: m.server?.pid }));
  }

  /** The version every member in rotation holds (the newest synced). */
  get version(): number {
    return this.latest?.version ?? this.options.initialVersion;
  }

  /**
   * Brings every member to the weights in `path` (a sync checkpoint of policy `version`, written by
   * the engine's `exportWeights`), all in parallel. Throws only when no member is left in rotation.
   */
  async sync(options: { path: string; version: number }): Promise<SyncReport> {
    const t0 = performance.now();
    this.latest = { path: options.path, version: options.version };
    const synced: number[] = [];
    const failed: number[] = [];
    await Promise.all(
      this.members.map(async (m) => {
        if (m.restarting || m.state === 'restarting') {
          failed.push(m.id); // not waited for: it loads `latest` itself before it rejoins the rotation
          return;
        }
        if (m.state === 'out') {
          failed.push(m.id);
          return;
        }
        try {
          await this.syncMember(m, options.path, options.version);
          synced.push(m.id);
        } catch (error) {
          failed.push(m.id);
          this.takeOut(m, `weight sync to version ${options.version} failed: ${(error as Error).message}`);
        }
      }),
    );
    synced.sort((a, b) => a - b);
    failed.sort((a, b) => a - b);
    const report = { version: options.version, seconds: (performance.now() - t0) / 1000, synced, failed };
    this.emit({ kind: 'synced', version: report.version, seconds: report.seconds, members: synced, failed });
    if (synced.length === 0 && !this.members.some((m) => m.state === 'restarting')) {
      throw new SamplerError(`weight sync to version ${options.version} failed on every vLLM server:\n${this.members.map((m) => `  ${m.url}: ${m.state}`).join('\n')}`, { retryable: false });
    }
    return report;
  }

  private async syncMember(m: Member, path: string, version: number): Promise<void> {
    m.state = 'syncing';
    await pauseGeneration(m.url);
    try {
      await reloadWeights(m.url, path);
      await resetPrefixCache(m.url);
      await setWeightVersion(m.url, version);
    } finally {
      await resumeGeneration(m.url).catch(() => undefined); // a member that cannot resume fails its next call and is handled then
    }
    m.version = version;
    m.state = 'ready';
  }

  /** Takes a member out of rotation; a started one is restarted (and brought to the newest weights). */
  private takeOut(m: Member, reason: string): void {
    m.epoch++;
    m.state = 'out';
    this.emit({ kind: 'out', member: m.id, url: m.url, reason });
    if (m.server && !this.stopped) void this.restartMember(m);
  }

  private onDeath(id: number, info: { code: number | null; signal: string | null }): void {
    const m = this.members[id];
    if (!m || this.stopped) return;
    this.emit({ kind: 'died', member: id, url: m.url, code: info.code, signal: info.signal });
    m.epoch++;
    m.state = 'out';
    void this.restartMember(m);
  }

  /** Restarts a started member's process and reloads the newest weights; it stays out if that fails or restarts run out. */
  private restartMember(m: Member): Promise<void> {
    if (m.restarting || !m.server) return m.restarting ?? Promise.resolve();
    if (m.restarts >= (this.options.maxRestarts ?? 3)) return Promise.resolve();
    m.restarts++;
    m.state = 'restarting';
    const server = m.server;
    m.restarting = (async () => {
      try {
        await server.restart();
        // load the newest weights; a sync that lands meanwhile (it skips this member) means loading again
        let loaded: { path: string; version: number } | undefined;
        while (this.latest && this.latest !== loaded && !this.stopped) {
          loaded = this.latest;
          await reloadWeights(m.url, loaded.path);
          await resetPrefixCache(m.url);
        }
        await setWeightVersion(m.url, loaded?.version ?? this.options.initialVersion);
        if (this.stopped) return;
        m.version = loaded?.version ?? this.options.initialVersion;
        m.epoch++;
        m.state = 'ready';
        this.emit({ kind: 'restarted', member: m.id, url: m.url, version: m.version });
      } catch (error) {
        m.state = 'out';
        this.emit({ kind: 'out', member: m.id, url: m.url, reason: `restart failed: ${(error as Error).message}` });
      } finally {
        m.restarting = undefined;
      }
    })();
    return m.restarting;
  }

  /** A `Sampler` over the fleet (token ids and logprobs on by default; each response carries its policy version). */
  sampler(options: { defaultSampling?: SamplingArgs; maxAttempts?: number; waitMs?: number } = {}): VllmFleetSampler {
    return new VllmFleetSampler(this, options);
  }

  /** The member a request goes to: the least busy one in rotation, waiting while none is (sync, restart). */
  async acquire(waitMs: number, signal?: AbortSignal): Promise<{ member: Member; version: number; epoch: number }> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (this.stopped) throw new SamplerError('vLLM fleet stopped', { retryable: false });
      signal?.throwIfAborted();
      const ready = this.members.filter((m) => m.state === 'ready');
      if (ready.length > 0) {
        const member = ready.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
        return { member, version: member.version, epoch: member.epoch };
      }
      const recovering = this.members.some((m) => m.state === 'syncing' || m.restarting);
      if (!recovering) throw new SamplerError(`no vLLM server in rotation:\n${this.members.map((m) => `  ${m.url}: ${m.state}`).join('\n')}`, { retryable: false });
      if (Date.now() > deadline) throw new SamplerError(`no vLLM server came back into rotation within ${waitMs} ms`, { retryable: false });
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Whether an answer from `member` sent at `epoch` is still of a known version. */
  stillValid(member: Member, epoch: number): boolean {
    return member.epoch === epoch;
  }

  /** Called when a request to `member` failed at the transport level: out of rotation if its server is not healthy. */
  async suspect(member: Member, epoch: number, reason: string): Promise<void> {
    this.emit({ kind: 'retry', member: member.id, url: member.url, reason });
    if (member.epoch !== epoch || member.state !== 'ready') return;
    if (await vllmHealth(member.url)) return;
    if (member.epoch === epoch && member.state === 'ready') this.takeOut(member, `unhealthy after: ${reason}`);
  }

  /** Stops the servers keiko started. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.members.map((m) => m.server?.stop()));
  }
}

/**
 * The fleet as one `Sampler`: each call goes to the least busy member in rotation and comes back with
 * `policyVersion` set (see `VllmFleet`). A call that fails because its server went away, or whose
 * server's weights stopped being known meanwhile, is sent again to another member (`maxAttempts`).
 */
export class VllmFleetSampler implements Sampler {
  readonly model: string;
  private readonly maxAttempts: number;
  private readonly waitMs: number;

  constructor(
    private readonly fleet: VllmFleet,
    private readonly options: { defaultSampling?: SamplingArgs; maxAttempts?: number; waitMs?: number },
  ) {
    this.model = 'keiko-policy';
    this.maxAttempts = options.maxAttempts ?? 6;
    this.waitMs = options.waitMs ?? 900_000;
  }

  get baseUrls(): string[] {
    return this.fleet.urls.map((u) => `${u}/v1`);
  }

  async chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
    const withDefaults: ChatRequest = { ...request, sampling: { returnTokens: true, ...this.options.defaultSampling, ...request.sampling } };
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const { member, version, epoch } = await this.fleet.acquire(this.waitMs, options?.signal);
      member.inFlight++;
      try {
        const response = await member.client.chat(withDefaults, options);
        if (!this.fleet.stillValid(member, epoch)) {
          lastError = new SamplerError(`vLLM server ${member.url} lost its weights while answering`, { retryable: true });
          await this.fleet.suspect(member, epoch, 'weights of unknown version');
          continue;
        }
        return { ...response, policyVersion: version };
      } catch (error) {
        if (!(error instanceof SamplerError) || !error.retryable) throw error;
        lastError = error;
        await this.fleet.suspect(member, epoch, error.message);
      } finally {
        member.inFlight--;
      }
    }
    throw lastError instanceof SamplerError ? lastError : new SamplerError(`vLLM request failed after ${this.maxAttempts} attempts`, { cause: lastError, retryable: false });
  }
}
