// Bring your own agent: the OpenAI-compatible interception proxy and AgentEnv.
export { startAgentProxy, ProxySession, ROLLOUT_ID_HEADER } from './agent-proxy.js';
export type { AgentProxy, AgentProxyOptions, OpenSessionOptions, UpstreamTarget } from './agent-proxy.js';
export { AgentEnv, agentEnv } from './agent-env.js';
export type { AgentContext, AgentEnvOptions, AgentFn, AgentState } from './agent-env.js';
export { AgentError } from './agent-error.js';
export type { AgentErrorCode } from './agent-error.js';
export { callsToTurns, extendsPrevious } from './calls-to-turns.js';
export type { CallsToTurnsResult, TokenMergeStats } from './calls-to-turns.js';
export { ProxyCall, PROXY_CALL_SCHEMA_VERSION } from './proxy-call.js';
export { sseFromResponse } from './sse.js';
export { agentMetrics } from './agent-metrics.js';
export type { AgentMetricSpec } from './agent-metrics.js';
