/**
 * An immutable list of strings in two flat arrays (UTF-8 blob and offsets): string i by position,
 * about 4 bytes per entry plus the text.
 */
export class StringList {
  protected static readonly encoder = new TextEncoder();
  private static readonly decoder = new TextDecoder();

  constructor(
    /** UTF-8 bytes of every string, concatenated in id order. */
    readonly blob: Uint8Array,
    /** `offsets[i]..offsets[i+1]` is string i in `blob`. Length: size + 1. */
    readonly offsets: Uint32Array,
  ) {}

  /** The blob and offsets of `strings`. */
  static encode(strings: readonly string[]): { blob: Uint8Array; offsets: Uint32Array } {
    const parts: Uint8Array[] = [];
    const offsets = new Uint32Array(strings.length + 1);
    let total = 0;
    for (let i = 0; i < strings.length; i++) {
      const bytes = StringList.encoder.encode(strings[i]!);
      parts.push(bytes);
      total += bytes.length;
      if (total > 0xffffffff) throw new RangeError('string table larger than 4 GiB');
      offsets[i + 1] = total;
    }
    const blob = new Uint8Array(total);
    for (let i = 0; i < parts.length; i++) blob.set(parts[i]!, offsets[i]!);
    return { blob, offsets };
  }

  static build(strings: readonly string[]): StringList {
    const { blob, offsets } = StringList.encode(strings);
    return new StringList(blob, offsets);
  }

  get size(): number {
    return this.offsets.length - 1;
  }

  /** String number `id`. */
  get(id: number): string {
    if (id < 0 || id >= this.size) throw new RangeError(`string id ${id} out of range 0..${this.size - 1}`);
    const a = this.offsets[id]!;
    const b = this.offsets[id + 1]!;
    // Short ASCII strings (titles, URLs, ids) are built from their bytes directly: cheaper than a
    // TextDecoder call.
    if (b - a <= 128) {
      let ascii = true;
      for (let i = a; i < b; i++) if (this.blob[i]! >= 0x80) ascii = false;
      if (ascii) return String.fromCharCode.apply(null, this.blob.subarray(a, b) as unknown as number[]);
    }
    return StringList.decoder.decode(this.blob.subarray(a, b));
  }

  /** Bytes held by the arrays. */
  get byteLength(): number {
    return this.blob.byteLength + this.offsets.byteLength;
  }
}

/**
 * An immutable string → id table stored in three flat arrays (UTF-8 blob, offsets, open-addressing
 * hash slots), so it is saved and loaded as raw bytes with no rebuilding, and costs ~12 bytes per
 * entry plus the text instead of a JS Map's ~60-100.
 */
export class StringTable extends StringList {
  constructor(
    blob: Uint8Array,
    offsets: Uint32Array,
    /** Hash slots (power-of-two length): 0 = empty, otherwise id + 1. */
    readonly slots: Uint32Array,
  ) {
    super(blob, offsets);
  }

  /** Builds a table; ids are positions in `strings`, which must be distinct. */
  static override build(strings: readonly string[]): StringTable {
    const { blob, offsets } = StringList.encode(strings);
    let cap = 16;
    while (cap < strings.length * 2) cap *= 2;
    const slots = new Uint32Array(cap);
    const mask = cap - 1;
    for (let i = 0; i < strings.length; i++) {
      let s = hashBytes(blob, offsets[i]!, offsets[i + 1]!) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = i + 1;
    }
    return new StringTable(blob, offsets, slots);
  }

  /** The id of `str`, or -1. */
  lookup(str: string): number {
    return this.find(str, undefined, 0, 0);
  }

  /**
   * `lookup`, reading each candidate's start in the blob and byte length from `records` (at
   * `stride · id + at` and the slot after) instead of `offsets`: for a caller that keeps them beside
   * other per-entry data, so a lookup touches one record rather than the offsets array too.
   */
  lookupIn(str: string, records: Uint32Array, stride: number, at: number): number {
    return this.find(str, records, stride, at);
  }

  private find(str: string, records: Uint32Array | undefined, stride: number, at: number): number {
    // ASCII strings (nearly every query term) are hashed and compared straight from their char
    // codes, which are their UTF-8 bytes: no encoding, no allocation.
    const n = str.length;
    const h = asciiHash(str);
    if (h < 0) return this.lookupBytes(StringList.encoder.encode(str));
    const mask = this.slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const v = this.slots[s]!;
      if (v === 0) return -1;
      const r = (v - 1) * stride + at;
      const a = records ? records[r]! : this.offsets[v - 1]!;
      if ((records ? records[r + 1]! : this.offsets[v]! - a) !== n) continue;
      let j = 0;
      while (j < n && this.blob[a + j] === str.charCodeAt(j)) j++;
      if (j === n) return v - 1;
    }
  }

  private lookupBytes(key: Uint8Array): number {
    const mask = this.slots.length - 1;
    for (let s = hashBytes(key, 0, key.length) & mask; ; s = (s + 1) & mask) {
      const v = this.slots[s]!;
      if (v === 0) return -1;
      const a = this.offsets[v - 1]!;
      if (this.offsets[v]! - a !== key.length) continue;
      let j = 0;
      while (j < key.length && this.blob[a + j] === key[j]) j++;
      if (j === key.length) return v - 1;
    }
  }

  /** Bytes held by the three arrays. */
  override get byteLength(): number {
    return super.byteLength + this.slots.byteLength;
  }
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over bytes, finished with a murmur-style mix so low bits spread well. */
function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return finishHash(h);
}

/** `hashBytes` of an ASCII string's char codes (its UTF-8 bytes), or -1 when it has a non-ASCII char. */
function asciiHash(str: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    if (ch >= 0x80) return -1;
    h = Math.imul(h ^ ch, FNV_PRIME);
  }
  return finishHash(h);
}

/** The final mix of `hashBytes` (saved tables depend on it: do not change). */
function finishHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
