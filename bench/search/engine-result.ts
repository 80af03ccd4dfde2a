/** One engine's figures on one corpus, as the Node, Python and Java drivers write them to JSON. */
export interface EngineResult {
  engine: string;
  version: string;
  passages: number;
  buildSeconds: number;
  memoryBytes: number;
  memoryMethod: string;
  diskBytes: number | null;
  /** Query set → latency in ms of every timed query, pass after pass (see `queryProtocol`). */
  latency: Record<string, number[]>;
  /** Query set → top-10 passage ids of each query answered in the first timed pass. */
  top10: Record<string, string[][]>;
  /** Untimed and timed passes over each query set (`queryProtocol`). */
  warmupPasses?: number;
  timedPasses?: number;
  note?: string;
}
