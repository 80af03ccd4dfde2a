// examples/readme/word-length.ts
import { z } from 'zod';
import { XMLParser, defineTool, rubric, toolEnv, type ChatMessage, type Example, type ScoreInput } from 'keiko';

const parser = new XMLParser({ fields: ['answer'] });

// A tool: its zod arguments become the OpenAI tool schema the model sees; a bad call (unknown
// tool, bad JSON, wrong types, a throw) comes back to the model as a tool message, never a crash.
export const countLetters = defineTool({
  name: 'count_letters',
  description: 'Count the letters of a word.',
  parameters: z.object({ word: z.string().min(1).describe('one word') }),
  execute: ({ word }) => String([...word].length),
});

const correct = ({ completion, answer }: ScoreInput) => parser.parseAnswer(completion) === String(answer);
const turns = ({ completion }: ScoreInput) => completion.filter((m) => m.role === 'assistant').length;

// A group-level reward sees every rollout of one prompt at once and returns one score each:
// here 1 for the right answers reached in the fewest turns of their group.
function fewestTurns(group: ScoreInput[]): number[] {
  const best = Math.min(...group.filter(correct).map(turns));
  return group.map((r) => (correct(r) && turns(r) === best ? 1 : 0));
}

export function loadEnvironment() {
  const words = ['practice', 'reward', 'agent', 'gradient', 'rollout', 'policy'];
  return toolEnv({
    name: 'word-length',
    dataset: words.map((word, id) => ({ id, question: `How many letters are in "${word}"?`, answer: word.length, info: { word } })),
    systemPrompt: 'Call count_letters, then reply <answer>N</answer>.',
    tools: [countLetters],
    maxTurns: 3,
    parser,
    rubric: rubric({ funcs: [{ name: 'correct', fn: correct }, { name: 'fewest_turns', groupFn: fewestTurns, weight: 0.2 }] }),
    // A scripted teacher: `keiko sft --env` and `keiko train`'s warm start imitate its conversations.
    demonstrate: (example: Example): ChatMessage[] => [
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'count_letters', arguments: JSON.stringify({ word: example.info['word'] }) } }] },
      { role: 'tool', tool_call_id: 'call_0', name: 'count_letters', content: String(example.answer) },
      { role: 'assistant', content: parser.format({ answer: String(example.answer) }) },
    ],
  });
}
