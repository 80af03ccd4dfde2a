import type { ChatMessage, ToolSchema } from '../core/messages.js';

/** What a rule sees: the chat messages (completions prompts arrive as one user message) and tools. */
export interface TestServerRequest {
  kind: 'chat' | 'completions';
  model: string;
  messages: ChatMessage[];
  /** The raw prompt text for `/v1/completions`. */
  prompt?: string;
  tools?: ToolSchema[];
  /** The parsed JSON body, for rules that need other fields. */
  body: Record<string, unknown>;
}

/** A fault a reply can ask for: an HTTP 500, or a request that never gets an answer. */
export type TestServerFault = { fault: 'error'; status?: number; message?: string } | { fault: 'hang' };

/** What the server answers with for one choice. */
export type TestServerReply =
  | string
  | { content?: string | null; tool_calls?: { name: string; arguments: string; id?: string }[]; finishReason?: 'stop' | 'length' | 'tool_calls' }
  | TestServerFault;

/** A rule-based responder: a pure function of the request and the choice's global index. */
export type TestServerRule = (request: TestServerRequest, index: number) => TestServerReply;

/** Echoes the last user message back. */
export const echoRule: TestServerRule = (request) => {
  const last = [...request.messages].reverse().find((m) => m.role === 'user');
  return last?.content ?? '';
};

/**
 * Solves the arithmetic in the last user message (`+ - * /` over integers, left-to-right precedence
 * honoured for `*` and `/`) and answers `<answer>N</answer>`; answers `<answer>unknown</answer>` when
 * it finds no expression.
 */
export const arithmeticRule: TestServerRule = (request) => {
  const last = [...request.messages].reverse().find((m) => m.role === 'user');
  const value = solveArithmetic(last?.content ?? '');
  return `<think>computing</think>\n<answer>${value === undefined ? 'unknown' : formatNumber(value)}</answer>`;
};

/** Like `arithmeticRule`, but every third choice is wrong by one and every seventh is malformed XML. */
export const noisyArithmeticRule: TestServerRule = (request, index) => {
  const last = [...request.messages].reverse().find((m) => m.role === 'user');
  const value = solveArithmetic(last?.content ?? '');
  if (index % 7 === 6) return '<answer>oops, no closing tag';
  const shown = value === undefined ? 'unknown' : formatNumber(index % 3 === 2 ? value + 1 : value);
  return `<answer>${shown}</answer>`;
};

/** Built-in rules by name, for the command-line server. */
export const TEST_SERVER_RULES: Record<string, TestServerRule> = {
  echo: echoRule,
  arithmetic: arithmeticRule,
  'noisy-arithmetic': noisyArithmeticRule,
};

/** Evaluates the first arithmetic expression in `text` (e.g. "What is 3 + 4 * 2?"), or undefined. */
export function solveArithmetic(text: string): number | undefined {
  const match = /-?\d+(?:\.\d+)?(?:\s*[-+*/x×]\s*-?\d+(?:\.\d+)?)+/.exec(text);
  if (!match) return undefined;
  const tokens = match[0].match(/-?\d+(?:\.\d+)?|[-+*/x×]/g) ?? [];
  // Re-join "3 -4" style tokens: a number right after a number is a subtraction.
  const items: (number | string)[] = [];
  for (const t of tokens) {
    const prev = items.at(-1);
    if (typeof prev === 'number' && /^-\d/.test(t)) items.push('-', Number(t.slice(1)));
    else items.push(/^[-+*/x×]$/.test(t) ? t : Number(t));
  }
  // First pass: * and /.
  const sum: (number | string)[] = [items[0]!];
  for (let i = 1; i < items.length; i += 2) {
    const op = items[i] as string;
    const rhs = items[i + 1] as number;
    if (op === '*' || op === 'x' || op === '×') sum.push((sum.pop() as number) * rhs);
    else if (op === '/') sum.push((sum.pop() as number) / rhs);
    else sum.push(op, rhs);
  }
  let value = sum[0] as number;
  for (let i = 1; i < sum.length; i += 2) value = sum[i] === '+' ? value + (sum[i + 1] as number) : value - (sum[i + 1] as number);
  return Number.isFinite(value) ? value : undefined;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(6)));
}
