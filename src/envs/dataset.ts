import { z } from 'zod';
import { ChatMessage, ConfigError, Example, formatZodError } from '../core/index.js';

/** A dataset row before it becomes an `Example`: any JSON-like object. */
export type DatasetRow = Readonly<Record<string, unknown>>;

/** Which row columns hold what. Unset entries use the default column name shown. */
export interface ColumnMap {
  /** Prompt text, sent as one user message. Default 'question'. */
  question?: string;
  /** Prompt as chat messages (or a string), used instead of `question` when present. Default 'prompt'. */
  prompt?: string;
  /** Reference answer for the rubric. Default 'answer'. */
  answer?: string;
  /** Stable id (default: the row index). Default 'id'. */
  id?: string;
  /** Task name, for `EnvGroup` routing. Default 'task'. */
  task?: string;
  /** Columns copied into `info`. Default: every column not mapped above (plus an `info` object column). */
  info?: readonly string[];
}

/** A few-shot pair, rendered as a user turn and an assistant turn. */
export interface FewShotExample {
  question: string;
  answer: string;
}

export interface BuildDatasetOptions {
  rows: readonly DatasetRow[];
  columns?: ColumnMap;
  /** Prepended as a system message (unless the row's prompt already starts with one). */
  systemPrompt?: string;
  /** Inserted after the system prompt, before the question. */
  fewShot?: readonly FewShotExample[] | readonly ChatMessage[];
  /** Used in error messages ("dataset 'train' has no column…"). */
  label?: string;
}

const PromptColumn = z.union([z.string(), z.array(ChatMessage)]);

/**
 * Turns rows into `Example`s: maps columns, builds prompt messages (system prompt, few-shot turns,
 * question) and validates everything. Column mistakes fail here with the available column names.
 */
export function buildDataset(options: BuildDatasetOptions): Example[] {
  const { rows, columns = {}, systemPrompt, fewShot, label = 'dataset' } = options;
  if (!Array.isArray(rows)) throw new ConfigError(`${label} must be an array of rows`);
  if (rows.length === 0) return [];
  const available = new Set<string>();
  for (const row of rows.slice(0, 100)) {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new ConfigError(`${label} rows must be objects; got ${row === null ? 'null' : typeof row}`);
    }
    for (const k of Object.keys(row)) available.add(k);
  }
  const list = [...available].join(', ');
  const col = {
    question: columns.question ?? 'question',
    prompt: columns.prompt ?? 'prompt',
    answer: columns.answer ?? 'answer',
    id: columns.id ?? 'id',
    task: columns.task ?? 'task',
  };
  for (const key of ['question', 'prompt', 'answer', 'id', 'task'] as const) {
    const name = columns[key];
    if (name !== undefined && !available.has(name)) {
      throw new ConfigError(
        `${label} has no column '${name}' (columns.${key}); columns: ${list}. Set columns.${key} to one of them`,
      );
    }
  }
  for (const name of columns.info ?? []) {
    if (!available.has(name)) {
      throw new ConfigError(`${label} has no column '${name}' (columns.info); columns: ${list}`);
    }
  }
  const usePrompt = available.has(col.prompt) && columns.question === undefined;
  if (!usePrompt && !available.has(col.question)) {
    throw new ConfigError(
      `${label} has neither a '${col.prompt}' nor a '${col.question}' column; columns: ${list}. Set columns.question (or columns.prompt) to the column holding the prompt`,
    );
  }
  const mapped = new Set([col.question, col.prompt, col.answer, col.id, col.task]);
  const prefix = preamble(systemPrompt, fewShot);

  return rows.map((row, index) => {
    let prompt: ChatMessage[];
    if (usePrompt) {
      const parsed = PromptColumn.safeParse(row[col.prompt]);
      if (!parsed.success) {
        throw new ConfigError(`${label} row ${index}: column '${col.prompt}' is not a string or chat messages: ${formatZodError(parsed.error)}`);
      }
      prompt = typeof parsed.data === 'string' ? [{ role: 'user', content: parsed.data }] : parsed.data;
    } else {
      const q = row[col.question];
      if (typeof q !== 'string') {
        throw new ConfigError(`${label} row ${index}: column '${col.question}' must be a string, got ${describe(q)}`);
      }
      prompt = [{ role: 'user', content: q }];
    }
    const hasSystem = prompt[0]?.role === 'system';
    prompt = hasSystem ? [prompt[0]!, ...prefix.filter((m) => m.role !== 'system'), ...prompt.slice(1)] : [...prefix, ...prompt];

    const info: Record<string, unknown> = {};
    const infoCols = columns.info ?? [...Object.keys(row)].filter((k) => !mapped.has(k));
    for (const k of infoCols) {
      const v = row[k];
      if (k === 'info' && columns.info === undefined && v && typeof v === 'object' && !Array.isArray(v)) Object.assign(info, v);
      else if (v !== undefined) info[k] = v;
    }
    const rawId = row[col.id];
    const task = row[col.task];
    const candidate = {
      id: typeof rawId === 'string' || typeof rawId === 'number' ? rawId : index,
      prompt,
      answer: row[col.answer],
      ...(typeof task === 'string' ? { task } : {}),
      info,
    };
    const parsed = Example.safeParse(candidate);
    if (!parsed.success) throw new ConfigError(`${label} row ${index} is not a valid example: ${formatZodError(parsed.error)}`);
    return parsed.data;
  });
}

function preamble(systemPrompt: string | undefined, fewShot: BuildDatasetOptions['fewShot']): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (systemPrompt !== undefined) out.push({ role: 'system', content: systemPrompt });
  for (const shot of fewShot ?? []) {
    if ('role' in shot) out.push(shot);
    else {
      out.push({ role: 'user', content: shot.question });
      out.push({ role: 'assistant', content: shot.answer });
    }
  }
  return out;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  return Array.isArray(v) ? 'an array' : typeof v;
}
