import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A held-out reward as a model card states it. */
export interface CardEval {
  /** `before`, `step-N`, `after`. */
  label: string;
  step: number;
  reward: number;
  examples: number;
  samplesPerExample: number;
  temperature: number;
}

/** What a checkpoint's README.md says about it. */
export interface ModelCardInfo {
  /** `grpo` or `sft`. */
  kind: 'grpo' | 'sft';
  /** Optimizer steps this checkpoint has had, of `steps` planned. */
  step: number;
  steps: number;
  /** The model training started from (a folder name or path). */
  baseModel: string;
  /** The environment (name and arguments) or the data it was trained on. */
  environment: string;
  /** Key settings, in the order they should be listed. */
  settings: Record<string, unknown>;
  /** Held-out reward of the starting model, and the latest one measured at or before this step. */
  before?: CardEval;
  latest?: CardEval;
  /** The checkpoint holds a LoRA adapter rather than full weights. */
  lora?: boolean;
}

/** The checkpoint's README.md: what it is, how it was trained, how well it does, how to load it. */
export function renderModelCard(info: ModelCardInfo): string {
  const what = info.kind === 'grpo' ? 'GRPO' : 'supervised fine-tuning (SFT)';
  const lines = [
    '---',
    'library_name: transformers',
    'tags: [keiko, reinforcement-learning, grpo]',
    '---',
    '',
    `# keiko checkpoint: ${what}, step ${info.step} of ${info.steps}`,
    '',
    `Trained with [keiko](https://www.npmjs.com/package/keiko) by ${what} from **${info.baseModel}** on **${info.environment}**.`,
    '',
    '## Held-out reward',
    '',
  ];
  const evalLine = (e: CardEval) => `${fmt(e.reward)} (step ${e.step}, ${e.examples} examples × ${e.samplesPerExample} sample${e.samplesPerExample === 1 ? '' : 's'}, ${e.temperature === 0 ? 'greedy' : `T=${e.temperature}`})`;
  if (!info.before && !info.latest) {
    lines.push(info.kind === 'sft' ? 'Not measured here: an SFT warm start is evaluated as the "before" eval of the GRPO run that follows it.' : 'No held-out eval ran (the environment has no held-out split, or evals were off).');
  } else {
    lines.push('| | held-out reward |', '| --- | --- |');
    if (info.before) lines.push(`| before training | ${evalLine(info.before)} |`);
    if (info.latest && info.latest.label !== 'before') lines.push(`| ${info.latest.label === 'after' ? 'after training' : `latest eval (${info.latest.label})`} | ${evalLine(info.latest)} |`);
    if (info.latest && info.latest.step < info.step) lines.push('', `The latest eval ran at step ${info.latest.step}, before this checkpoint.`);
  }
  lines.push('', '## Settings', '', '| setting | value |', '| --- | --- |');
  for (const [key, value] of Object.entries(info.settings)) {
    if (value === undefined) continue;
    lines.push(`| \`${key}\` | \`${typeof value === 'string' ? value : JSON.stringify(value)}\` |`);
  }
  lines.push(
    '',
    '`keiko-trainer-state.json` holds the full training config, the step and the data-order position (`keiko train --resume` continues from it).',
    '',
    '## Load it',
    '',
  );
  if (info.lora) {
    lines.push(
      'This checkpoint is a LoRA adapter (peft) over the base model:',
      '',
      '```python',
      'from peft import AutoPeftModelForCausalLM',
      'from transformers import AutoTokenizer',
      '',
      'model = AutoPeftModelForCausalLM.from_pretrained("path/to/this/folder")',
      'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")',
      '```',
      '',
      'vLLM serves it as an adapter: `vllm serve <base model> --enable-lora --lora-modules keiko=path/to/this/folder`.',
    );
  } else {
    lines.push(
      'A Hugging Face folder (`config.json`, `model.safetensors`, tokenizer with its chat template):',
      '',
      '```python',
      'from transformers import AutoModelForCausalLM, AutoTokenizer',
      '',
      'model = AutoModelForCausalLM.from_pretrained("path/to/this/folder")',
      'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")',
      'messages = [{"role": "user", "content": "…"}]',
      'ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")',
      'print(tokenizer.decode(model.generate(ids, max_new_tokens=32)[0][ids.shape[1]:]))',
      '```',
      '',
      '```sh',
      'vllm serve path/to/this/folder                      # an OpenAI-compatible server',
      'keiko eval -e <env> --engine path/to/this/folder    # or keiko\'s own engine',
      '```',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `README.md` into a checkpoint folder. */
export async function writeModelCard(dir: string, info: ModelCardInfo): Promise<void> {
  await writeFile(join(dir, 'README.md'), renderModelCard(info));
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '-';
}
