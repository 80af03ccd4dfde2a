// An agent written with the Vercel AI SDK: generateText with a tool, through an OpenAI-compatible
// provider. Nothing here knows about keiko.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, stepCountIs, tool } from 'ai';
import { z } from 'zod';

export interface EndpointConfig {
  baseURL: string;
  apiKey: string;
  model: string;
  signal?: AbortSignal;
}

/** Answers `question` with up to three steps (model call → tool → model call…). */
export async function aiSdkAgent(question: string, config: EndpointConfig): Promise<string> {
  const provider = createOpenAICompatible({ name: 'local', baseURL: config.baseURL, apiKey: config.apiKey });
  const { text } = await generateText({
    model: provider.chatModel(config.model),
    system: 'You are a careful calculator. Use the add tool.',
    prompt: question,
    tools: {
      add: tool({
        description: 'Add two numbers.',
        inputSchema: z.object({ a: z.number(), b: z.number() }),
        execute: async ({ a, b }) => a + b,
      }),
    },
    stopWhen: stepCountIs(3),
    maxOutputTokens: 64,
    maxRetries: 0,
    ...(config.signal ? { abortSignal: config.signal } : {}),
  });
  return text;
}
