import { describe, expect, it } from 'vitest';
import { ThinkParser } from './think-parser.js';
import { XMLParser } from './xml-parser.js';

describe('ThinkParser', () => {
  const parser = new ThinkParser();

  it('splits thinking from the answer after the last </think>', () => {
    expect(parser.parse('<think>a</think>b</think> final')).toEqual({ think: 'a</think>b', answer: 'final' });
    expect(parser.parse('<think>reason</think>\n42')).toEqual({ think: 'reason', answer: '42' });
  });

  it('an unclosed think block has no answer; no tags means all answer', () => {
    expect(parser.parse('<think>still going').answer).toBeUndefined();
    expect(parser.parseAnswer('<think>still going')).toBeUndefined();
    expect(parser.parse('just 7').answer).toBe('just 7');
  });

  it('extract post-processes the answer', () => {
    const xml = new XMLParser({ fields: ['answer'] });
    const p = new ThinkParser({ extract: (t) => xml.parseAnswer(t) });
    expect(p.parseAnswer([{ role: 'assistant', content: '<think><answer>1</answer></think><answer>2</answer>' }])).toBe('2');
  });

  it('formatReward: 1 well-formed, 0.5 closed but off-shape, 0 never closed', () => {
    expect(parser.formatReward('<think>x</think>y')).toBe(1);
    expect(parser.formatReward('x</think>y')).toBe(0.5);
    expect(parser.formatReward('<think>x</think>')).toBe(0.5);
    expect(parser.formatReward('<think>x')).toBe(0);
  });
});
