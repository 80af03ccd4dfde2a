/**
 * SQuAD-style answer normalisation: lower case, drop punctuation and the articles a/an/the,
 * collapse whitespace. Used by `exactMatch` and `tokenF1`.
 */
export function normalizeAnswer(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when the normalised prediction equals a normalised gold answer (any of several). */
export function exactMatch(prediction: string | undefined, gold: string | readonly string[]): boolean {
  if (prediction === undefined) return false;
  const p = normalizeAnswer(prediction);
  return asList(gold).some((g) => normalizeAnswer(g) === p);
}

/** SQuAD token F1 between prediction and gold (the best over several golds), in [0, 1]. */
export function tokenF1(prediction: string | undefined, gold: string | readonly string[]): number {
  if (prediction === undefined) return 0;
  const predTokens = tokens(prediction);
  let best = 0;
  for (const g of asList(gold)) {
    const goldTokens = tokens(g);
    if (predTokens.length === 0 || goldTokens.length === 0) {
      best = Math.max(best, predTokens.length === goldTokens.length ? 1 : 0);
      continue;
    }
    const counts = new Map<string, number>();
    for (const t of goldTokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    let common = 0;
    for (const t of predTokens) {
      const c = counts.get(t) ?? 0;
      if (c > 0) {
        common++;
        counts.set(t, c - 1);
      }
    }
    if (common === 0) continue;
    const precision = common / predTokens.length;
    const recall = common / goldTokens.length;
    best = Math.max(best, (2 * precision * recall) / (precision + recall));
  }
  return best;
}

function tokens(text: string): string[] {
  const n = normalizeAnswer(text);
  return n ? n.split(' ') : [];
}

function asList(gold: string | readonly string[]): readonly string[] {
  return typeof gold === 'string' ? [gold] : gold;
}
