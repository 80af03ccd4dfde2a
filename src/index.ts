// The public surface of keiko: what users import from 'keiko'. Named one by one: what is not listed
// here is internal and may change. The search emulator is 'keiko/search', the interception proxy for
// existing agents 'keiko/proxy', and test doubles 'keiko/testing'.

// ── core: messages, trajectories, results, errors, randomness ────────────────────────────────────
export { ChatMessage, AssistantMessage, SystemMessage, UserMessage, ToolMessage, ToolCall, ToolSchema, Messages, lastAssistantText, messageText } from './core/messages.js';
export { Turn, TurnTokens, Trajectory, StopReason } from './core/trajectory.js';
export { RolloutResult, ErrorRecord, TokenUsage } from './core/rollout-result.js';
export { RunManifest, RunKind, RunStatus, StepMetrics } from './core/run-manifest.js';
export { KeikoError, ConfigError, EnvError, EngineError, SamplerError } from './core/errors.js';
export { Rng } from './core/rng.js';
export { passAtK } from './core/pass-at-k.js';
export { Example } from './core/environment.js';
export type {
  Environment,
  LoadEnvironment,
  Rubric,
  RolloutBudget,
  RolloutContext,
  RolloutOutput,
  ScoreInput,
  Scores,
} from './core/environment.js';
export type {
  Sampler,
  SamplingArgs,
  CallOptions,
  ChatRequest,
  ChatResponse,
  ChatChoice,
  CompletionRequest,
  CompletionResponse,
  CompletionChoice,
  FinishReason,
} from './core/sampler.js';

// ── environments ─────────────────────────────────────────────────────────────────────────────────
export { singleTurnEnv, SingleTurnEnv } from './envs/single-turn-env.js';
export type { SingleTurnEnvOptions } from './envs/single-turn-env.js';
export { multiTurnEnv, MultiTurnEnv } from './envs/multi-turn-env.js';
export type { MultiTurnEnvOptions, EnvOptions, EnvReply, EnvState, HookArgs } from './envs/multi-turn-env.js';
export { toolEnv, ToolEnv, successfulToolCalls, parseTextToolCalls } from './envs/tool-env.js';
export type { ToolEnvOptions, ToolCallRecord, ToolState } from './envs/tool-env.js';
export { defineTool } from './envs/tool.js';
export type { Tool, ToolOptions, ToolContext, ToolCallOutcome } from './envs/tool.js';
export { envGroup, EnvGroup } from './envs/env-group.js';
export type { EnvGroupOptions } from './envs/env-group.js';
export { buildDataset } from './envs/dataset.js';
export type { BuildDatasetOptions, ColumnMap, DatasetRow, FewShotExample } from './envs/dataset.js';
export { splitDataset } from './envs/dataset-split.js';
export type { SplitDatasetOptions } from './envs/dataset-split.js';
export { loadDatasetFile, loadJson, loadJsonl, loadParquet } from './envs/dataset-files.js';

// ── rubrics ──────────────────────────────────────────────────────────────────────────────────────
export * from './rubrics/index.js'; // every name there is meant for users: rubrics, parsers, judges, reward helpers

// ── samplers and keiko's engine ──────────────────────────────────────────────────────────────────
export { OpenAISampler } from './samplers/openai-sampler.js';
export type { OpenAISamplerOptions } from './samplers/openai-sampler.js';
export { LoadBalancer } from './samplers/load-balancer.js';
export type { LoadBalancing } from './samplers/load-balancer.js';
export type { RetryPolicy } from './samplers/retry.js';
export { EngineClient } from './engine/client.js';
export type { TrainingBackend, EngineConnectOptions, CreateModelOptions, EngineSamplerOptions } from './engine/client.js';
export type { EngineSpawnOptions } from './engine/process.js';
export { EngineSampler } from './engine/sampler.js';
export type { BatchChatSampler } from './engine/sampler.js';
export type * from './engine/wire.js'; // the wire contract's types (EngineInfo, LossSpec, TrainSequence, ForwardBackwardRequest…)

// ── rollouts and evaluation ──────────────────────────────────────────────────────────────────────
export { runRollouts } from './rollout/run-rollouts.js';
export type { RunRolloutsOptions, RolloutConcurrency, RolloutProgress } from './rollout/run-rollouts.js';
export { summarizeRollouts } from './rollout/summary.js';
export type { RolloutSummary } from './rollout/summary.js';
export { readResultsFile } from './rollout/results-file.js';
export type { ResultsFileContents } from './rollout/results-file.js';

// ── training ─────────────────────────────────────────────────────────────────────────────────────
export { TrainConfig, parseTrainConfig, loadTrainConfig } from './train/config.js';
export type { TrainConfigInput } from './train/config.js';
export { runTrainJob } from './train/train-job.js';
export type { JobEvent, TrainJobResult } from './train/train-job.js';
// ── self-play: multi-agent games, a league with ratings ──────────────────────────────────────────
export type { Game, GameMove } from './core/game.js';
export { builtInGame, BUILT_IN_GAMES, ticTacToe, kuhnPoker, nim, playMatches, modelPlayer, scriptedPlayer, randomPlayer, kuhnExploitability } from './envs/games/index.js';
export type { BuiltInGame, GameRecord, Match, Player, MoveRequest, MoveReply, KuhnStrategy } from './envs/games/index.js';
export { trainSelfPlay, runSelfPlayJob, loadSelfPlayConfig, SelfPlayConfig, League, roleAdvantages, headToHead } from './train/index.js';
export type { SelfPlayEvent, SelfPlayJobResult, OpponentServer } from './train/index.js';
export { trainGrpo } from './train/trainer.js';
export type { PolicyEngine, TrainEvent, GrpoResult } from './train/trainer.js';
export { trainSft, readSftJsonl, demonstrationSource, SftRecord } from './train/sft.js';
export type { SftSource, SftOptions, SftResult } from './train/sft.js';
export { evaluatePolicy } from './train/evaluate.js';
export type { EvalReport } from './train/evaluate.js';
export { computeAdvantages } from './train/advantages.js';
export type { AdvantageScale } from './train/advantages.js';
export { buildTrainingBatch } from './train/batch.js';
export type { TrainingBatch, BatchStats } from './train/batch.js';
export { packTrajectory } from './train/packing.js';
export type { PackedSequence, PackResult } from './train/packing.js';
export { learningRate } from './train/schedule.js';
export type { Schedule } from './train/schedule.js';

// ── code execution: the sandbox, coding environments, guard alarms ──────────────────────────────
export { Sandbox, Workspace, SandboxUnavailableError, DEFAULT_LIMITS } from './sandbox/sandbox.js';
export type { SandboxLimits, SandboxOptions, SandboxRunOptions, SandboxResult, SandboxOutcome, Language } from './sandbox/sandbox.js';
export { codeEnv, CodeEnv, extractCode, CodeTask, gradingProgram, loadHumanEval, builtinCodeTasks } from './code/index.js';
export type { CodeEnvOptions, CodeTaskInput, GradeRecord, RunRecord } from './code/index.js';
export { MetricAlarms } from './train/metric-alarm.js';
export type { AlarmRule, Alarm } from './train/metric-alarm.js';

// ── run folders ──────────────────────────────────────────────────────────────────────────────────
export { RunStore, RunDetail } from './runs/run-store.js';
export { RunSummary } from './runs/run-summary.js';
export { summarizeEval, EvalSummary, EvalExampleRow } from './runs/eval-summary.js';
