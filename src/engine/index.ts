// keiko's Python engine, from TypeScript: the wire contract, the HTTP client, process supervision,
// the sampler and the chat tokenizer over the engine's own weights.
export { EngineClient } from './client.js';
export type { TrainingBackend, EngineConnectOptions, CreateModelOptions, EngineSamplerOptions } from './client.js';
export { defaultEnginePython, serveArgs } from './process.js';
export { chooseEnginePython, engineProcessEnv, userEngineVenv, venvPython, ENGINE_DIR, ENGINE_CONSTRAINTS, CHECKOUT_VENV, PACKAGE_ROOT } from './engine-home.js';
export { setupEngineVenv, probeEnginePython, pythonVersion, engineRequirements, constraintsDigest, EnginePythonReport, MIN_PYTHON, SETUP_MARKER } from './engine-setup.js';
export type { SetupEngineOptions } from './engine-setup.js';
export type { EnginePythonChoice } from './engine-home.js';
export { spawnChild, stopChild, signalChild, onLines, LIFELINE_ENV, PARENT_PID_ENV } from './child-process.js';
export type { ChildOptions } from './child-process.js';
export type { EngineSpawnOptions } from './process.js';
export { EngineSampler, isBatchChatSampler } from './sampler.js';
export type { BatchChatSampler } from './sampler.js';
export { EngineChatTokenizer } from './chat-tokenizer.js';
export { VllmFleet, VllmFleetSampler } from './vllm/fleet.js';
export type { FleetEvent, MemberState, SyncReport, VllmFleetOptions } from './vllm/fleet.js';
export { VllmServer, defaultVllmPython, defaultVllmVenv, vllmServeArgs } from './vllm/server.js';
export type { VllmServerOptions } from './vllm/server.js';
export { setupVllm } from './vllm/setup.js';
export type { VllmSetupOptions } from './vllm/setup.js';
export type { ChatTokenizer } from './chat-tokenizer.js';
export {
  EngineInfo,
  LossType,
  LossSpec,
  TrainSequence,
  ForwardBackwardRequest,
  ForwardBackwardResult,
  OptimStepRequest,
  OptimStepResult,
  SaveRequest,
  SaveResult,
  LoadResult,
  ExportWeightsResult,
} from './wire.js';
