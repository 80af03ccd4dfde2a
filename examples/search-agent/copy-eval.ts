/**
 * Does a model copy answers off the results page when the answers were never seen in training?
 * Scores a model (greedy) on held-out copy-training questions: the test split (by answer entity) of
 * `city-by-id` or `define-term` questions, in the same environment setup the model was trained in.
 * The answer is the first result's title (following links: the opened page's title), so exact
 * match here is the page copy on unseen strings, the skill the two-hop geography chain needs.
 *
 *   npx tsx examples/search-agent/copy-eval.ts MODEL_DIR --kind=city-by-id [--count=100] [--envArgs.follow=links ...]
 */
import { resolve } from 'node:path';
import { EngineClient } from '../../src/engine/index.js';
import { OpenAISampler } from '../../src/samplers/index.js';
import { evaluatePolicy, parseOverrides } from '../../src/train/index.js';
import { runMain } from '../flagship-run.js';
import { loadEnvironment } from './env.js';

async function main(): Promise<void> {
  const [model, ...flags] = process.argv.slice(2);
  if (!model) throw new Error('usage: copy-eval.ts MODEL_DIR --kind=city-by-id|define-term [--count=N] [--envArgs.KEY=VALUE ...]');
  const options = parseOverrides(flags);
  const kind = String(options['kind'] ?? 'city-by-id');
  const count = Number(options['count'] ?? 100);
  const envArgs = (options['envArgs'] ?? {}) as Record<string, unknown>;
  // The held-out questions of `kind` become the evaluation set (they are never in training).
  const env = await loadEnvironment({ ...envArgs, heldOutKind: kind, evalCount: count });
  const examples = env.evalDataset ?? [];
  const engine = await EngineClient.spawn({ model: resolve(model), threads: 1, seed: 0, reference: 'none', restart: false, startupTimeoutMs: 180_000 });
  try {
    const sampler = new OpenAISampler({ model: 'keiko', baseUrl: engine.openaiBaseUrl, seed: 0 });
    const maxTurns = Number(envArgs['maxTurns'] ?? 4);
    const report = await evaluatePolicy({ env, sampler, examples, label: kind, temperature: 0, maxTokens: 24, maxTurns, seed: 7 });
    const right = report.results.filter((r) => r.reward === 1).length;
    process.stdout.write(`${model}: held-out ${kind} exact match ${right} / ${examples.length} (${((100 * right) / Math.max(1, examples.length)).toFixed(1)}%)\n`);
    for (const r of report.results.slice(0, 5)) process.stdout.write(`  ${JSON.stringify(r.answer)} ← ${r.completion.at(-1)?.content ?? ''}\n`);
  } finally {
    await engine.stop();
  }
}

runMain('copy-eval', main);
