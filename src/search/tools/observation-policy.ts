import { z } from 'zod';
import type { ChatMessage } from '../../core/index.js';

/**
 * What the model is shown of old observations (results pages, page views, find results), so a long
 * episode fits a context budget. The latest `keepLast` observations stay whole; older ones are
 * `'drop'`ped (replaced by a one-line placeholder: a tool call still needs its reply), `'truncate'`d
 * to `truncateChars`, or `'summarise'`d: a results page keeps its header and result titles, a page
 * view its title, URL and line range, and the text is elided. Deterministic; no model calls.
 */
export const ObservationPolicy = z.strictObject({
  /** Observations kept whole, counting back from the latest. */
  keepLast: z.number().int().min(0).default(3),
  mode: z.enum(['drop', 'truncate', 'summarise']).default('summarise'),
  /** Characters kept of an old observation in 'truncate' mode. */
  truncateChars: z.number().int().min(0).max(100_000).default(300),
});
export type ObservationPolicy = z.infer<typeof ObservationPolicy>;
export type ObservationPolicyInput = z.input<typeof ObservationPolicy>;

const INFO = /^<information>([\s\S]*?)(<\/information>)?$/;

/** True for an environment observation: a tool reply, or a `<information>` user message of the tag protocol. */
function isObservation(m: ChatMessage): boolean {
  if (m.role === 'tool') return true;
  return m.role === 'user' && typeof m.content === 'string' && m.content.startsWith('<information>');
}

/** The short form of an observation's text (see `ObservationPolicy`). */
export function summariseObservation(text: string): string {
  const lines = text.split('\n');
  if (/^Search results for /.test(lines[0] ?? '')) {
    const titles = lines.filter((l) => /^【\d+†/.test(l)).map((l) => l.replace(/】.*$/, '】'));
    return [lines[0], ...titles, '[snippets elided]'].join('\n');
  }
  const viewing = lines.findIndex((l) => /^\[viewing lines /.test(l));
  if (viewing >= 0) return [...lines.slice(0, viewing + 1), '[page text elided; open it again to reread]'].join('\n');
  return `${lines[0] ?? ''}${lines.length > 1 ? '\n[elided]' : ''}`;
}

function shorten(text: string, policy: ObservationPolicy): string {
  if (policy.mode === 'drop') return '[earlier observation elided]';
  if (policy.mode === 'truncate') return text.length <= policy.truncateChars ? text : `${text.slice(0, policy.truncateChars)} …[${text.length - policy.truncateChars} chars elided]`;
  return summariseObservation(text);
}

/** The conversation as the policy shows it: old observations shortened, everything else as it was. */
export function applyObservationPolicy(messages: readonly ChatMessage[], policy: ObservationPolicy): ChatMessage[] {
  let seen = 0;
  const out = messages.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    const m = out[i]!;
    if (!isObservation(m)) continue;
    if (++seen <= policy.keepLast || typeof m.content !== 'string') continue;
    const info = m.role === 'user' ? INFO.exec(m.content) : null;
    const content = info ? `<information>${shorten(info[1]!, policy)}</information>` : shorten(m.content, policy);
    out[i] = { ...m, content };
  }
  return out;
}
