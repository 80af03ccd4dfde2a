import { z } from 'zod';

type Typed = Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array;
const CTORS = {
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;
type Kind = keyof typeof CTORS;

/** Where one typed array lives in a sections file. */
export const SectionEntry = z.object({
  name: z.string(),
  kind: z.enum(['u8', 'u16', 'u32', 'f32', 'f64']),
  byteOffset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
});
export type SectionEntry = z.infer<typeof SectionEntry>;

function kindOf(a: Typed): Kind {
  if (a instanceof Uint8Array) return 'u8';
  if (a instanceof Uint16Array) return 'u16';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Float32Array) return 'f32';
  return 'f64';
}

/**
 * Packs named typed arrays into one buffer, each 8-byte aligned (little-endian, as the platform
 * writes them), and returns the table of contents to store beside it.
 */
export function packSections(sections: Record<string, Typed>): { bytes: Buffer; toc: SectionEntry[] } {
  const toc: SectionEntry[] = [];
  let off = 0;
  for (const [name, arr] of Object.entries(sections)) {
    toc.push({ name, kind: kindOf(arr), byteOffset: off, length: arr.length });
    off += Math.ceil(arr.byteLength / 8) * 8;
  }
  const bytes = Buffer.alloc(off);
  for (const e of toc) {
    const arr = sections[e.name]!;
    bytes.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), e.byteOffset);
  }
  return { bytes, toc };
}

/** Typed-array views over a buffer read from disk (no copy when the buffer is 8-byte aligned). */
export function unpackSections(buf: Uint8Array, toc: readonly SectionEntry[]): Map<string, Typed> {
  let base = buf;
  if (base.byteOffset % 8 !== 0) base = base.slice();
  const out = new Map<string, Typed>();
  for (const e of toc) {
    const Ctor = CTORS[e.kind];
    const end = e.byteOffset + e.length * Ctor.BYTES_PER_ELEMENT;
    if (end > base.byteLength) throw new RangeError(`section ${e.name} runs past the end of the file`);
    out.set(e.name, new Ctor(base.buffer as ArrayBuffer, base.byteOffset + e.byteOffset, e.length));
  }
  return out;
}
