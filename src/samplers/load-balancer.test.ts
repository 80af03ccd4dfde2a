import { describe, expect, it } from 'vitest';
import { LoadBalancer } from './load-balancer.js';

describe('LoadBalancer', () => {
  it('rotates in round-robin mode', async () => {
    const lb = new LoadBalancer(['a', 'b', 'c'], 'round-robin');
    const picks: string[] = [];
    for (let i = 0; i < 6; i++) await lb.run(async (e) => picks.push(e));
    expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('avoids busy endpoints in least-outstanding mode', async () => {
    const lb = new LoadBalancer(['a', 'b'], 'least-outstanding');
    let release!: () => void;
    const blocked = lb.run(() => new Promise<string>((r) => (release = () => r('a-done'))));
    const picks: string[] = [];
    for (let i = 0; i < 3; i++) await lb.run(async (e) => picks.push(e));
    expect(lb.inFlight()).toEqual([1, 0]);
    release();
    await blocked;
    expect(picks).toEqual(['b', 'b', 'b']);
    expect(lb.inFlight()).toEqual([0, 0]);
  });

  it('needs an endpoint', () => {
    expect(() => new LoadBalancer([])).toThrow(RangeError);
  });
});
