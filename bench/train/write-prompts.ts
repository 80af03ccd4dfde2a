// Writes the arithmetic environment's training prompts as JSONL for the TRL side of the benchmark.
import { writeFileSync } from 'node:fs';
import { loadBuiltinEnvironment } from '../../environments/index.js';

const [out, argsJson = '{}'] = process.argv.slice(2);
if (!out) throw new Error('usage: tsx bench/train/write-prompts.ts OUT.jsonl [envArgsJson]');
const env = await loadBuiltinEnvironment('arithmetic', JSON.parse(argsJson) as Record<string, unknown>);
writeFileSync(out, env.dataset.map((e) => JSON.stringify({ prompt: e.prompt, answer: e.answer })).join('\n') + '\n');
console.log(`wrote ${env.dataset.length} prompts to ${out}`);
