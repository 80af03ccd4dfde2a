// `keiko eval -e examples/byo-agent/fetch-env.ts` / `keiko train --env=examples/byo-agent/fetch-env.ts`:
// the plain-fetch agent, unchanged, wrapped in an AgentEnv.
import type { Environment } from '../../src/core/environment.js';
import { agentEnv } from '../../src/proxy/index.js';
import { fetchAgent } from './agents/fetch-agent.js';
import { additionRubric, additionTasks, intArg } from './tasks.js';

export function loadEnvironment(args: Record<string, unknown> = {}): Environment {
  return agentEnv({
    name: 'byo-fetch',
    dataset: additionTasks({ count: intArg(args, 'count', 64), seed: 1 }),
    evalDataset: additionTasks({ count: intArg(args, 'evalCount', 16), seed: 2 }),
    rubric: additionRubric,
    timeoutMs: intArg(args, 'timeoutMs', 120_000),
    agent: (task, ctx) => fetchAgent(task.prompt.at(-1)?.content ?? '', ctx),
  });
}
