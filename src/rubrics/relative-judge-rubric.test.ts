import { describe, expect, it } from 'vitest';
import { ConfigError, type ScoreInput } from '../core/index.js';
import { ScriptedSampler } from '../testing/index.js';
import { relativeJudgeRubric } from './relative-judge-rubric.js';
import { rubric } from './rubric.js';
import { rubricGroup } from './rubric-group.js';

const input = (response: string): ScoreInput => ({
  prompt: [{ role: 'user', content: 'Write a haiku' }], completion: [{ role: 'assistant', content: response }],
  answer: undefined, info: {}, task: undefined, state: {}, turns: [], stopReason: 'terminated', parser: undefined,
});

describe('relativeJudgeRubric', () => {
  it('shows the judge the whole group and rewards its pick', async () => {
    const sampler = new ScriptedSampler({ script: ['Best: 2'] });
    const judge = relativeJudgeRubric({ sampler });
    expect(judge.needsGroup).toBe(true);
    const scores = await judge.scoreGroup([input('meh'), input('an old silent pond'), input('no')]);
    expect(scores.map((s) => s.reward)).toEqual([0, 1, 0]);
    const sent = sampler.chatRequests[0]!.messages[0]!.content as string;
    expect(sent).toContain('Question: Write a haiku');
    expect(sent).toContain('Response 2:\nan old silent pond');
    expect(sent).toContain('Response 3:\nno');
  });

  it('an unreadable or out-of-range verdict scores the group 0 and records why', async () => {
    const judge = relativeJudgeRubric({ sampler: new ScriptedSampler({ script: ['they are all lovely', 'Best: 9'] }) });
    const first = await judge.scoreGroup([input('a'), input('b')]);
    expect(first.every((s) => s.reward === 0 && /no valid choice in 1-2/.test(s.errors!['relative_judge']!))).toBe(true);
    const second = await judge.scoreGroup([input('a'), input('b')]);
    expect(second.every((s) => s.reward === 0)).toBe(true);
  });

  it('combines with per-rollout rubrics in a group', async () => {
    const short = rubric({ funcs: [{ name: 'short', fn: ({ completion }: ScoreInput) => (completion[0]!.content!.length < 3 ? 1 : 0), weight: 0.5 }] });
    const g = rubricGroup({ rubrics: [short, relativeJudgeRubric({ sampler: new ScriptedSampler({ script: ['1'] }) })] });
    expect((await g.scoreGroup([input('ok'), input('longer')])).map((s) => s.reward)).toEqual([1.5, 0]);
    expect(() => relativeJudgeRubric({ sampler: new ScriptedSampler({ script: [] }), prompt: 'no slot' })).toThrow(ConfigError);
  });
});
