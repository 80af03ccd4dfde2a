import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../core/index.js';
import { PACKAGE_ROOT } from '../../engine/index.js';

/** Environment names: lower-case words joined by dashes, usable as folder and module names. */
export const ENV_NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export interface ScaffoldOptions {
  /** Environment and project name, e.g. 'reverse-words'. */
  name: string;
  /** Folder to create the project folder in. Default: the current folder. */
  parentDir?: string;
  /** Module specifier the generated files import keiko from. Default 'keiko'. */
  importFrom?: string;
  /**
   * The `keiko` dependency in the project's package.json: a version range, a tarball or a folder
   * (`file:../keiko-0.1.0.tgz`). Default: `defaultKeikoSpec()`.
   */
  keikoSpec?: string;
  /** Overwrite existing files. */
  force?: boolean;
}

/** What `scaffoldEnvironment` wrote. */
export interface ScaffoldResult {
  dir: string;
  files: string[];
}

/** keiko's own package.json: its version and the versions of the tools it is tested with. */
interface KeikoManifest {
  version: string;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * Writes a project that passes `npm install && npm test` on its own: `<name>/package.json` (keiko,
 * zod; typescript, vitest, tsx and @types/node at the versions keiko is tested with),
 * `tsconfig.json`, a README, the environment module `<name>.ts` (exporting `loadEnvironment`) and
 * its vitest test `<name>.test.ts` (using keiko's `ScriptedSampler`).
 */
export async function scaffoldEnvironment(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { name } = options;
  if (!ENV_NAME_PATTERN.test(name)) {
    throw new ConfigError(`invalid environment name '${name}'; use lower-case letters, digits and dashes, starting with a letter (e.g. reverse-words)`);
  }
  const dir = resolve(options.parentDir ?? '.', name);
  const from = options.importFrom ?? 'keiko';
  const keiko = readManifest();
  const files: [string, string][] = [
    [join(dir, 'package.json'), packageJson(name, options.keikoSpec ?? defaultKeikoSpec(keiko), keiko)],
    [join(dir, 'tsconfig.json'), TSCONFIG],
    [join(dir, 'README.md'), readmeTemplate(name)],
    [join(dir, '.gitignore'), 'node_modules/\nruns/\n'],
    [join(dir, `${name}.ts`), envTemplate(name, from)],
    [join(dir, `${name}.test.ts`), testTemplate(name, from)],
  ];
  const existing = files.filter(([path]) => existsSync(path)).map(([path]) => path);
  if (existing.length && !options.force) {
    throw new ConfigError(`refusing to overwrite ${existing.join(', ')}; pass --force or choose another name`);
  }
  await mkdir(dir, { recursive: true });
  for (const [path, text] of files) await writeFile(path, text);
  return { dir, files: files.map(([path]) => path) };
}

/**
 * The `keiko` dependency of a new project: this keiko's version (`^x.y.z`) when it runs from an
 * installed package; `file:<clone>` when it runs from a clone's sources (the clone must be built
 * with `npm run build`, since the package's entry points are its compiled `dist/`).
 */
export function defaultKeikoSpec(keiko: KeikoManifest = readManifest()): string {
  return import.meta.url.endsWith('.ts') ? `file:${PACKAGE_ROOT}` : `^${keiko.version}`;
}

function readManifest(): KeikoManifest {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as KeikoManifest;
}

function packageJson(name: string, keikoSpec: string, keiko: KeikoManifest): string {
  const tested = (pkg: string, fallback: string) => keiko.devDependencies?.[pkg] ?? keiko.peerDependencies?.[pkg] ?? fallback;
  const manifest = {
    name,
    version: '0.1.0',
    private: true,
    description: `A keiko environment: ${name}.`,
    // keiko loads environment modules with import(): they must be ES modules.
    type: 'module',
    scripts: {
      test: 'tsc --noEmit && vitest run',
      eval: `keiko eval -e ./${name}.ts --test-server echo -n 5`,
    },
    dependencies: { keiko: keikoSpec, zod: tested('zod', '^4.0.0') },
    devDependencies: {
      '@types/node': tested('@types/node', '^20.0.0'),
      tsx: tested('tsx', '^4.0.0'),
      typescript: tested('typescript', '~5.9.0'),
      vitest: tested('vitest', '^4.0.0'),
    },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
    include: ['*.ts'],
  },
  null,
  2,
)}\n`;

function readmeTemplate(name: string): string {
  return `# ${name}

A keiko environment: \`${name}.ts\` exports \`loadEnvironment(args)\`, which returns the environment
(dataset, prompt, rubric); \`${name}.test.ts\` checks its reward with keiko's scripted sampler.

\`\`\`sh
npm install
npm test                                                   # type-check, then the vitest tests
npx keiko eval -e ./${name}.ts --test-server echo -n 5     # a smoke eval, no model needed
npx keiko eval -e ./${name}.ts -b http://localhost:8000/v1 -m <model> -n 10 -r 4
npx keiko setup                                            # once: the engine's Python virtualenv
npx keiko train --env=./${name}.ts --model=<hf-model-dir> --steps=20
\`\`\`

keiko takes zod 4 as a peer dependency and loads environment modules as ES modules
(\`"type": "module"\` in package.json); TypeScript modules load through tsx, a dev dependency here.
`;
}

function envTemplate(name: string, from: string): string {
  return `import { XMLParser, rubric, singleTurnEnv, ConfigError, type ScoreInput } from '${from}';

/**
 * ${name}: a single-turn task. The model reverses a word and answers <answer>…</answer>; the reward
 * is 1 for the exact reversed word. Replace the dataset and the reward with your own task.
 *
 *   npx keiko eval -e ./${name}.ts -m <model> -b http://localhost:8000/v1 -n 10 -r 4
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
import { loadEnvironment } from './${name}.js';

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
