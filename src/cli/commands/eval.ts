import { Option, type Command } from 'commander';
import { basename } from 'node:path';
import { z } from 'zod';
import { ConfigError, SamplerError } from '../../core/errors.js';
import { formatZodError, safeParseJson } from '../../core/parse.js';
import { RUN_FILES } from '../../core/run-manifest.js';
import { runRollouts } from '../../rollout/run-rollouts.js';
import { summarizeRollouts } from '../../rollout/summary.js';
import { RunWriter } from '../../runs/run-writer.js';
import { EngineClient } from '../../samplers/engine-client.js';
import { OpenAISampler } from '../../samplers/openai-sampler.js';
import { TEST_SERVER_RULES } from '../../testing/test-server-rules.js';
import { startTestServer, type TestServer } from '../../testing/test-server.js';
import { readConfigFile } from '../../train/config.js';
import { collectList, finiteNumber, integer, nonNegativeInt, positiveInt, positiveNumber } from '../eval/cli-parsers.js';
import { EvalConfig, EvalMetadata } from '../eval/eval-config.js';
import { EvalProgress } from '../eval/eval-progress.js';
import { formatEvalTable } from '../eval/eval-table.js';
import { loadEnvironment } from '../load-environment.js';

interface EvalFlags {
  config?: string;
  env?: string;
  model?: string;
  baseUrl?: string[];
  apiKey?: string;
  numExamples?: number;
  rollouts?: number;
  concurrency?: number;
  scoringConcurrency?: number;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  envArgs?: string;
  split?: 'eval' | 'train';
  maxTurns?: number;
  maxTotalTokens?: number;
  timeout?: number;
  rolloutTimeout?: number;
  retries?: number;
  passThreshold?: number;
  out: string;
  runId?: string;
  resume?: string;
  testServer?: string;
  testServerLatency?: number;
  engine?: string;
  progress: boolean;
  json?: boolean;
}

/** Registers `keiko eval`: roll out a model on an environment, score, save a run folder, print a table. */
export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('Evaluate a model on an environment: rollouts, rewards, pass@k; results saved to runs/<id>/.')
    .option('--config <file>', 'TOML or JSON file of eval settings (the keys of a run\'s stored config: env, model, baseUrls, examples, sampling…); flags override it')
    .option('-e, --env <name|path>', 'built-in environment name, or path to a module exporting loadEnvironment(args)')
    .option('-m, --model <id>', 'model id sent to the server')
    .option('-b, --base-url <url>', 'OpenAI-compatible base URL; repeat or comma-separate to load-balance (default http://localhost:8000/v1)', collectList)
    .option('-k, --api-key <key>', 'API key (default $OPENAI_API_KEY, else "none")')
    .option('-n, --num-examples <n>', 'examples to evaluate (default: the whole split)', positiveInt)
    .option('-r, --rollouts <n>', 'rollouts per example (default 1)', positiveInt)
    .option('-c, --concurrency <n>', 'rollouts generating at once (default 32)', positiveInt)
    .option('--scoring-concurrency <n>', 'scoring calls at once (default: half of --concurrency)', positiveInt)
    .option('-t, --max-tokens <n>', 'max completion tokens per model call', positiveInt)
    .option('-T, --temperature <x>', 'sampling temperature', finiteNumber)
    .option('--top-p <x>', 'nucleus sampling p', finiteNumber)
    .option('--stop <text>', 'stop sequence (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--seed <n>', 'seed for rollout rngs and sampling', integer)
    .option('--env-args <json>', 'JSON object passed to the environment loader, e.g. \'{"digits":3}\'')
    .addOption(new Option('--split <split>', 'dataset split').choices(['eval', 'train']))
    .option('--max-turns <n>', 'per-rollout budget: model turns', positiveInt)
    .option('--max-total-tokens <n>', 'per-rollout budget: prompt + completion tokens', positiveInt)
    .option('--timeout <seconds>', 'per-request timeout (default 600)', positiveNumber)
    .option('--rollout-timeout <seconds>', 'wall-clock limit per rollout; slower rollouts are recorded as errors', positiveNumber)
    .option('--retries <n>', 'retries per request on 5xx/timeouts/connection errors (default 3)', nonNegativeInt)
    .option('--pass-threshold <x>', 'reward at which a rollout counts as passed, for pass@k (default 1)', finiteNumber)
    .option('-o, --out <dir>', 'runs folder', 'runs')
    .option('--run-id <id>', 'name of the run folder (default: time-kind-env)')
    .option('--resume <run-id>', 'continue an interrupted eval run in --out, running only missing rollouts')
    .addOption(new Option('--test-server <rule>', "start keiko's built-in OpenAI-compatible test server and evaluate against it").choices(Object.keys(TEST_SERVER_RULES)))
    .option('--test-server-latency <ms>', 'latency of the built-in test server', nonNegativeInt)
    .option('--engine <model-dir>', "start keiko's Python engine on a local Hugging Face model folder and evaluate it")
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the summary as JSON instead of a table')
    .action(async (flags: EvalFlags, command: Command) => runEvalCommand(flags, command));
  // Subcommands do not inherit the program's exitOverride; without it commander exits 1 itself.
  cmd.exitOverride();
  const validOptions = () => cmd.options.map((o) => o.flags).join('\n  ');
  cmd.configureOutput({
    outputError: (message, write) => write(`${message.trimEnd()}\nvalid options for keiko eval:\n  ${validOptions()}\n`),
  });
}

const EnvArgs = z.record(z.string(), z.unknown());

async function runEvalCommand(flags: EvalFlags, command: Command): Promise<void> {
  const fromCli = (name: keyof EvalFlags) => command.getOptionValueSource(name) === 'cli';
  let server: TestServer | undefined;
  let engine: EngineClient | undefined;
  try {
    // 1. Settings: a resumed run starts from its stored config; flags given now override it.
    let run: RunWriter | undefined;
    let base: Partial<EvalConfig> = {};
    if (flags.resume) {
      run = await RunWriter.open({ runsDir: flags.out, id: flags.resume });
      const stored = EvalConfig.safeParse(run.manifest.config);
      if (run.manifest.kind !== 'eval' || !stored.success) {
        throw new ConfigError(`run '${flags.resume}' is not a keiko eval run (or its config is invalid${stored.success ? '' : `: ${formatZodError(stored.error)}`})`);
      }
      base = stored.data;
    }
    if (flags.config) {
      if (run) throw new ConfigError('--config and --resume do not mix: a resumed run repeats its stored settings; override them with flags');
      base = readEvalConfigFile(flags.config);
    }
    const testServerRule = flags.testServer ?? (fromCli('baseUrl') ? undefined : base.testServer);
    if (testServerRule) {
      const rule = TEST_SERVER_RULES[testServerRule];
      if (!rule) throw new ConfigError(`unknown test server rule '${testServerRule}'; available: ${Object.keys(TEST_SERVER_RULES).join(', ')}`);
      server = await startTestServer({ rule, latencyMs: flags.testServerLatency ?? 0, logRequests: false });
    }
    const engineModel = testServerRule ? undefined : (flags.engine ?? (fromCli('baseUrl') ? undefined : base.engine));
    if (engineModel) {
      process.stderr.write(`keiko eval: starting the engine on ${engineModel}\n`);
      engine = await EngineClient.spawn({ model: engineModel });
    }
    let envArgs = base.envArgs ?? {};
    if (flags.envArgs !== undefined) {
      const parsed = safeParseJson(flags.envArgs, EnvArgs);
      if (!parsed.success) throw new ConfigError(`--env-args must be a JSON object, e.g. '{"digits":3}': ${parsed.error}`);
      envArgs = parsed.data;
    }
    const pick = <K extends keyof EvalFlags>(name: K, fallback: EvalFlags[K] | undefined): EvalFlags[K] | undefined =>
      fromCli(name) || !run ? (flags[name] ?? fallback) : fallback;
    const sampling = { ...base.sampling };
    const setSampling = <K extends keyof typeof sampling>(key: K, value: (typeof sampling)[K] | undefined) => {
      if (value !== undefined) sampling[key] = value;
    };
    setSampling('maxTokens', pick('maxTokens', undefined));
    setSampling('temperature', pick('temperature', undefined));
    setSampling('topP', pick('topP', undefined));
    setSampling('stop', pick('stop', undefined));
    const env = pick('env', base.env);
    if (!env) throw new ConfigError('missing -e/--env: give a built-in environment name or a path to a module exporting loadEnvironment');
    const model = pick('model', base.model) ?? (server ? 'test-model' : engineModel ? basename(engineModel) : undefined);
    if (!model) throw new ConfigError('missing -m/--model: the model id to send to the server (or use --test-server)');
    const local = server?.baseUrl ?? engine?.openaiBaseUrl;
    const baseUrls = local ? [local] : (pick('baseUrl', base.baseUrls) ?? ['http://localhost:8000/v1']);
    const candidate = {
      ...base,
      env,
      envArgs,
      split: pick('split', base.split),
      model,
      baseUrls,
      examples: pick('numExamples', base.examples),
      rolloutsPerExample: pick('rollouts', base.rolloutsPerExample),
      concurrency: pick('concurrency', base.concurrency),
      scoringConcurrency: pick('scoringConcurrency', base.scoringConcurrency),
      sampling,
      maxTurns: pick('maxTurns', base.maxTurns),
      maxTotalTokens: pick('maxTotalTokens', base.maxTotalTokens),
      timeoutS: pick('timeout', base.timeoutS),
      rolloutTimeoutS: pick('rolloutTimeout', base.rolloutTimeoutS),
      testServer: testServerRule,
      engine: engineModel,
      retries: pick('retries', base.retries),
      seed: pick('seed', base.seed),
      passThreshold: pick('passThreshold', base.passThreshold),
    };
    const checked = EvalConfig.safeParse(candidate);
    if (!checked.success) throw new ConfigError(`invalid eval settings: ${formatZodError(checked.error)}`);
    const config = checked.data;
    if (config.seed !== undefined && config.sampling.seed === undefined && fromCli('seed')) config.sampling.seed = config.seed;

    // 2. Environment and examples.
    const environment = await loadEnvironment({ spec: config.env, args: config.envArgs });
    const split = config.split === 'train' ? environment.dataset : (environment.evalDataset ?? environment.dataset);
    if (split.length === 0) throw new ConfigError(`environment '${environment.name}' has no ${config.split} examples`);
    if (config.examples !== undefined && config.examples > split.length) {
      process.stderr.write(`keiko: -n ${config.examples} but '${environment.name}' has ${split.length} ${config.split} examples; using ${split.length}\n`);
    }
    const examples = split.slice(0, config.examples ?? split.length);

    // 3. Sampler, with a quick reachability check so a wrong URL fails in seconds, not after retries.
    const sampler = new OpenAISampler({
      model: config.model,
      baseUrl: config.baseUrls,
      ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
      timeoutMs: config.timeoutS * 1000,
      retry: { maxRetries: config.retries },
      seed: config.seed,
      // keiko's engine always has ids and logprobs to give: keep them, so eval rollouts are trainable.
      ...(engine ? { defaultSampling: { returnTokens: true } } : {}),
    });
    await checkReachable(config.baseUrls);

    // 4. Run folder.
    run ??= await RunWriter.create({
      runsDir: flags.out,
      kind: 'eval',
      env: config.env,
      model: config.model,
      config: config as unknown as Record<string, unknown>,
      ...(flags.runId ? { id: flags.runId } : {}),
    });
    if (flags.resume) await run.update({ config: config as unknown as Record<string, unknown>, model: config.model });
    const resultsPath = run.path(RUN_FILES.results);
    process.stderr.write(`keiko eval: ${environment.name} · ${config.model} · ${examples.length} examples × ${config.rolloutsPerExample} · run ${run.dir}\n`);

    // 5. Rollouts, with Ctrl-C stopping cleanly (a second Ctrl-C exits at once).
    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write('\nkeiko eval: stopping (Ctrl-C again to exit now)…\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const progress = new EvalProgress(examples.length * config.rolloutsPerExample, process.stderr, flags.progress && !flags.json);
    const started = performance.now();
    let firstProgress = true;
    let resumedCount = 0;
    let results;
    try {
      results = await runRollouts({
        env: environment,
        sampler,
        examples,
        groupSize: config.rolloutsPerExample,
        sampling: config.sampling,
        concurrency: { generation: config.concurrency, scoring: config.scoringConcurrency ?? Math.max(1, Math.floor(config.concurrency / 2)) },
        budget: {
          ...(config.maxTurns ? { maxTurns: config.maxTurns } : {}),
          ...(config.maxTotalTokens ? { maxTotalTokens: config.maxTotalTokens } : {}),
        },
        seed: config.seed,
        ...(config.rolloutTimeoutS ? { timeoutMs: config.rolloutTimeoutS * 1000 } : {}),
        out: resultsPath,
        resume: Boolean(flags.resume),
        signal: controller.signal,
        onProgress: (p) => {
          if (firstProgress) {
            firstProgress = false;
            resumedCount = p.resumed;
            progress.setResumed(p.resumed);
          }
          progress.update(p);
        },
      });
    } catch (error) {
      progress.stop();
      await run.finish({ status: 'failed', error: (error as Error).message });
      throw error;
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    progress.stop();
    const seconds = (performance.now() - started) / 1000;
    const interrupted = controller.signal.aborted;

    // 6. Summary, metadata, manifest, table.
    const summary = summarizeRollouts({ results, passThreshold: config.passThreshold });
    const fresh = results.length - resumedCount;
    const nullable = (v: number) => (Number.isFinite(v) ? v : null);
    const metadata: EvalMetadata = {
      schemaVersion: 1,
      env: environment.name,
      model: config.model,
      examples: summary.examples,
      rolloutsPerExample: config.rolloutsPerExample,
      config,
      durationS: seconds,
      rolloutsPerSecond: seconds > 0 ? fresh / seconds : 0,
      meanReward: nullable(summary.meanReward),
      stdReward: nullable(summary.stdReward),
      metrics: Object.fromEntries(Object.entries(summary.metrics).map(([k, v]) => [k, nullable(v.mean)])),
      passAtK: Object.fromEntries(Object.entries(summary.passAtK).map(([k, v]) => [String(k), v])),
      errors: summary.errors,
      errorCodes: summary.errorCodes,
      stopReasons: summary.stopReasons,
      status: interrupted ? 'interrupted' : 'completed',
    };
    await run.writeJson(RUN_FILES.metadata, EvalMetadata.parse(metadata));
    await run.finish({
      status: interrupted ? 'interrupted' : 'completed',
      summary: { rollouts: results.length, ...(Number.isFinite(summary.meanReward) ? { meanReward: summary.meanReward } : {}) },
      ...(interrupted ? { error: 'interrupted by signal' } : {}),
    });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ runId: run.id, runDir: run.dir, ...metadata }, null, 2)}\n`);
    } else {
      process.stdout.write(
        `${formatEvalTable({ env: environment.name, model: config.model, summary, rolloutsPerExample: config.rolloutsPerExample, seconds, freshRollouts: fresh, resultsPath })}\n`,
      );
    }
    if (interrupted) {
      process.stderr.write(`keiko eval: interrupted after ${results.length} rollouts; continue with: keiko eval --out ${flags.out} --resume ${run.id}\n`);
      process.exitCode = 130;
    }
  } finally {
    await server?.close();
    await engine?.stop();
  }
}

/** Partial eval settings: any field of the stored config; unknown keys are errors. */
const EvalConfigFile = EvalConfig.partial().strict();

/** Reads `--config`: a TOML or JSON file whose keys are those of a run's stored eval config. */
export function readEvalConfigFile(path: string): Partial<EvalConfig> {
  const parsed = EvalConfigFile.safeParse(readConfigFile(path));
  if (!parsed.success) throw new ConfigError(`invalid eval config file '${path}': ${formatZodError(parsed.error)}`);
  return parsed.data;
}

/** Fails fast with a clear message when no base URL accepts connections. */
async function checkReachable(baseUrls: readonly string[]): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    baseUrls.map(async (url) => {
      try {
        await fetch(`${url.replace(/\/+$/, '')}/models`, { signal: AbortSignal.timeout(10_000) });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        failures.push(`${url} (${cause?.code ?? cause?.message ?? (error as Error).message})`);
      }
    }),
  );
  if (failures.length === baseUrls.length) {
    throw new SamplerError(`cannot reach the model server: ${failures.join(', ')}; start one (e.g. vllm serve, keiko engine serve) or pass --test-server arithmetic`, { retryable: false });
  }
  for (const f of failures) process.stderr.write(`keiko eval: warning: ${f} is unreachable; requests will go to the others\n`);
}
