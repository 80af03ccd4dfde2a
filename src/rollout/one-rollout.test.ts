import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { Rng, type ToolCall } from '../core/index.js';
import { defineTool, singleTurnEnv, toolEnv } from '../envs/index.js';
import { rubric } from '../rubrics/index.js';
import { ScriptedSampler } from '../testing/index.js';
import { rolloutOnce } from './one-rollout.js';

const call = (name: string): ToolCall => ({ id: `c-${name}`, type: 'function', function: { name, arguments: '{}' } });
const one = rubric({ funcs: [{ name: 'one', fn: () => 1 }] });

describe('rolloutOnce', () => {
  it('times out a rollout whose tool never settles, and the tool sees the abort', async () => {
    let toolSignal: AbortSignal | undefined;
    const hang = defineTool({
      name: 'hang',
      parameters: z.object({}),
      execute: (_args, ctx) => {
        toolSignal = ctx.signal;
        return new Promise(() => undefined); // never settles and ignores its signal
      },
    });
    const env = toolEnv({ name: 'hanging', dataset: [{ question: 'q', answer: 'a' }], rubric: one, tools: [hang], maxTurns: 3 });
    const sampler = new ScriptedSampler({ script: [{ content: null, tool_calls: [call('hang')] }, 'done'] });
    const example = env.dataset.at(0)!;
    const output = await rolloutOnce(env, example, { sampler, sampling: {}, rng: new Rng(0), timeoutMs: 200 });
    expect(output.stopReason).toBe('error');
    expect(output.error?.code).toBe('rollout_timeout');
    expect(toolSignal?.aborted).toBe(true);
  }, 10_000);

  it("stops waiting for a hung environment when the run's own signal aborts (Ctrl-C)", async () => {
    const env = singleTurnEnv({ name: 'hanging', dataset: [{ question: 'q', answer: 'a' }], rubric: one });
    const never = { chat: () => new Promise<never>(() => undefined) } as unknown as ScriptedSampler;
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('interrupted by SIGINT')), 100);
    const output = await rolloutOnce(env, env.dataset.at(0)!, { sampler: never, sampling: {}, rng: new Rng(0), signal: controller.signal });
    expect(output.stopReason).toBe('error');
    expect(output.error?.message).toMatch(/abandoned/);
  }, 10_000);
});
