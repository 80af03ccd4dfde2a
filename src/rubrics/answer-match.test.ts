import { describe, expect, it } from 'vitest';
import { exactMatch, normalizeAnswer, tokenF1 } from './answer-match.js';
import { numericEqual, parseNumber } from './numeric.js';

describe('answer matching', () => {
  it('normalises like SQuAD', () => {
    expect(normalizeAnswer('  The Eiffel-Tower! ')).toBe('eiffel tower');
    expect(exactMatch('the eiffel tower', 'Eiffel Tower.')).toBe(true);
    expect(exactMatch('Paris', ['London', 'paris'])).toBe(true);
    expect(exactMatch(undefined, 'x')).toBe(false);
    expect(exactMatch('Paris France', 'Paris')).toBe(false);
  });

  it('token F1 counts overlapping tokens', () => {
    expect(tokenF1('Paris France', 'Paris')).toBeCloseTo(2 / 3);
    expect(tokenF1('the cat sat', 'a cat sat down')).toBeCloseTo(0.8);
    expect(tokenF1('dog', 'cat')).toBe(0);
    expect(tokenF1('x', ['cat', 'x'])).toBe(1);
    expect(tokenF1(undefined, 'x')).toBe(0);
  });

  it('parses numbers from model text', () => {
    expect(parseNumber('1,234')).toBe(1234);
    expect(parseNumber(' $-3.5 ')).toBe(-3.5);
    expect(parseNumber('so the answer is 12.')).toBe(12);
    expect(parseNumber('between 3 and 4, 4')).toBe(4);
    expect(parseNumber('none')).toBeUndefined();
    expect(parseNumber('total: 12,345,678 units')).toBe(12345678);
    expect(parseNumber('pick 1,2')).toBe(2);
    expect(parseNumber(undefined)).toBeUndefined();
  });

  it('numeric equality honours tolerances', () => {
    expect(numericEqual('0.30000000000000004', 0.3)).toBe(true);
    expect(numericEqual('100', '101')).toBe(false);
    expect(numericEqual('100', '101', { relTol: 0.02 })).toBe(true);
    expect(numericEqual('1.05', 1, { absTol: 0.1 })).toBe(true);
    expect(numericEqual('abc', 1)).toBe(false);
  });
});
