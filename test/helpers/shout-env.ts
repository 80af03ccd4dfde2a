// A tiny environment module for CLI tests: each word is a question whose answer is the word itself.
import { join } from 'node:path';
import { repoRoot } from './keiko-cli.js';

/** How the module hands keiko its loader. */
export type LoaderExport = 'named' | 'default' | 'method';

/** The source of a 'shout' environment module (words from `--env-args '{"words":[…]}'`, default a, b, c). */
export function shoutEnvModule(loader: LoaderExport = 'named'): string {
  const body = [
    '(args: Record<string, unknown>) {',
    '  const words = (args.words as string[] | undefined) ?? ["a", "b", "c"];',
    '  return singleTurnEnv({',
    "    name: 'shout',",
    '    dataset: words.map((w, i) => ({ id: i, question: w, answer: w })),',
    '    rubric: rubric({ funcs: [{ name: "echoed", fn: ({ completion, answer }) => lastAssistantText(completion) === answer }] }),',
    '  });',
    '}',
  ];
  const lines =
    loader === 'named'
      ? ['export function loadEnvironment', ...body]
      : loader === 'default'
        ? ['export default function loadEnvironment', ...body]
        : ['export default { loadEnvironment', ...body, '};'];
  return [`import { singleTurnEnv, rubric, lastAssistantText } from ${JSON.stringify(join(repoRoot, 'src/index.ts'))};`, ...lines].join('\n');
}
