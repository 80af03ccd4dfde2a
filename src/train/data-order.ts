import { Rng } from '../core/rng.js';

/**
 * Where the trainer stands in its endless, per-epoch reshuffled walk over a dataset. The order of
 * epoch `e` depends only on `seed` and `e`, so a position (epoch, index) is enough to resume.
 */
export class DataOrder {
  readonly size: number;
  private readonly seed: number;
  epoch: number;
  position: number;
  private order: number[];

  constructor(options: { size: number; seed: number; epoch?: number; position?: number }) {
    if (options.size <= 0) throw new RangeError('DataOrder needs a non-empty dataset');
    this.size = options.size;
    this.seed = options.seed;
    this.epoch = options.epoch ?? 0;
    this.position = options.position ?? 0;
    this.order = this.orderFor(this.epoch);
  }

  /** The next `count` dataset indices, advancing (and reshuffling at epoch ends). */
  take(count: number): number[] {
    const out: number[] = [];
    while (out.length < count) {
      if (this.position >= this.size) {
        this.epoch++;
        this.position = 0;
        this.order = this.orderFor(this.epoch);
      }
      out.push(this.order[this.position++]!);
    }
    return out;
  }

  private orderFor(epoch: number): number[] {
    const rng = new Rng((this.seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
    return rng.shuffle(Array.from({ length: this.size }, (_, i) => i));
  }
}
