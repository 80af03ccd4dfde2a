// Test doubles for keiko users and keiko's own tests (import from 'keiko/testing').
export { ScriptedSampler, ScriptExhaustedError } from './scripted-sampler.js';
export type { ScriptedReply, ScriptedResponder, ScriptedSamplerOptions, ScriptedCall } from './scripted-sampler.js';
export { fakeEncode, fakeDecode, fakeLogprob, fakeLogprobs, fakeRenderChat } from './fake-tokenizer.js';
