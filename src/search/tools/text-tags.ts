/** An action written with text tags by a model without tool calling (Search-R1 style). */
export type TagAction =
  | { kind: 'search'; query: string; page: number }
  | { kind: 'open'; id?: number; url?: string; line?: number }
  | { kind: 'find'; pattern: string }
  | { kind: 'answer'; answer: string }
  | { kind: 'invalid'; error: string };

const TAG = /<(search|open|find|answer)>([\s\S]*?)(?:<\/\1>|$)/;

/**
 * Reads the first action tag in a message: `<search>query</search>` (optionally "query | page 2"),
 * `<open>3</open>` (result/link id in the latest view), `<open>https://…</open>`, `<open>line 41</open>`
 * (scroll the open page), `<find>text</find>`, `<answer>…</answer>`. A missing closing tag is accepted
 * at the end (stop sequences often cut it). Returns undefined when the message has no tag.
 */
export function parseTagAction(text: string): TagAction | undefined {
  const m = TAG.exec(text);
  if (!m) return undefined;
  const kind = m[1]!;
  const body = m[2]!.trim();
  if (kind === 'answer') return { kind: 'answer', answer: body };
  if (!body) return { kind: 'invalid', error: `<${kind}> is empty` };
  if (kind === 'find') return { kind: 'find', pattern: body };
  if (kind === 'search') {
    const pm = /^(.*?)\s*\|\s*page\s+(\d+)\s*$/i.exec(body);
    return pm ? { kind: 'search', query: pm[1]!, page: Number(pm[2]) } : { kind: 'search', query: body, page: 1 };
  }
  let lm = /^line\s+(\d+)$/i.exec(body);
  if (lm) return { kind: 'open', line: Number(lm[1]) };
  if (/^[a-z]+:\/\/\S+$/i.test(body)) return { kind: 'open', url: body };
  lm = /^(\d+)(?:\s+line\s+(\d+))?$/i.exec(body);
  if (lm) return { kind: 'open', id: Number(lm[1]), ...(lm[2] ? { line: Number(lm[2]) } : {}) };
  return { kind: 'invalid', error: `cannot read <open>${body}</open>; use a result id, a URL, or "line N"` };
}

/** The final answer in a message (`<answer>…</answer>`), or undefined. */
export function parseTagAnswer(text: string): string | undefined {
  const a = parseTagAction(text);
  return a?.kind === 'answer' ? a.answer : undefined;
}
