import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../../core/index.js';

/** Environment names: lower-case words joined by dashes, usable as folder and module names. */
export const ENV_NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export interface ScaffoldOptions {
  /** Environment name, e.g. 'reverse-words'. */
  name: string;
  /** Folder to create the environment folder in. Default: the current folder. */
  parentDir?: string;
  /** Module specifier the generated files import keiko from. Default 'keiko'. */
  importFrom?: string;
  /** Overwrite existing files. */
  force?: boolean;
}

/** What `scaffoldEnvironment` wrote. */
export interface ScaffoldResult {
  dir: string;
  files: string[];
}

/**
 * Writes a working single-turn environment module (`<name>/index.ts`, exporting `loadEnvironment`)
 * and its vitest test (`<name>/<name>.test.ts`, using keiko's `ScriptedSampler`). Adds a
 * `package.json` with `"type": "module"` when no enclosing package declares ES modules.
 */
export async function scaffoldEnvironment(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { name } = options;
  if (!ENV_NAME_PATTERN.test(name)) {
    throw new ConfigError(`invalid environment name '${name}'; use lower-case letters, digits and dashes, starting with a letter (e.g. reverse-words)`);
  }
  const dir = resolve(options.parentDir ?? '.', name);
  const from = options.importFrom ?? 'keiko';
  const files: [string, string][] = [
    [join(dir, 'index.ts'), envTemplate(name, from)],
    [join(dir, `${name}.test.ts`), testTemplate(name, from)],
  ];
  if (!insideEsmPackage(dir)) files.push([join(dir, 'package.json'), `${JSON.stringify({ name, private: true, type: 'module' }, null, 2)}\n`]);
  const existing = files.filter(([path]) => existsSync(path)).map(([path]) => path);
  if (existing.length && !options.force) {
    throw new ConfigError(`refusing to overwrite ${existing.join(', ')}; pass --force or choose another name`);
  }
  await mkdir(dir, { recursive: true });
  for (const [path, text] of files) await writeFile(path, text);
  return { dir, files: files.map(([path]) => path) };
}

/** True when the nearest package.json above `dir` declares `"type": "module"`. */
function insideEsmPackage(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    const path = join(d, 'package.json');
    if (existsSync(path)) {
      try {
        return /"type"\s*:\s*"module"/.test(readFileSync(path, 'utf8'));
      } catch {
        return false;
      }
    }
    if (dirname(d) === d) return false;
  }
}

function envTemplate(name: string, from: string): string {
  return `import { XMLParser, rubric, singleTurnEnv, ConfigError, type ScoreInput } from '${from}';

/**
 * ${name}: a single-turn task. The model reverses a word and answers <answer>…</answer>; the reward
 * is 1 for the exact reversed word. Replace the dataset and the reward with your own task.
 *
 *   keiko eval -e ./${name}/index.ts -m <model> -b http://localhost:8000/v1 -n 10 -r 4
 */

const WORDS = ['keiko', 'practice', 'reward', 'rubric', 'agent', 'rollout', 'policy', 'gradient', 'sample', 'token'];

/** Reads the answer from the model's last message. */
export const parser = new XMLParser({ fields: ['answer'] });

/** Reward: 1 when the parsed answer is the reversed word. */
export function correctAnswer({ completion, answer }: ScoreInput): number {
  return parser.parseAnswer(completion)?.trim() === answer ? 1 : 0;
}

/** Called by \`keiko eval -e\` with the \`--env-args\` object. */
export function loadEnvironment(args: Record<string, unknown> = {}) {
  const count = args.count ?? WORDS.length;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > WORDS.length) {
    throw new ConfigError(\`${name}: count must be an integer from 1 to \${WORDS.length}, got \${JSON.stringify(count)}\`);
  }
  const rows = WORDS.slice(0, count).map((word, i) => ({
    id: i,
    question: \`Reverse the word "\${word}".\`,
    answer: [...word].reverse().join(''),
  }));
  return singleTurnEnv({
    name: '${name}',
    dataset: rows,
    systemPrompt: \`Think briefly, then reply \${parser.format({ answer: '...' })}.\`,
    parser,
    rubric: rubric({
      funcs: [{ name: 'correct', fn: correctAnswer }, parser.formatRewardFunc({ weight: 0 })],
      parser,
    }),
  });
}
`;
}

function testTemplate(name: string, from: string): string {
  return `import { describe, expect, it } from 'vitest';
import { runRollouts } from '${from}';
import { ScriptedSampler } from '${from}/testing';
import { loadEnvironment } from './index.js';

describe('${name}', () => {
  it('rewards the reversed word and nothing else', async () => {
    const env = loadEnvironment({ count: 3 });
    const [first] = env.dataset;
    const sampler = new ScriptedSampler({
      script: [\`<answer>\${String(first!.answer)}</answer>\`, '<answer>wrong</answer>', 'no answer tags at all'],
    });
    const results = await runRollouts({ env, sampler, concurrency: 1, examples: env.dataset });
    expect(results.map((r) => r.reward)).toEqual([1, 0, 0]);
    expect(results[2]!.metrics.format).toBe(0);
    sampler.assertDone({ allUsed: true });
  });

  it('rejects bad arguments when it is built', () => {
    expect(() => loadEnvironment({ count: 0 })).toThrow(/count must be an integer/);
  });
});
`;
}
