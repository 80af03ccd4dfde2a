// Test doubles for keiko users and keiko's own tests (import from 'keiko/testing').
export { ScriptedSampler, ScriptExhaustedError } from './scripted-sampler.js';
export type { ScriptedReply, ScriptedResponder, ScriptedSamplerOptions, ScriptedCall } from './scripted-sampler.js';
export { fakeEncode, fakeDecode, fakeLogprob, fakeLogprobs, fakeRenderChat } from './fake-tokenizer.js';
export { startTestServer } from './test-server.js';
export type { TestServer, TestServerOptions, TestServerFaults, LoggedRequest } from './test-server.js';
export { echoRule, arithmeticRule, noisyArithmeticRule, solveArithmetic, TEST_SERVER_RULES } from './test-server-rules.js';
export type { TestServerRule, TestServerReply, TestServerRequest, TestServerFault } from './test-server-rules.js';
export { writeFixtureRun, appendFixtureMetrics } from '../runs/fixture-run.js';
export type { FixtureRunOptions } from '../runs/fixture-run.js';
