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

  it('ASCII fast path gives the same tokens as the Unicode regex path', () => {
    const t = new Tokenizer({ stopwords: false });
    const alphabet = 'aZ09 .,-_/+é\n\t';
    let seed = 1;
    for (let n = 0; n < 200; n++) {
      let s = '';
      for (let i = 0; i < 40; i++) s += alphabet[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % (alphabet.length - 1)];
      const want = s.toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '').match(/[\p{L}\p{N}]+/gu) ?? [];
      expect(t.tokenize(s)).toEqual(want);
    }
  });

  it('ASCII texts (the char-code scan) give the same tokens as the regex path, under every setting', () => {
    const alphabet = 'aZqQ09 .,-_/';
    let seed = 7;
    for (const config of [{}, { lowercase: false }, { stopwords: false }, { stem: true, minLength: 2 }]) {
      const t = new Tokenizer(config);
      for (let n = 0; n < 200; n++) {
        let s = n % 5 === 0 ? 'The Which THESE ' : '';
        for (let i = 0; i < 30; i++) s += alphabet[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % alphabet.length];
        // A non-ASCII word at the end sends the whole text down the regex path; it adds its own token.
        expect(t.tokenize(s + ' \u00e9t\u00e9')).toEqual([...t.tokenize(s), ...t.tokenize('\u00e9t\u00e9')]);
      }
    }
  });

  it('truncates very long tokens', () => {
    const long = 'a'.repeat(100);
    expect(new Tokenizer().tokenize(long)[0]).toHaveLength(64);
  });
});
