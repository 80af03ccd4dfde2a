// An agent written with OpenAI Agents JS (@openai/agents), on the Chat Completions API of any
// OpenAI-compatible server. Nothing here knows about keiko.
import { Agent, OpenAIChatCompletionsModel, Runner, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';

export interface EndpointConfig {
  baseURL: string;
  apiKey: string;
  model: string;
  signal?: AbortSignal;
}

const add = tool({
  name: 'add',
  description: 'Add two numbers.',
  parameters: z.object({ a: z.number(), b: z.number() }),
  execute: async ({ a, b }) => String(a + b),
});

// Tracing would export to OpenAI's servers; a local agent keeps it off.
const runner = new Runner({ tracingDisabled: true });

/** Answers `question`; the agent may call `add` before answering (at most three model calls). */
export async function openaiAgentsAgent(question: string, config: EndpointConfig): Promise<string> {
  const client = new OpenAI({ baseURL: config.baseURL, apiKey: config.apiKey, maxRetries: 0 });
  const agent = new Agent({
    name: 'calculator',
    instructions: 'You are a careful calculator. Use the add tool.',
    model: new OpenAIChatCompletionsModel(client, config.model),
    modelSettings: { maxTokens: 64 },
    tools: [add],
  });
  const result = await runner.run(agent, question, { maxTurns: 3, ...(config.signal ? { signal: config.signal } : {}) });
  return String(result.finalOutput ?? '');
}
