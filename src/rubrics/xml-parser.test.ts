import { describe, expect, it } from 'vitest';
import { ConfigError, type ChatMessage } from '../core/index.js';
import { XMLParser } from './xml-parser.js';

const parser = new XMLParser({ fields: ['think', ['answer', 'final']] });
const asst = (content: string): ChatMessage => ({ role: 'assistant', content });

describe('XMLParser', () => {
  it('parses declared fields, keyed by canonical name', () => {
    expect(parser.parse('<think>hmm</think>\n<answer> 42 </answer>')).toEqual({ think: 'hmm', answer: '42' });
  });

  it('accepts alternatives and lets the last occurrence win', () => {
    expect(parser.parse('<answer>1</answer> then <final>2</final>').answer).toBe('2');
    expect(parser.parse('<final>1</final> then <answer>3</answer>').answer).toBe('3');
  });

  it('tolerates broken XML: unclosed tags, spaces, odd case', () => {
    expect(parser.parse('<answer>7').answer).toBe('7');
    expect(parser.parse('<think>a<answer>9</answer>').think).toBe('a');
    expect(parser.parse('< ANSWER >5</ answer >').answer).toBe('5');
    expect(parser.parse('no tags at all').answer).toBeUndefined();
    expect(parser.parse('<answer 5').answer).toBeUndefined();
    expect(parser.parse('</answer></answer><answer>').answer).toBe('');
  });

  it('parseAnswer reads the last assistant message', () => {
    const completion: ChatMessage[] = [asst('<answer>1</answer>'), { role: 'user', content: '<answer>x</answer>' }, asst('<answer>2</answer>')];
    expect(parser.parseAnswer(completion)).toBe('2');
    expect(parser.parseAnswer([])).toBeUndefined();
  });

  it('formatReward gives partial credit', () => {
    expect(parser.formatReward('<think>x</think><answer>1</answer>')).toBe(1);
    expect(parser.formatReward('<answer>1</answer>')).toBe(0.5);
    expect(parser.formatReward('<think>x<answer>1</answer>')).toBe(0.75);
    expect(parser.formatReward('plain text')).toBe(0);
    expect(parser.formatReward([asst('<think>a</think><answer>1</answer>'), asst('nothing')])).toBe(0.5);
  });

  it('format() renders what parse() reads back', () => {
    const text = parser.format({ think: 'because', answer: 12 });
    expect(text).toBe('<think>because</think>\n<answer>12</answer>');
    expect(parser.parse(text)).toEqual({ think: 'because', answer: '12' });
  });

  it('rejects bad declarations at construction with the fix', () => {
    expect(() => new XMLParser({ fields: [] })).toThrow(ConfigError);
    expect(() => new XMLParser({ fields: ['a b'] })).toThrow(/not a valid tag name/);
    expect(() => new XMLParser({ fields: ['a', ['b', 'a']] })).toThrow(/declared twice/);
    expect(() => new XMLParser({ fields: ['a'], answerField: 'b' })).toThrow(/declared: a/);
  });
});
