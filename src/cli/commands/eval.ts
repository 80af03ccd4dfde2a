import type { Command } from 'commander';
import { basename } from 'node:path';
import { checkSettings, formatSettingsHelp, mergeSettings, parseSettingsArgv, readSettingsFile } from '../../core/config/index.js';
import { ConfigError, SamplerError } from '../../core/index.js';
import { formatZodError } from '../../core/index.js';
import { RUN_FILES } from '../../core/index.js';
import { runRollouts } from '../../rollout/index.js';
import { summarizeRollouts, type RolloutSummary } from '../../rollout/index.js';
import { RunWriter, runLayout } from '../../runs/index.js';
import { Tracker, type TrackerName } from '../../tracking/index.js';
import { EngineClient } from '../../engine/index.js';
import { OpenAISampler } from '../../samplers/index.js';
import { TEST_SERVER_RULES } from '../../testing/index.js';
import { startTestServer, type TestServer } from '../../testing/index.js';
import { EvalConfig, EvalMetadata } from '../eval/eval-config.js';
import { EVAL_RUN_CONTROL, EVAL_SETTINGS, EvalSettings } from '../eval/eval-settings.js';
import { EvalProgress } from '../eval/eval-progress.js';
import { formatEvalTable } from '../eval/eval-table.js';
import { loadEnvironment } from '../load-environment.js';
import { handleInterrupts } from '../interrupt.js';
import { EXIT } from '../run-cli.js';

const DESCRIPTION = 'Evaluate a model on an environment: rollouts, rewards, pass@k; results saved to runs/<id>/.';

/** Registers `keiko eval`: roll out a model on an environment, score, save a run folder, print a table. */
export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description(DESCRIPTION)
    .argument('[settings...]', '--key value / --key=value settings (keiko eval --help lists them)')
    .helpOption(false)
    .allowUnknownOption(true)
    .action(async (argv: string[]) => runEvalCommand(argv));
  // Subcommands do not inherit the program's exitOverride; without it commander exits 1 itself.
  cmd.exitOverride();
}

type Flags = Partial<EvalSettings>;

async function runEvalCommand(argv: string[]): Promise<void> {
  const parsed = parseSettingsArgv(EVAL_SETTINGS, argv);
  if (parsed.help) {
    process.stdout.write(formatSettingsHelp(EVAL_SETTINGS, { description: DESCRIPTION }));
    return;
  }
  const flags = parsed.values as Flags;
  const notices = [...parsed.notices];
  const fromCli = (key: string) => [...parsed.given].some((g) => g === key || g.startsWith(`${key}.`));
  let server: TestServer | undefined;
  let engine: EngineClient | undefined;
  try {
    // 1. Settings: a resumed run starts from its stored config, otherwise from --config; flags override.
    let run: RunWriter | undefined;
    let base: Flags = {};
    const out = flags.out ?? 'runs';
    if (flags.resume) {
      run = await RunWriter.open({ runsDir: out, id: flags.resume });
      const stored = EvalConfig.safeParse(run.manifest.config);
      if (run.manifest.kind !== 'eval' || !stored.success) {
        throw new ConfigError(`run '${flags.resume}' is not a keiko eval run (or its config is invalid${stored.success ? '' : `: ${formatZodError(stored.error)}`})`);
      }
      const { schemaVersion: _, ...rest } = run.manifest.config as Record<string, unknown>;
      base = checkSettings(EVAL_SETTINGS, rest, `run '${flags.resume}'`).values as Flags;
    }
    if (parsed.configFile) {
      if (run) throw new ConfigError('--config and --resume do not mix: a resumed run repeats its stored settings; override them with flags');
      const file = readSettingsFile(EVAL_SETTINGS, parsed.configFile);
      notices.unshift(...file.notices);
      base = file.values as Flags;
    }
    for (const notice of new Set(notices)) process.stderr.write(`${notice}\n`);
    const setting = <K extends keyof Flags>(key: K): Flags[K] => (flags[key] ?? base[key]) as Flags[K];
    const testServerRule = flags.testServer ?? (fromCli('baseUrls') ? undefined : base.testServer);
    const engineModel = testServerRule ? undefined : (flags.engine ?? (fromCli('baseUrls') ? undefined : base.engine));
    const env = setting('env');
    if (!env) throw new ConfigError('missing -e/--env: give a built-in environment name or a path to a module exporting loadEnvironment');
    const model = setting('model') ?? (testServerRule ? 'test-model' : engineModel ? basename(engineModel) : undefined);
    if (!model) throw new ConfigError('missing -m/--model: the model id to send to the server (or use --test-server)');
    const candidate: Record<string, unknown> = {
      ...mergeSettings(base, flags),
      env,
      model,
      baseUrls: setting('baseUrls') ?? ['http://localhost:8000/v1'],
      testServer: testServerRule,
      engine: engineModel,
    };
    // Run control is not part of the stored config, so EvalConfig does not see it: check it here.
    const control = EvalSettings.pick(Object.fromEntries(EVAL_RUN_CONTROL.map((k) => [k, true])) as { [K in (typeof EVAL_RUN_CONTROL)[number]]: true }).safeParse(
      Object.fromEntries(EVAL_RUN_CONTROL.map((k) => [k, candidate[k]])),
    );
    if (!control.success) throw new ConfigError(`invalid eval settings: ${formatZodError(control.error)}`);
    for (const key of EVAL_RUN_CONTROL) delete candidate[key];
    const checked = EvalConfig.safeParse(candidate);
    if (!checked.success) throw new ConfigError(`invalid eval settings: ${formatZodError(checked.error)}`);
    const config = checked.data;
    if (config.seed !== undefined && config.sampling.seed === undefined && fromCli('seed')) config.sampling.seed = config.seed;
    if (parsed.printConfig) {
      process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      return;
    }
    if (testServerRule) {
      const rule = TEST_SERVER_RULES[testServerRule];
      if (!rule) throw new ConfigError(`unknown test server rule '${testServerRule}'; available: ${Object.keys(TEST_SERVER_RULES).join(', ')}`);
      server = await startTestServer({ rule, latencyMs: setting('testServerLatency') ?? 0, logRequests: false });
    }
    if (engineModel) {
      process.stderr.write(`keiko eval: starting the engine on ${engineModel}\n`);
      engine = await EngineClient.spawn({ model: engineModel });
    }
    const local = server?.baseUrl ?? engine?.openaiBaseUrl;
    if (local) config.baseUrls = [local];
    const apiKey = setting('apiKey');
    const headers = parseHeaders(setting('header') ?? []);
    const retryErrors = setting('retryErrors') ?? false;
    if (retryErrors && !flags.resume) throw new ConfigError('--retry-errors goes with --resume <run>: it runs again the rollouts of that run that ended in an error');
    const gate = { failUnder: setting('failUnder'), maxErrorRate: setting('maxErrorRate') };
    const json = setting('json') ?? false;
    const showProgress = (setting('progress') ?? true) && !json;

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
      ...(apiKey ? { apiKey } : {}),
      timeoutMs: config.timeoutS * 1000,
      ...(Object.keys(config.samplingArgs).length ? { extraBody: config.samplingArgs } : {}),
      ...(Object.keys(headers).length ? { headers } : {}),
      retry: { maxRetries: config.retries },
      seed: config.seed,
      // keiko's engine always has ids and logprobs to give: keep them, so eval rollouts are trainable.
      ...(engine ? { defaultSampling: { returnTokens: true } } : {}),
    });
    await checkReachable(config.baseUrls, headers);

    // 4. Run folder.
    run ??= await RunWriter.create({
      runsDir: out,
      kind: 'eval',
      env: config.env,
      model: config.model,
      config: config as unknown as Record<string, unknown>,
      ...(flags.runId ? { id: flags.runId } : {}),
    });
    if (flags.resume) await run.update({ config: config as unknown as Record<string, unknown>, model: config.model });
    const resultsPath = run.path(RUN_FILES.results);
    process.stderr.write(`keiko eval: ${environment.name} · ${config.model} · ${examples.length} examples × ${config.groupSize} · run ${run.dir}\n`);

    // 5. Rollouts, with Ctrl-C stopping cleanly (a second Ctrl-C exits at once).
    const interrupt = handleInterrupts(() => process.stderr.write('\nkeiko eval: stopping (Ctrl-C again to exit now)…\n'));
    const progress = new EvalProgress(examples.length * config.groupSize, process.stderr, showProgress);
    const started = performance.now();
    let firstProgress = true;
    let resumedCount = 0;
    let results;
    try {
      results = await runRollouts({
        env: environment,
        sampler,
        examples,
        groupSize: config.groupSize,
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
        retryErrors,
        signal: interrupt.signal,
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
      interrupt.dispose();
    }
    progress.stop();
    const seconds = (performance.now() - started) / 1000;
    const interrupted = interrupt.signal.aborted;

    // 6. Summary, metadata, manifest, table.
    const summary = summarizeRollouts({ results, passThreshold: config.passThreshold });
    const fresh = results.length - resumedCount;
    const nullable = (v: number) => (Number.isFinite(v) ? v : null);
    // A server that died mid-run shows as sampler errors; if it is still unreachable, the eval failed.
    const serverGone = !interrupted && (summary.errorCodes.sampler_error ?? 0) > 0 && (await unreachable(config.baseUrls, headers)).length === config.baseUrls.length;
    const failures = gateFailures(summary, gate);
    if (serverGone) failures.unshift(`the model server became unreachable during the eval (${summary.errorCodes.sampler_error} rollouts failed with sampler errors)`);
    const gated = gate.failUnder !== undefined || gate.maxErrorRate !== undefined;
    const metadata: EvalMetadata = {
      schemaVersion: 1,
      env: environment.name,
      model: config.model,
      examples: summary.examples,
      rolloutsPerExample: config.groupSize,
      config,
      durationS: seconds,
      rolloutsPerSecond: seconds > 0 ? fresh / seconds : 0,
      scoredRollouts: summary.scored,
      meanReward: nullable(summary.meanReward),
      stdReward: nullable(summary.stdReward),
      metrics: Object.fromEntries(Object.entries(summary.metrics).map(([k, v]) => [k, nullable(v.mean)])),
      passAtK: Object.fromEntries(Object.entries(summary.passAtK).map(([k, v]) => [String(k), v])),
      errors: summary.errors,
      errorRate: summary.errorRate,
      errorCodes: summary.errorCodes,
      scoringErrors: summary.scoringErrors,
      ...(gated || failures.length ? { gate: { ...definedOnly(gate), passed: failures.length === 0, failures } } : {}),
      stopReasons: summary.stopReasons,
      status: interrupted ? 'interrupted' : serverGone ? 'failed' : 'completed',
    };
    await run.writeJson(RUN_FILES.metadata, EvalMetadata.parse(metadata));
    const track = setting('track');
    if (track) await trackEval({ backend: track, runId: run.id, dir: run.path(runLayout.trackingDir), metadata });
    await run.finish({
      status: metadata.status,
      summary: { rollouts: results.length, ...(Number.isFinite(summary.meanReward) ? { meanReward: summary.meanReward } : {}) },
      ...(interrupted ? { error: 'interrupted by signal' } : serverGone ? { error: failures[0] } : {}),
    });
    if (json) {
      process.stdout.write(`${JSON.stringify({ runId: run.id, runDir: run.dir, ...metadata }, null, 2)}\n`);
    } else {
      process.stdout.write(
        `${formatEvalTable({ env: environment.name, model: config.model, summary, groupSize: config.groupSize, seconds, freshRollouts: fresh, resultsPath })}\n`,
      );
    }
    if (interrupted) {
      process.stderr.write(`keiko eval: interrupted after ${results.length} rollouts; continue with: keiko eval --out ${out} --resume ${run.id}\n`);
      process.exitCode = interrupt.exitCode() ?? 130;
    } else if (failures.length) {
      for (const failure of failures) process.stderr.write(`keiko eval: FAILED: ${failure}\n`);
      if (summary.errors) process.stderr.write(`keiko eval: run the errored rollouts again with: keiko eval --out ${out} --resume ${run.id} --retry-errors\n`);
      process.exitCode = EXIT.failure;
    }
  } finally {
    await server?.close();
    await engine?.stop();
  }
}

/** The base URLs that do not accept connections, each with the reason. */
async function unreachable(baseUrls: readonly string[], headers: Record<string, string>): Promise<string[]> {
  const failures: string[] = [];
  await Promise.all(
    baseUrls.map(async (url) => {
      try {
        await fetch(`${url.replace(/\/+$/, '')}/models`, { headers, signal: AbortSignal.timeout(10_000) });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        failures.push(`${url} (${cause?.code ?? cause?.message ?? (error as Error).message})`);
      }
    }),
  );
  return failures;
}

/** Fails fast with a clear message when no base URL accepts connections. */
async function checkReachable(baseUrls: readonly string[], headers: Record<string, string>): Promise<void> {
  const failures = await unreachable(baseUrls, headers);
  if (failures.length === baseUrls.length) {
    throw new SamplerError(`cannot reach the model server: ${failures.join(', ')}; start one (e.g. vllm serve, keiko engine serve) or pass --test-server arithmetic`, { retryable: false });
  }
  for (const f of failures) process.stderr.write(`keiko eval: warning: ${f} is unreachable; requests will go to the others\n`);
}

/** The CI thresholds that failed, as one sentence each (empty when all passed or none was given). */
export function gateFailures(summary: RolloutSummary, gate: { failUnder?: number; maxErrorRate?: number }): string[] {
  const failures: string[] = [];
  if (gate.failUnder !== undefined) {
    if (!Number.isFinite(summary.meanReward)) failures.push(`no rollout was scored, so the mean reward cannot reach --fail-under ${gate.failUnder}`);
    else if (summary.meanReward < gate.failUnder) failures.push(`mean reward ${summary.meanReward.toFixed(4)} is below --fail-under ${gate.failUnder}`);
  }
  if (gate.maxErrorRate !== undefined && summary.errorRate > gate.maxErrorRate) {
    failures.push(`error rate ${summary.errorRate.toFixed(4)} (${summary.errors} of ${summary.rollouts} rollouts) is above --max-error-rate ${gate.maxErrorRate}`);
  }
  return failures;
}

/** `--header "Name: value"` entries as a header record. */
function parseHeaders(entries: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    headers[entry.slice(0, colon).trim()] = entry.slice(colon + 1).trim();
  }
  return headers;
}

const definedOnly = <T extends Record<string, unknown>>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Sends an eval's settings and summary figures (at step 0) to the `--track` backend. */
async function trackEval(options: { backend: TrackerName; runId: string; dir: string; metadata: EvalMetadata }): Promise<void> {
  const { metadata: m } = options;
  const tracker = Tracker.start({ backend: options.backend, runName: options.runId, kind: 'eval', dir: options.dir });
  tracker.config(m.config as unknown as Record<string, unknown>);
  tracker.log(0, {
    'eval/meanReward': m.meanReward,
    'eval/stdReward': m.stdReward,
    'eval/errorRate': m.errorRate,
    'eval/scoredRollouts': m.scoredRollouts,
    'eval/rolloutsPerSecond': m.rolloutsPerSecond,
    ...Object.fromEntries(Object.entries(m.passAtK).map(([k, v]) => [`eval/pass_at_${k}`, v])),
    ...Object.fromEntries(Object.entries(m.metrics).map(([k, v]) => [`eval/${k}`, v])),
  });
  await tracker.finish(m.status);
  process.stderr.write(`keiko eval: sent to ${options.backend}\n`);
}
