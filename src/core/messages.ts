import { z } from 'zod';

/** A tool call in OpenAI chat format; `arguments` is the raw JSON string the model produced. */
export const ToolCall = z.object({
  id: z.string(),
  type: z.literal('function').default('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const SystemMessage = z.object({ role: z.literal('system'), content: z.string() });
export const UserMessage = z.object({ role: z.literal('user'), content: z.string() });
export const AssistantMessage = z.object({
  role: z.literal('assistant'),
  content: z.string().nullable().default(null),
  tool_calls: z.array(ToolCall).optional(),
});
export const ToolMessage = z.object({
  role: z.literal('tool'),
  content: z.string(),
  tool_call_id: z.string(),
  name: z.string().optional(),
});

/** A chat message in OpenAI format (system, user, assistant with optional tool calls, tool). */
export const ChatMessage = z.discriminatedUnion('role', [SystemMessage, UserMessage, AssistantMessage, ToolMessage]);
export type ChatMessage = z.infer<typeof ChatMessage>;
export type SystemMessage = z.infer<typeof SystemMessage>;
export type UserMessage = z.infer<typeof UserMessage>;
export type AssistantMessage = z.infer<typeof AssistantMessage>;
export type ToolMessage = z.infer<typeof ToolMessage>;

export const Messages = z.array(ChatMessage);
export type Messages = ChatMessage[];

/** An OpenAI function-tool schema, as sent in `tools`. */
export const ToolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 chars of [a-zA-Z0-9_-]'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()),
  }),
});
export type ToolSchema = z.infer<typeof ToolSchema>;

/** The text of a message, '' when it has none. */
export function messageText(message: ChatMessage): string {
  return message.content ?? '';
}

/** The content of the last assistant message in a list, '' when there is none. */
export function lastAssistantText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'assistant') return m.content ?? '';
  }
  return '';
}
