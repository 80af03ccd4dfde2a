import type { ChatMessage, Example, Rng, Sampler } from '../../core/index.js';
import { lastAssistantText, type Environment, type Rubric, type ScoreInput } from '../../core/index.js';
import { ConfigError } from '../../core/errors.js';
import type { DatasetRow } from '../../envs/dataset.js';
import { MultiTurnEnv, type EnvReply, type HookArgs } from '../../envs/multi-turn-env.js';
import { ToolEnv, type ToolState } from '../../envs/tool-env.js';
import { exactMatch, tokenF1 } from '../../rubrics/answer-match.js';
import { judgeRubric } from '../../rubrics/judge-rubric.js';
import { rubric } from '../../rubrics/rubric.js';
import { rubricGroup } from '../../rubrics/rubric-group.js';
import type { SearchWeb } from '../web/search-web.js';
import { DEFAULT_MAX_VIEWS } from '../web/browser.js';
import { formatZodError } from '../../core/parse.js';
import { applyObservationPolicy, ObservationPolicy, type ObservationPolicyInput } from './observation-policy.js';
import { browserFor, recordAnswer, startEpisode, syncEpisode, type SearchState } from './search-session.js';
import { searchTools } from './search-tools.js';
import { parseTagAction, parseTagAnswer } from './text-tags.js';

export const SEARCH_TOOLS_PROMPT =
  'Answer the question by searching the web. Use search to find pages, open to read them (result and link ids look like 【3†title】), ' +
  'find to locate text in an opened page. When you know the answer, call answer with a short answer (a name, number or phrase).';

export const SEARCH_TAGS_PROMPT =
  'Answer the question by searching the web. Write exactly one action per message and then stop:\n' +
  '<search>query</search> to search (add " | page 2" for more results),\n' +
  '<open>3</open> to open result or link 3 of the last view (or <open>URL</open>, or <open>line 41</open> to scroll),\n' +
  '<find>text</find> to find text in the open page,\n' +
  '<answer>short answer</answer> when you know it. Results come back inside <information>…</information>.';

const CITE_TAGS_HINT = '<answer>【3】</answer> answers with the title or text of result or link 3 of the last view.';

export interface SearchEnvOptions {
  web: SearchWeb;
  /** QA rows: `question`, `answer` (string or list of accepted answers), optional `id` and `supportingUrls`. */
  dataset: readonly DatasetRow[];
  evalDataset?: readonly DatasetRow[];
  /** 'tools' (OpenAI tool calls) or 'tags' (text tags, for models without tool calling). Default 'tools'. */
  protocol?: 'tools' | 'tags';
  /** Model turns per episode. Default 8. */
  maxTurns?: number;
  /**
   * Answers may cite what is on screen: `【3】` answers with the text of result or link 3 of the
   * latest view (a click instead of spelling a name). Default false.
   */
  citeAnswers?: boolean;
  /**
   * Most views (results pages and opened pages together) one episode may hold (default 100). Raise it
   * with `maxTurns` for long episodes, and set `observations` so they fit the context.
   */
  maxViews?: number;
  /**
   * How old observations are shown to the model (keep the last k whole; drop, truncate or summarise
   * the rest). Default: everything is shown whole.
   */
  observations?: ObservationPolicyInput;
  /** When given, an LLM judge decides correctness (reward) and exact match becomes a metric. */
  judge?: Sampler;
  systemPrompt?: string;
  name?: string;
}

/** The answer the episode ended with: the `answer` tool's argument, or the `<answer>` tag. */
export function episodeAnswer(input: Pick<ScoreInput, 'state' | 'completion'>): string | undefined {
  const s = (input.state as Partial<SearchState>).search;
  return s?.answer ?? parseTagAnswer(lastAssistantText(input.completion));
}

function golds(answer: unknown): string[] {
  if (Array.isArray(answer)) return answer.map(String);
  return answer === undefined || answer === null ? [] : [String(answer)];
}

/**
 * The search QA rubric: reward = normalised exact match (or the judge's verdict when a judge is
 * given); metrics: token F1, whether an answer was given, successful actions, failed actions, and
 * whether a supporting page (`info.supportingUrls`) was opened.
 */
export function searchRubric(options: { judge?: Sampler } = {}): Rubric {
  const episode = (i: ScoreInput) => (i.state as Partial<SearchState>).search;
  const main = rubric({
    funcs: [
      { name: 'exact_match', weight: options.judge ? 0 : 1, fn: (i) => exactMatch(episodeAnswer(i), golds(i.answer)) },
      { name: 'f1', weight: 0, fn: (i) => tokenF1(episodeAnswer(i), golds(i.answer)) },
      { name: 'answered', weight: 0, fn: (i) => episodeAnswer(i) !== undefined },
      { name: 'searches', weight: 0, fn: (i) => episode(i)?.queries.length ?? 0 },
      { name: 'pages_opened', weight: 0, fn: (i) => episode(i)?.visitedUrls.length ?? 0 },
      { name: 'action_errors', weight: 0, fn: (i) => episode(i)?.errors ?? 0 },
      {
        name: 'opened_support',
        weight: 0,
        fn: (i) => {
          const support = (i.info['supportingUrls'] as string[] | undefined) ?? [];
          const seen = new Set(episode(i)?.visitedUrls ?? []);
          return support.length > 0 && support.some((u) => seen.has(u));
        },
      },
    ],
  });
  if (!options.judge) return main;
  const judge = judgeRubric({ sampler: options.judge, extractResponse: (i) => episodeAnswer(i) ?? '' });
  return rubricGroup({ rubrics: [main, judge] });
}

type ToolSearchState = ToolState & SearchState;

interface EpisodeSettings {
  maxViews: number;
  observations?: ObservationPolicy;
}

/** Search QA with OpenAI tool calls: the episode ends when the model calls `answer`. */
class SearchToolEnv extends ToolEnv<ToolSearchState> {
  constructor(
    private readonly web: SearchWeb,
    private readonly episode: EpisodeSettings,
    options: ConstructorParameters<typeof ToolEnv<ToolSearchState>>[0],
  ) {
    super(options);
  }

  protected override async setupState(args: { example: Example; state: ToolSearchState; rng: Rng }): Promise<ToolSearchState> {
    const state = await super.setupState(args);
    return startEpisode(state, this.web, { maxViews: this.episode.maxViews });
  }

  protected override contextMessages(messages: readonly ChatMessage[], state: ToolSearchState): ChatMessage[] {
    return this.episode.observations ? applyObservationPolicy(messages, this.episode.observations) : super.contextMessages(messages, state);
  }

  protected override async isCompleted(args: HookArgs<ToolSearchState>): Promise<boolean> {
    if (args.state.search.answer !== undefined) return true;
    return super.isCompleted(args);
  }
}

/** Search QA with text tags: one action per message, results as `<information>` user messages. */
class SearchTagEnv extends MultiTurnEnv<SearchState> {
  constructor(
    private readonly web: SearchWeb,
    private readonly cite: boolean,
    private readonly episode: EpisodeSettings,
    options: ConstructorParameters<typeof MultiTurnEnv<SearchState>>[0],
  ) {
    super(options);
  }

  protected override async setupState(args: { example: Example; state: SearchState; rng: Rng }): Promise<SearchState> {
    return startEpisode(await super.setupState(args), this.web, { maxViews: this.episode.maxViews });
  }

  protected override contextMessages(messages: readonly ChatMessage[], state: SearchState): ChatMessage[] {
    return this.episode.observations ? applyObservationPolicy(messages, this.episode.observations) : super.contextMessages(messages, state);
  }

  protected override async isCompleted({ messages, state }: HookArgs<SearchState>): Promise<boolean> {
    const last = messages[messages.length - 1];
    if (!last || last.role !== 'assistant') return false;
    const answer = parseTagAnswer(last.content ?? '');
    if (answer === undefined) return false;
    recordAnswer(state, answer, this.cite);
    return true;
  }

  protected override async envResponse({ messages, state }: HookArgs<SearchState>): Promise<EnvReply> {
    const text = (messages[messages.length - 1] as ChatMessage).content ?? '';
    const action = parseTagAction(text);
    const info = (s: string) => `<information>${s}</information>`;
    if (!action || action.kind === 'invalid') {
      state.search.errors++;
      return info(`Error: ${action?.kind === 'invalid' ? action.error : 'no action found'}. Write one of <search>…</search>, <open>…</open>, <find>…</find> or <answer>…</answer>.`);
    }
    const browser = browserFor(state);
    try {
      if (action.kind === 'search') return info((await browser.search({ query: action.query, page: action.page })).text);
      if (action.kind === 'open') return info((await browser.open(action)).text);
      if (action.kind === 'find') return info((await browser.find({ pattern: action.pattern })).text);
      return info('Answer recorded.');
    } catch (error) {
      state.search.errors++;
      return info(`Error: ${(error as Error).message}`);
    } finally {
      syncEpisode(state);
    }
  }
}

/**
 * A search-agent environment over the emulated web: QA rows, a per-rollout browsing session, and
 * the search rubric. With `protocol: 'tools'` the model gets `search`/`open`/`find`/`answer` tools;
 * with `'tags'` it writes `<search>`/`<open>`/`<find>`/`<answer>` tags instead.
 */
export function searchEnv(options: SearchEnvOptions): Environment {
  if (!options.web) throw new ConfigError('searchEnv needs `web` (a SearchWeb over an index)');
  const protocol = options.protocol ?? 'tools';
  const cite = options.citeAnswers ?? false;
  const maxViews = options.maxViews ?? DEFAULT_MAX_VIEWS;
  if (!Number.isInteger(maxViews) || maxViews < 1) throw new ConfigError(`searchEnv: maxViews must be an integer ≥ 1 (got ${maxViews})`);
  let observations: ObservationPolicy | undefined;
  if (options.observations) {
    const r = ObservationPolicy.safeParse(options.observations);
    if (!r.success) throw new ConfigError(`searchEnv: invalid observations policy: ${formatZodError(r.error)}`);
    observations = r.data;
  }
  const episode: EpisodeSettings = { maxViews, ...(observations ? { observations } : {}) };
  const common = {
    name: options.name ?? `search-qa-${protocol}`,
    dataset: options.dataset,
    ...(options.evalDataset ? { evalDataset: options.evalDataset } : {}),
    maxTurns: options.maxTurns ?? 8,
    rubric: searchRubric({ judge: options.judge }),
  };
  if (protocol === 'tools') {
    return new SearchToolEnv(options.web, episode, { ...common, systemPrompt: options.systemPrompt ?? SEARCH_TOOLS_PROMPT, tools: searchTools({ cite }) as never });
  }
  if (protocol === 'tags') {
    const systemPrompt = options.systemPrompt ?? (cite ? `${SEARCH_TAGS_PROMPT}\n${CITE_TAGS_HINT}` : SEARCH_TAGS_PROMPT);
    return new SearchTagEnv(options.web, cite, episode, { ...common, systemPrompt, parser: { parseAnswer: (c: ChatMessage[]) => parseTagAnswer(lastAssistantText(c)) } });
  }
  throw new ConfigError(`unknown search protocol '${String(protocol)}'; available: tools, tags`);
}
