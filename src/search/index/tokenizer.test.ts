import { describe, expect, it } from 'vitest';
import { sStem, Tokenizer } from './tokenizer.js';

describe('Tokenizer', () => {
  it('lowercases, folds accents and ligatures, splits on punctuation, drops stopwords', () => {
    const t = new Tokenizer();
    expect(t.tokenize('The Café-Crème in Zürich, ﬁnally!')).toEqual(['cafe', 'creme', 'zurich', 'finally']);
    expect(t.tokenize('C++ and TCP/IP v4.2')).toEqual(['c', 'tcp', 'ip', 'v4', '2']);
  });

  it('keeps stopwords and case when told to, and applies minLength / stemming', () => {
    expect(new Tokenizer({ stopwords: false, lowercase: false }).tokenize('The Cat')).toEqual(['The', 'Cat']);
    expect(new Tokenizer({ minLength: 2 }).tokenize('x yz abc')).toEqual(['yz', 'abc']);
    expect(new Tokenizer({ stem: true }).tokenize('queries boxes cats glass')).toEqual(['query', 'boxe', 'cat', 'glass']);
  });

  it('s-stemmer follows Harman\'s rules', () => {
    expect(sStem('ponies')).toBe('pony');
    expect(sStem('cookies')).toBe('cooky');
    expect(sStem('shoes')).toBe('shoe');
    expect(sStem('toes')).toBe('toe');
    expect(sStem('status')).toBe('status');
    expect(sStem('dogs')).toBe('dog');
    expect(sStem('is')).toBe('is');
  });

  it('truncates very long tokens', () => {
    const long = 'a'.repeat(100);
    expect(new Tokenizer().tokenize(long)[0]).toHaveLength(64);
  });
});
