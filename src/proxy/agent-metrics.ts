import type { ScoreInput } from '../core/environment.js';
import type { TokenMergeStats } from './calls-to-turns.js';

/** A weight-0 rubric entry: recorded as a metric, adds nothing to the reward. */
export interface AgentMetricSpec {
  name: string;
  weight: 0;
  fn: (input: ScoreInput) => number;
}

const stat = (key: keyof TokenMergeStats) => (input: ScoreInput): number => {
  const stats = (input.state as { agent?: Partial<TokenMergeStats> }).agent;
  return stats?.[key] ?? 0;
};

/**
 * Metric-only rubric entries for `AgentEnv` rollouts, so eval tables and training metrics show how
 * an agent's calls line up as token sequences: `agent_calls`, `agent_extensions` (calls whose prompt
 * extends the previous call), `agent_splits` (calls that start a new sequence) and
 * `agent_failed_calls`. Spread them into a rubric: `rubric({ funcs: [correct, ...agentMetrics()] })`.
 */
export function agentMetrics(): AgentMetricSpec[] {
  return [
    { name: 'agent_calls', weight: 0, fn: stat('calls') },
    { name: 'agent_extensions', weight: 0, fn: stat('extensions') },
    { name: 'agent_splits', weight: 0, fn: stat('splits') },
    { name: 'agent_failed_calls', weight: 0, fn: stat('failedCalls') },
  ];
}
