import { SamplerError } from '../../core/errors.js';

// The vLLM server routes keiko's weight sync uses (vLLM 0.32; the dev-mode ones need
// VLLM_SERVER_DEV_MODE=1, which `vllmEnv` sets for servers keiko starts).

/** Default wait for one admin call (a reload of a large model takes a while). */
const ADMIN_TIMEOUT_MS = 600_000;

async function post(url: string, path: string, body?: unknown, timeoutMs = ADMIN_TIMEOUT_MS): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new SamplerError(`vLLM at ${url} unreachable for ${path}: ${(error as Error).message}`, { cause: error, retryable: true });
  }
  const text = await res.text();
  if (!res.ok) {
    const hint = res.status === 404 ? ' (is VLLM_SERVER_DEV_MODE=1 set for that server?)' : '';
    throw new SamplerError(`vLLM ${url}${path} failed (${res.status})${hint}: ${text.slice(0, 500)}`, { status: res.status, retryable: false });
  }
  try {
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return text;
  }
}

/** `POST /pause?mode=keep`: new and in-flight requests wait (in-flight ones keep their state) until `/resume`. */
export async function pauseGeneration(url: string): Promise<void> {
  await post(url, '/pause?mode=keep');
}

/** `POST /resume`: paused requests continue. */
export async function resumeGeneration(url: string): Promise<void> {
  await post(url, '/resume');
}

/**
 * `POST /collective_rpc {method: reload_weights}`: every worker reloads the weights from the
 * safetensors in `path` (a sync checkpoint: full weights, explicit lm_head.weight).
 */
export async function reloadWeights(url: string, path: string): Promise<void> {
  await post(url, '/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: path } });
}

/**
 * `POST /reset_prefix_cache?reset_running_requests=true`: drops all KV computed with the old weights;
 * requests kept by a pause are preempted and recompute theirs under the new weights on resume.
 */
export async function resetPrefixCache(url: string): Promise<void> {
  const body = await post(url, '/reset_prefix_cache?reset_running_requests=true');
  if (typeof body === 'object' && body !== null && (body as { success?: unknown }).success === false) {
    throw new SamplerError(`vLLM ${url} could not reset its prefix cache`, { retryable: false });
  }
}

/** `POST /update_weight_version`: the label `GET /weight_info` reports (keiko's policy version). */
export async function setWeightVersion(url: string, version: number): Promise<void> {
  await post(url, '/update_weight_version', { new_version: String(version) });
}

/** `GET /weight_info`: the label set by `setWeightVersion` (null when never set). */
export async function weightVersion(url: string): Promise<string | null> {
  const res = await fetch(`${url}/weight_info`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new SamplerError(`vLLM ${url}/weight_info failed (${res.status})`, { status: res.status, retryable: false });
  const body = (await res.json()) as { weight_version?: unknown };
  return typeof body.weight_version === 'string' ? body.weight_version : null;
}
