/** Typed-array constructors the growable buffers below support. */
type TypedCtor = Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor | Float64ArrayConstructor;
type TypedOf<C extends TypedCtor> = InstanceType<C>;

/**
 * An append-only typed array that doubles its capacity: keeps index builds in flat memory instead
 * of millions of small JS arrays.
 */
export class Growable<C extends TypedCtor> {
  private buf: TypedOf<C>;
  length = 0;

  constructor(
    private readonly ctor: C,
    capacity = 1024,
  ) {
    this.buf = new ctor(capacity) as TypedOf<C>;
  }

  push(value: number): void {
    if (this.length === this.buf.length) this.reserve(this.length + 1);
    this.buf[this.length++] = value;
  }

  /** Makes room for at least `n` elements in total. */
  reserve(n: number): void {
    if (n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < n) cap *= 2;
    const next = new this.ctor(cap) as TypedOf<C>;
    next.set(this.buf.subarray(0, this.length) as never);
    this.buf = next;
  }

  get(i: number): number {
    return this.buf[i] as number;
  }

  /** The raw storage (valid up to `length`); writes through are allowed. */
  get raw(): TypedOf<C> {
    return this.buf;
  }

  /** A trimmed copy of the contents. */
  toArray(): TypedOf<C> {
    return this.buf.slice(0, this.length) as TypedOf<C>;
  }
}

/** A growable byte buffer with LEB128 varint writes. */
export class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** Unsigned LEB128 (7 bits per byte, high bit = more). `v` must be a non-negative integer < 2^32. */
  varint(v: number): void {
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.length++] = v;
  }

  toArray(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
