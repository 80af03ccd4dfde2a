import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { SettingsSpec } from '../../core/config/index.js';
import { ConfigError, Rng, type Sampler } from '../../core/index.js';
import { EngineClient } from '../../engine/index.js';
import { builtInGame, BUILT_IN_GAMES, modelPlayer, randomPlayer, type Player } from '../../envs/index.js';
import { OpenAISampler } from '../../samplers/index.js';
import { estimateKuhn, headToHead, League, type KuhnEstimate } from '../../train/index.js';
import { settingsCommand } from '../settings-command.js';

const DESCRIPTION = 'Play one policy against another (or a scripted player) on a built-in game: results per seat, Elo ratings, and the games move by move.';

/** Every setting of `keiko play`. */
export const PlaySettings = z
  .object({
    game: z.enum(BUILT_IN_GAMES).default('tic-tac-toe').describe('Built-in game.'),
    a: z.string().optional().describe("Player A: 'model:<HF dir>' (served by a keiko engine), 'url:<OpenAI-compatible base URL>', or 'scripted:optimal' / 'scripted:random' (required)."),
    b: z.string().default('scripted:optimal').describe('Player B, same forms as A.'),
    aModel: z.string().default('keiko').describe("Model name sent to A's server (url: players)."),
    bModel: z.string().default('keiko').describe("Model name sent to B's server (url: players)."),
    gamesPerSide: z.number().int().positive().default(100).describe('Games with A in each seat.'),
    temperature: z.number().min(0).default(0).describe('Sampling temperature of model players (0 = greedy).'),
    maxTokens: z.number().int().positive().default(4).describe('Max new tokens per move.'),
    illegalPenalty: z.number().max(0).default(-1).describe('Reward of a player whose reply names no legal move.'),
    eloK: z.number().positive().default(16).describe('Elo K factor.'),
    seed: z.number().int().nonnegative().default(0).describe('Seed of the deals, scripted choices and sampling.'),
    threads: z.number().int().positive().default(1).describe('Torch threads of spawned engines.'),
    out: z.string().optional().describe('Folder for results.json and games.jsonl (unset: print only).'),
  })
  .strict();

export const PLAY_SETTINGS: SettingsSpec<typeof PlaySettings> = { command: 'keiko play', schema: PlaySettings };

interface Seat {
  player: Player;
  sampler?: Sampler;
  stop?: () => Promise<void>;
}

/** A player from its spec; model players get their engine spawned (stopped by `stop`). */
async function makePlayer(spec: string, name: string, modelName: string, settings: z.infer<typeof PlaySettings>, optimal: Player): Promise<Seat> {
  const sampling = { temperature: settings.temperature, maxTokens: settings.maxTokens };
  const [kind, ...rest] = spec.split(':');
  const value = rest.join(':');
  if (kind === 'scripted') {
    if (value === 'optimal') return { player: optimal };
    if (value === 'random') return { player: randomPlayer() };
    throw new ConfigError(`unknown scripted player '${value}' for ${name}; available: optimal, random`);
  }
  if (kind === 'model') {
    const dir = resolve(value);
    if (!existsSync(join(dir, 'config.json'))) throw new ConfigError(`${name}: '${value}' is not a Hugging Face model directory (no config.json)`);
    const t = String(settings.threads);
    const engine = await EngineClient.spawn({ model: dir, threads: settings.threads, device: 'auto', seed: settings.seed, reference: 'none', restart: false, startupTimeoutMs: 180_000, env: { OMP_NUM_THREADS: t, MKL_NUM_THREADS: t, TOKENIZERS_PARALLELISM: 'false' } });
    const sampler = engine.sampler({ seed: settings.seed });
    return { player: modelPlayer({ id: `model:${value}`, sampler, sampling }), sampler, stop: () => engine.stop() };
  }
  if (kind === 'url') {
    const sampler = new OpenAISampler({ model: modelName, baseUrl: value, seed: settings.seed });
    return { player: modelPlayer({ id: `model:${modelName}@${value}`, sampler, sampling }), sampler };
  }
  throw new ConfigError(`${name} must be 'model:<dir>', 'url:<base URL>' or 'scripted:optimal|random', not '${spec}'`);
}

/** Registers `keiko play`. */
export function register(program: Command): void {
  settingsCommand(program, 'play', PLAY_SETTINGS, DESCRIPTION, async (settings) => {
    if (!settings.a) throw new ConfigError("missing --a: the player to evaluate ('model:<dir>', 'url:<base URL>' or 'scripted:optimal|random')");
    const { game, optimal } = builtInGame(settings.game);
    const seats: Seat[] = [];
    try {
      seats.push(await makePlayer(settings.a, 'a', settings.aModel, settings, optimal));
      seats.push(await makePlayer(settings.b, 'b', settings.bModel, settings, optimal));
      const [a, b] = seats as [Seat, Seat];
      if (a.player.id === b.player.id) throw new ConfigError(`a and b are the same player (${a.player.id}); give two different ones`);
      const h2h = await headToHead({ game, player: a.player, opponent: b.player, gamesPerSide: settings.gamesPerSide, rng: new Rng(settings.seed), illegalPenalty: settings.illegalPenalty });
      // Ratings: B is the reference at 1000; every game moves A's rating by Elo's rule.
      const league = new League({ k: settings.eloK });
      league.addScripted({ id: b.player.id, rating: 1000 });
      for (const r of h2h.records) {
        if (r.status === 'error') continue;
        const seat = game.roles.find((role) => r.players[role] === a.player.id)!;
        const mine = r.rewards[seat]!;
        const theirs = Math.max(...game.roles.filter((role) => role !== seat).map((role) => r.rewards[role]!));
        league.recordGame(b.player.id, mine > theirs ? 1 : mine < theirs ? 0 : 0.5);
      }
      const kuhn: Record<string, KuhnEstimate> = {};
      if (settings.game === 'kuhn-poker') {
        for (const s of seats) if (s.sampler) kuhn[s.player.id] = await estimateKuhn({ sampler: s.sampler, samples: 64, temperature: 1, maxTokens: settings.maxTokens, rng: new Rng(settings.seed + 1) });
      }
      const results = { schemaVersion: 1, game: settings.game, a: a.player.id, b: b.player.id, bySeat: h2h.bySeat, ratings: { [a.player.id]: league.state.current.rating, [b.player.id]: 1000 }, ...(Object.keys(kuhn).length ? { kuhnExploitability: Object.fromEntries(Object.entries(kuhn).map(([id, k]) => [id, k.exploitability])) } : {}), settings };
      process.stdout.write(`${settings.game}: ${a.player.id} vs ${b.player.id}, ${settings.gamesPerSide} games per seat\n`);
      process.stdout.write(`${'A in seat'.padEnd(10)} ${'wins'.padStart(5)} ${'draws'.padStart(6)} ${'losses'.padStart(7)} ${'illegal'.padStart(8)} ${'mean reward'.padStart(12)}\n`);
      for (const [seat, s] of Object.entries(h2h.bySeat)) process.stdout.write(`${seat.padEnd(10)} ${String(s.wins).padStart(5)} ${String(s.draws).padStart(6)} ${String(s.losses).padStart(7)} ${String(s.illegal).padStart(8)} ${s.meanReward.toFixed(3).padStart(12)}\n`);
      process.stdout.write(`Elo: ${a.player.id} ${league.state.current.rating.toFixed(0)} · ${b.player.id} 1000 (reference)\n`);
      for (const [id, k] of Object.entries(kuhn)) process.stdout.write(`exploitability of ${id}: ${k.exploitability.toFixed(4)} (random play: 0.4583)\n`);
      if (settings.out) {
        const dir = resolve(settings.out);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
        writeFileSync(join(dir, 'games.jsonl'), h2h.records.map((r) => JSON.stringify(r)).join('\n') + '\n');
        process.stdout.write(`results: ${join(dir, 'results.json')} · games move by move: ${join(dir, 'games.jsonl')}\n`);
      }
    } finally {
      await Promise.all(seats.map((s) => s.stop?.()));
    }
  });
}
