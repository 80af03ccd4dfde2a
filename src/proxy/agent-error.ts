import { KeikoError } from '../core/errors.js';

/** Why a user agent's run ended badly: it threw, ran past its time limit, or the run was stopped. */
export type AgentErrorCode = 'agent_error' | 'agent_timeout' | 'agent_aborted';

/** A failure of the user's agent function inside one `AgentEnv` rollout (recorded, never thrown out). */
export class AgentError extends KeikoError {
  declare readonly code: AgentErrorCode;

  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
