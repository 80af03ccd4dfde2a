/** One engine's figures on one corpus, as the Node, Python and Java drivers write them to JSON. */
export interface EngineResult {
  engine: string;
  version: string;
  passages: number;
  buildSeconds: number;
  memoryBytes: number;
  memoryMethod: string;
  diskBytes: number | null;
  /** Query set → per-query latency in ms. */
  latency: Record<string, number[]>;
  /** Query set → per-query top-10 passage ids. */
  top10: Record<string, string[][]>;
  note?: string;
}
