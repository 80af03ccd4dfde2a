import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { lastAssistantText, type ChatMessage } from '../core/messages.js';
import type { Environment, ScoreInput } from '../core/environment.js';
import { Rng } from '../core/rng.js';
import { singleTurnEnv } from '../envs/single-turn-env.js';
import { rubric } from '../rubrics/rubric.js';
import { ScriptedSampler } from '../testing/scripted-sampler.js';
import { numberedGroups } from './rollout-group.js';
import { sampleGroups } from './sample-groups.js';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `q${i}`, question: `say ${i}`, answer: String(i) }));
const exact = ({ completion, answer }: ScoreInput) => lastAssistantText(completion) === answer;
const userText = (messages: ChatMessage[]) => messages.filter((m) => m.role === 'user').at(-1)!.content;
/** Right on even samples' seeds, wrong otherwise: the answer depends only on the request's seed. */
const seedSampler = () => new ScriptedSampler({ respond: (req) => ((req.sampling?.seed ?? 0) % 2 === 0 ? userText(req.messages).replace('say ', '') : 'no') });

describe('sampleGroups', () => {
  it('returns groups in prompt order whose rewards do not depend on concurrency', async () => {
    const env = singleTurnEnv({ name: 'say', dataset: rows(4), rubric: rubric({ funcs: [{ name: 'exact', fn: exact }] }) });
    const run = (concurrency: number) => sampleGroups({ env, sampler: seedSampler(), examples: env.dataset, groupSize: 3, sampling: { temperature: 1 }, rng: new Rng(7), concurrency });
    const one = await run(1);
    const many = await run(12);
    expect(one.groups.map((g) => g.map((r) => `${r.exampleId}/${r.sample}`))).toEqual(rows(4).map((r) => [0, 1, 2].map((s) => `${r.id}/${s}`)));
    expect(many.groups.map((g) => g.map((r) => r.reward))).toEqual(one.groups.map((g) => g.map((r) => r.reward)));
    expect(new Set(one.groups.flat().map((r) => r.reward))).toEqual(new Set([0, 1]));
    expect(one.samplingSeconds).toBeGreaterThanOrEqual(0);
  });

  it('records a throwing environment and a throwing reward function on their rollouts and scores them 0', async () => {
    const base = singleTurnEnv({ name: 'say', dataset: rows(2), rubric: rubric({ funcs: [{ name: 'exact', fn: (input) => { if (input.answer === '1') throw new Error('judge down'); return exact(input); } }] }) });
    const env: Environment = {
      ...base,
      rollout: (example, ctx) => (example.id === 'q0' && ctx.rng.next() < 2 ? Promise.reject(new ConfigError('bad tool config')) : base.rollout(example, ctx)),
    };
    const solver = new ScriptedSampler({ respond: (req) => userText(req.messages).replace('say ', '') });
    const { groups } = await sampleGroups({ env, sampler: solver, examples: base.dataset, groupSize: 2, sampling: {}, rng: new Rng(0) });
    const [failed, judged] = groups;
    expect(failed!.every((r) => r.stopReason === 'error' && r.error?.code === 'config_error' && r.reward === 0 && r.metrics['exact'] === 0)).toBe(true);
    expect(judged!.every((r) => r.stopReason === 'terminated' && r.reward === 0 && r.scoringErrors?.['exact'] === 'judge down')).toBe(true);
  });
});

describe('sampleGroups group ids', () => {
  it('names each group where it is scheduled and carries the id to the chat requests and the results', async () => {
    const env = singleTurnEnv({ name: 'say', dataset: rows(2), rubric: rubric({ funcs: [{ name: 'exact', fn: exact }] }) });
    const sampler = seedSampler();
    const { groups } = await sampleGroups({ env, sampler, examples: env.dataset, groupSize: 2, sampling: {}, rng: new Rng(1), grouping: numberedGroups('4:', 3) });
    expect(groups.map((g) => g.map((r) => r.groupId))).toEqual([
      ['4:3', '4:3'],
      ['4:4', '4:4'],
    ]);
    expect(sampler.chatRequests.map((r) => [userText(r.messages), r.groupId])).toEqual([
      ['say 0', '4:3'],
      ['say 0', '4:3'],
      ['say 1', '4:4'],
      ['say 1', '4:4'],
    ]);
  });
});
