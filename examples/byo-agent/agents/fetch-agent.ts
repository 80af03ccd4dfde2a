// A plain agent: raw fetch against any OpenAI-compatible endpoint, with one tool. Nothing here knows
// about keiko: it takes a base URL, an API key, a model name and an abort signal.

interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}
interface Message {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}
interface ChatCompletion {
  choices: { message: { content: string | null; tool_calls?: ToolCall[] } }[];
}

export interface EndpointConfig {
  baseURL: string;
  apiKey: string;
  model: string;
  signal?: AbortSignal;
}

const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'add',
      description: 'Add two numbers.',
      parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
    },
  },
];

function runTool(call: ToolCall): string {
  if (call.function.name !== 'add') return `unknown tool ${call.function.name}`;
  try {
    const args = JSON.parse(call.function.arguments) as { a?: unknown; b?: unknown };
    return String(Number(args.a) + Number(args.b));
  } catch {
    return 'error: arguments must be JSON like {"a": 1, "b": 2}';
  }
}

/** Answers `question`, calling the `add` tool as often as the model asks (up to `maxSteps` model calls). */
export async function fetchAgent(question: string, config: EndpointConfig, maxSteps = 3): Promise<string> {
  const messages: Message[] = [
    { role: 'system', content: 'You are a careful calculator. Use the add tool.' },
    { role: 'user', content: question },
  ];
  for (let step = 0; step < maxSteps; step++) {
    const res = await fetch(`${config.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${config.apiKey}` },
      body: JSON.stringify({ model: config.model, messages, tools: TOOLS, max_tokens: 64 }),
      ...(config.signal ? { signal: config.signal } : {}),
    });
    if (!res.ok) throw new Error(`chat completion failed: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as ChatCompletion;
    const message = body.choices[0]?.message;
    if (!message) throw new Error('chat completion had no choices');
    messages.push({ role: 'assistant', content: message.content, ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}) });
    if (!message.tool_calls?.length) return message.content ?? '';
    for (const call of message.tool_calls) messages.push({ role: 'tool', tool_call_id: call.id, content: runTool(call) });
  }
  return messages.at(-1)?.content ?? '';
}
