/** A scored passage. */
export interface ScoredPassage {
  passage: number;
  score: number;
}

/**
 * A bounded min-heap keeping the k best (score desc, then passage id asc). Callers feed passages
 * in increasing id order, so a later passage with an equal score never displaces an earlier one.
 */
export class TopK {
  private scores: Float64Array;
  private docs: Int32Array;
  size = 0;

  constructor(public k: number) {
    this.scores = new Float64Array(k);
    this.docs = new Int32Array(k);
  }

  /** Empties the heap for reuse with a (possibly different) k; grows the buffers only when needed. */
  reset(k: number): void {
    if (k > this.scores.length) {
      this.scores = new Float64Array(k);
      this.docs = new Int32Array(k);
    }
    this.k = k;
    this.size = 0;
  }

  /** Score a passage must beat to enter (−Infinity until full). */
  get threshold(): number {
    return this.size < this.k ? -Infinity : this.scores[0]!;
  }

  get full(): boolean {
    return this.size >= this.k;
  }

  /** Inserts when the heap has room or `score` beats the threshold. */
  push(doc: number, score: number): void {
    const s = this.scores;
    const d = this.docs;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!worse(score, doc, s[parent]!, d[parent]!)) break;
        s[i] = s[parent]!;
        d[i] = d[parent]!;
        i = parent;
      }
      s[i] = score;
      d[i] = doc;
      return;
    }
    if (this.k === 0 || !worse(s[0]!, d[0]!, score, doc)) return;
    this.siftDown(this.size, score, doc);
  }

  /** Places (score, doc) at the root of the first `n` slots and sifts it down to its place. */
  private siftDown(n: number, score: number, doc: number): void {
    const s = this.scores;
    const d = this.docs;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && worse(s[r]!, d[r]!, s[l]!, d[l]!) ? r : l;
      if (!worse(s[c]!, d[c]!, score, doc)) break;
      s[i] = s[c]!;
      d[i] = d[c]!;
      i = c;
    }
    s[i] = score;
    d[i] = doc;
  }

  /** The contents, best first. Empties the heap (pops the worst into the last slot each time). */
  sorted(): ScoredPassage[] {
    const s = this.scores;
    const d = this.docs;
    const out = new Array<ScoredPassage>(this.size);
    while (this.size > 0) {
      const last = --this.size;
      out[last] = { passage: d[0]!, score: s[0]! };
      this.siftDown(last, s[last]!, d[last]!);
    }
    return out;
  }
}

/** True when (sa, da) ranks below (sb, db). */
function worse(sa: number, da: number, sb: number, db: number): boolean {
  return sa < sb || (sa === sb && da > db);
}
