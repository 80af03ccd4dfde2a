// Samplers: clients that turn messages into model outputs.
export { OpenAISampler, toSamplerError } from './openai-sampler.js';
export type { OpenAISamplerOptions } from './openai-sampler.js';
export { EngineSampler, isBatchChatSampler } from './engine-sampler.js';
export type { BatchChatSampler } from './engine-sampler.js';
export { LoadBalancer } from './load-balancer.js';
export type { LoadBalancing } from './load-balancer.js';
export { withRetries, backoffDelay, DEFAULT_RETRY_POLICY } from './retry.js';
export type { RetryPolicy } from './retry.js';
export { toChatResponse, toCompletionResponse } from './openai-response.js';
export { EngineClient, defaultEnginePython, freePort } from './engine-client.js';
export type { EngineSpawnOptions, EngineConnectOptions, CreateModelOptions, EngineSamplerOptions } from './engine-client.js';
export {
  EngineInfo,
  LossType as EngineLossType,
  ForwardBackwardResult as EngineForwardBackwardResult,
  OptimStepResult as EngineOptimStepResult,
  SaveResult as EngineSaveResult,
  LoadResult as EngineLoadResult,
} from './engine-api.js';
export type {
  LossSpec as EngineLossSpec,
  TrainSequence as EngineTrainSequence,
  ForwardBackwardRequest as EngineForwardBackwardRequest,
  OptimStepRequest as EngineOptimStepRequest,
  SaveRequest as EngineSaveRequest,
} from './engine-api.js';
