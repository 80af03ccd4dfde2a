// Samplers: clients that turn messages into model outputs.
export { OpenAISampler, toSamplerError } from './openai-sampler.js';
export type { OpenAISamplerOptions } from './openai-sampler.js';
export { LoadBalancer } from './load-balancer.js';
export type { LoadBalancing } from './load-balancer.js';
export { withRetries, backoffDelay, DEFAULT_RETRY_POLICY } from './retry.js';
export type { RetryPolicy } from './retry.js';
export { toChatResponse, toCompletionResponse } from './openai-response.js';
