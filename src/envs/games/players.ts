import { describeError } from '../../core/errors.js';
import type { ChatMessage } from '../../core/messages.js';
import type { Rng } from '../../core/rng.js';
import type { CallOptions, ChatRequest, ChatResponse, Sampler, SamplingArgs } from '../../core/sampler.js';
import type { Turn } from '../../core/trajectory.js';

/** What a player is asked for one move: the role's own observation (never the full state for model players). */
export interface MoveRequest {
  role: string;
  observation: string;
  legalMoves: readonly string[];
  /** The full state, for scripted players only (an optimal player needs it; a model never sees it). */
  state: unknown;
  /** This move's own rng (seeds the sampler, draws a scripted player's choice). */
  rng: Rng;
}

/** A player's reply: the text it wrote and, for a model, the sampled turn with its exact tokens. */
export interface MoveReply {
  text: string;
  turn?: Turn;
  /** The sampler failed (not the model's fault): the game is recorded as an error, not as an illegal move. */
  error?: { name: string; code: string; message: string };
}

/**
 * Whoever plays a role: the policy being trained, a frozen snapshot, a scripted player or any
 * OpenAI-compatible model. `actMany` answers several games' moves at once, so a model player can
 * send one batched request per round of play.
 */
export interface Player {
  /** `policy`, `snapshot:<id>`, `scripted:<name>`, `model:<name>`: recorded on every move. */
  readonly id: string;
  /** True when this player's turns are training sequences (the current policy). */
  readonly trains: boolean;
  actMany(requests: readonly MoveRequest[]): Promise<MoveReply[]>;
}

/** A player that computes its move from the full state (minimax, a known strategy, uniform random). */
export function scriptedPlayer<S>(options: { name: string; move: (state: S, rng: Rng, legal: readonly string[]) => string }): Player {
  return {
    id: `scripted:${options.name}`,
    trains: false,
    actMany: async (requests) => requests.map((r) => ({ text: options.move(r.state as S, r.rng, r.legalMoves) })),
  };
}

/** The uniform random legal player: the baseline of "no strategy at all". */
export function randomPlayer(): Player {
  return scriptedPlayer({ name: 'random', move: (_s, rng, legal) => rng.choice(legal) });
}

interface BatchSampler extends Sampler {
  chatMany(requests: readonly ChatRequest[], options?: CallOptions): Promise<(ChatResponse | Error)[]>;
}

/**
 * A player backed by a model through any `Sampler`: keiko's engine serving the current policy or a
 * frozen snapshot, or an OpenAI-compatible server. Each move is one chat request whose only
 * message is the role's observation; with `trains`, the reply keeps the exact sampled token ids
 * and logprobs as a `Turn` (the sampler must return tokens, e.g. keiko's engine). A sampler with
 * `chatMany` (keiko's engine) gets all of a round's moves in one call.
 */
export function modelPlayer(options: { id: string; sampler: Sampler; sampling: SamplingArgs; trains?: boolean; system?: string }): Player {
  const { sampler, sampling } = options;
  const trains = options.trains ?? false;
  const requestFor = (r: MoveRequest): ChatRequest => {
    const messages: ChatMessage[] = [...(options.system ? [{ role: 'system' as const, content: options.system }] : []), { role: 'user', content: r.observation }];
    return { messages, sampling: { ...sampling, seed: r.rng.nextU32() & 0x7fffffff, ...(trains ? { returnTokens: true } : {}) } };
  };
  const toReply = (request: ChatRequest, response: ChatResponse | Error): MoveReply => {
    if (response instanceof Error) return { text: '', error: describeError(response) };
    const choice = response.choices[0];
    if (!choice) return { text: '', error: { name: 'SamplerError', code: 'sampler_error', message: 'no choice in the response' } };
    const text = choice.message.content ?? '';
    if (!trains) return { text };
    const turn: Turn = {
      prompt: request.messages,
      completion: choice.message,
      ...(choice.tokens ? { tokens: choice.tokens } : {}),
      finishReason: choice.finishReason,
      ...(response.policyVersion !== undefined ? { policyVersion: response.policyVersion } : {}),
    };
    return { text, turn };
  };
  return {
    id: options.id,
    trains,
    actMany: async (requests) => {
      const bodies = requests.map(requestFor);
      if (typeof (sampler as Partial<BatchSampler>).chatMany === 'function') {
        try {
          const responses = await (sampler as BatchSampler).chatMany(bodies);
          return responses.map((res, i) => toReply(bodies[i]!, res));
        } catch (error) {
          return bodies.map((b) => toReply(b, error instanceof Error ? error : new Error(String(error))));
        }
      }
      return Promise.all(bodies.map((b) => sampler.chat(b).then((res) => toReply(b, res), (e: unknown) => toReply(b, e instanceof Error ? e : new Error(String(e))))));
    },
  };
}
