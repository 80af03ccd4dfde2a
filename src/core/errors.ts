/**
 * keiko's error hierarchy. Subclasses say who is at fault: the user (`ConfigError`), an environment
 * (`EnvError`), the engine or a sampling server (`EngineError`, `SamplerError`). Output a model gets
 * wrong is not an exception: it is recorded on its rollout and scored. Every error has a literal
 * `code` and keeps its `cause`.
 */
export class KeikoError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** A plain object for logs and JSONL records. */
  toJSON(): { name: string; code: string; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** Bad configuration, flags, dataset columns or construction arguments: the user can fix it. */
export class ConfigError extends KeikoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config_error', message, options);
  }
}

/** An environment (or one of its tools) failed in a way that is not the model's fault. */
export class EnvError extends KeikoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('env_error', message, options);
  }
}

/** A sampling server failed: HTTP error, timeout, or a response without required fields. */
export class SamplerError extends KeikoError {
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown; status?: number; retryable?: boolean }) {
    super('sampler_error', message, options);
    this.status = options?.status;
    this.retryable = options?.retryable ?? true;
  }
}

/** The Python engine failed to start, died, or rejected a training request. */
export class EngineError extends KeikoError {
  readonly status: number | undefined;

  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super('engine_error', message, options);
    this.status = options?.status;
  }
}

/** Serialises any thrown value for a rollout record, without losing the code when there is one. */
export function describeError(error: unknown): { name: string; code: string; message: string } {
  if (error instanceof KeikoError) return error.toJSON();
  if (error instanceof Error) return { name: error.name, code: 'error', message: error.message };
  return { name: 'Error', code: 'error', message: String(error) };
}

/** "unknown environment 'foo'; available: a, b" — the message shape used for every bad name. */
export function unknownNameMessage(kind: string, name: string, available: readonly string[]): string {
  return `unknown ${kind} '${name}'; available: ${available.length ? available.join(', ') : '(none)'}`;
}
