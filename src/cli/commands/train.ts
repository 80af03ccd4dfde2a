import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../core/index.js';
import { formatSettingsHelp, parseSettingsArgv } from '../../core/config/index.js';
import { configChanges, formatConfig, loadTrainConfig, readConfigFile, TRAIN_SETTINGS, type ConfigChange, type TrainConfig } from '../../train/index.js';
import { runTrainJob, type JobEvent } from '../../train/index.js';
import { loadEnvironment } from '../load-environment.js';
import { handleInterrupts } from '../interrupt.js';
import { TerminalProgress } from '../progress.js';
import { runLayout } from '../../runs/index.js';
import { Tracker } from '../../tracking/index.js';

const DESCRIPTION =
  "GRPO-train a model on an environment. With no arguments (the beyond-imitation preset): create keiko's tiny model, SFT it on a careless teacher's demonstrations of column addition, GRPO-train it, and print the teacher's, the SFT model's and the GRPO model's held-out reward side by side. --preset=quick: the 1-digit arithmetic run.";

/** Registers `keiko train`: its settings come from `TRAIN_SETTINGS` (the train config schema). */
export function register(program: Command): void {
  program
    .command('train')
    .description(DESCRIPTION)
    .argument('[settings...]', 'an optional config file (.toml or .json), then --key value / --key=value settings (keiko train --help lists them)')
    .helpOption(false)
    .allowUnknownOption(true)
    .action(async (argv: string[]) => {
      const verbose = argv.includes('--verbose');
      const { resume, rest } = takeResume(argv.filter((a) => a !== '--verbose'));
      const parsed = parseSettingsArgv(TRAIN_SETTINGS, rest);
      if (parsed.help) {
        process.stdout.write(formatSettingsHelp(TRAIN_SETTINGS, { description: DESCRIPTION, extra: 'Run control:\n  --resume <runDir>  continue a run from its last complete checkpoint (settings given now override its saved config)\n  --verbose          print every setting at start-up, not only those that differ from the defaults' }));
        return;
      }
      const file = parsed.configFile ?? parsed.positionals[0];
      let config: TrainConfig;
      let runDir: string;
      let changes: ConfigChange[] = [];
      if (resume) {
        if (file) throw new ConfigError('--resume continues a run with its saved config; override settings with flags, not a config file');
        runDir = resolve(resume);
        const saved = join(runDir, 'config.json');
        if (!existsSync(saved)) throw new ConfigError(`cannot resume: ${saved} not found`);
        const stored = readConfigFile(saved);
        config = loadTrainConfig({ base: stored, overrides: rest });
        // Compared with the saved config read under today's names (old keys and -1 sentinels mapped).
        changes = configChanges(loadTrainConfig({ base: stored }), config);
      } else {
        config = loadTrainConfig({ overrides: rest });
        runDir = resolve(config.outDir, config.runName || `train-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
      }
      if (parsed.printConfig) {
        process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
        return;
      }
      const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
      if (changes.length > 0) process.stdout.write(`resuming with changed settings: ${changes.map((c) => `${c.key} ${show(c.before)} → ${show(c.after)}`).join(' · ')}\n`);
      await trainCommand({ config, runDir, resume: Boolean(resume), verbose });
    });
}

/** Takes `--resume <runDir>` (or `--resume=<runDir>`) out of argv; the rest are settings. */
function takeResume(argv: readonly string[]): { resume?: string; rest: string[] } {
  const rest = [...argv];
  const i = rest.findIndex((a) => a === '--resume' || a.startsWith('--resume='));
  if (i < 0) return { rest };
  const token = rest[i]!;
  const value = token.includes('=') ? token.slice(token.indexOf('=') + 1) : rest[i + 1];
  if (!value || value.startsWith('-')) throw new ConfigError('--resume needs a run folder: --resume runs/<run>');
  rest.splice(i, token.includes('=') ? 1 : 2);
  return { resume: value, rest };
}

async function trainCommand(options: { config: TrainConfig; runDir: string; resume: boolean; verbose: boolean }): Promise<void> {
  const { config, runDir } = options;
  const env = await loadEnvironment({ spec: config.env, args: config.envArgs });
  const out = process.stdout;
  out.write(`keiko train → ${runDir}\n${formatConfig(config, { all: options.verbose })}\n`);
  out.write(`  environment: ${env.name} · ${env.dataset.length} training examples · ${env.evalDataset?.length ?? 0} held-out (eval uses ${Math.min(config.evalExamples, env.evalDataset?.length ?? 0)})\n`);
  const progress = new TerminalProgress(out);
  const interactive = progress.interactive;
  let bar: 'sft' | 'grpo' | undefined;
  const line = (text: string) => {
    bar = undefined;
    progress.line(text);
  };
  // Ctrl-C or SIGTERM: finish the step, save, stop the engine, exit 130/143; a second one exits now.
  const interrupt = handleInterrupts((sig) => line(`${sig === 'SIGINT' ? 'interrupt' : 'SIGTERM'}: finishing the current step, saving a checkpoint (Ctrl-C again to abort)`));
  // --track: GRPO steps as train/*, held-out evals as eval/* (SFT steps stay in the run folder: a
  // tracker's step axis must only grow).
  const tracker = config.track ? Tracker.start({ backend: config.track, runName: basename(runDir), kind: 'train', dir: join(runDir, runLayout.trackingDir) }) : undefined;
  tracker?.config(config as unknown as Record<string, unknown>);
  const onEvent = (event: JobEvent) => {
    if (tracker && event.kind === 'step') {
      // the step is the tracker's x axis and the schema version is bookkeeping: neither is a metric
      const { step: _step, schemaVersion: _schema, ...metrics } = event.metrics;
      tracker.log(event.step, Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`train/${k}`, v])));
    }
    if (tracker && event.kind === 'eval') {
      tracker.log(event.step, { 'eval/reward': event.report.reward, ...Object.fromEntries(Object.entries(event.report.metrics).map(([k, v]) => [`eval/${k}`, v])) });
    }
    switch (event.kind) {
      case 'phase':
        line(`==> ${event.message}`);
        // Phases with no count of their own (creating the model, starting an engine, the first
        // GRPO step) show how long they have been running.
        if (event.phase !== 'done') progress.tick(`    ${PHASE_WAIT[event.phase]}`);
        break;
      case 'sft-step': {
        if (bar !== 'sft') {
          progress.bar('sft', event.steps, { start: event.step - 1, unit: 'step' });
          bar = 'sft';
        }
        const info = `loss ${fmt(event.metrics['loss'])}`;
        if (interactive) progress.update(event.step, info);
        else if (event.step % 25 === 0 || event.step === event.steps) out.write(`sft step ${event.step}/${event.steps} · ${info}\n`);
        if (event.step === event.steps) {
          progress.stop();
          bar = undefined;
        }
        break;
      }
      case 'step': {
        if (bar !== 'grpo') {
          progress.bar('grpo', event.steps, { start: event.step - 1, unit: 'step' });
          bar = 'grpo';
        }
        const m = event.metrics;
        const info = `reward ${fmt(m.reward)} · sample ${fmt(m['samplingSeconds'], 2)}s score ${fmt(m['scoringSeconds'], 3)}s train ${fmt(m['trainingSeconds'], 2)}s${m['skipped'] ? ' · skipped' : ''}`;
        if (interactive) progress.update(event.step, info);
        else if (event.step % 5 === 0 || event.step === event.steps) out.write(`step ${event.step}/${event.steps} · reward ${fmt(m.reward)} · ${fmt(m['stepSeconds'], 2)}s/step · ${info.slice(info.indexOf('sample'))}\n`);
        break;

      }
      case 'eval':
        line(`eval ${event.label} (step ${event.step}): held-out reward ${fmt(event.report.reward)} over ${event.report.examples} examples × ${event.report.samplesPerExample} samples${event.report.temperature === 0 ? ' (greedy)' : ` (T=${event.report.temperature})`}`);
        break;
      case 'checkpoint':
        if (!interactive) out.write(`checkpoint step ${event.step} → ${event.dir}\n`);
        break;
      case 'restart':
        line(`engine died at step ${event.step} (${event.reason}); restarted, resuming from step ${event.resumedFrom}`);
        break;
      case 'resume':
        line(`resuming after step ${event.step} from ${event.dir}`);
        break;
    }
  };
  let status: 'completed' | 'failed' | 'interrupted' = 'failed';
  try {
    const result = await runTrainJob({ config, env, runDir, resume: options.resume, onEvent, signal: interrupt.signal });
    status = result.grpo.interrupted ? 'interrupted' : 'completed';
    progress.stop();
    const { before, after } = result.grpo;
    const teacher = result.teacher;
    out.write('\n');
    if (before && after) {
      // With a warm start on the environment's teacher: teacher | after SFT (= before GRPO) | after GRPO.
      const head = teacher ? ['', 'teacher', 'SFT', 'GRPO'] : ['', 'before', 'after'];
      const row = (label: string, pick: (r: { reward: number; metrics: Record<string, number> }) => number | undefined) => [label, ...(teacher ? [fmt(pick(teacher))] : []), fmt(pick(before)), fmt(pick(after))];
      const rows = [head, row('held-out reward', (r) => r.reward), ...Object.keys(after.metrics).map((k) => row(`  ${k}`, (r) => r.metrics[k]))];
      const w = Math.max(...rows.map((r) => r[0]!.length));
      for (const r of rows) out.write(`${[r[0]!.padEnd(w), ...r.slice(1).map((c) => c.padStart(8))].join('  ')}\n`);
    } else if (after) {
      out.write(`held-out reward after training: ${fmt(after.reward)}\n`);
    }
    out.write(`${result.grpo.steps} steps in ${Math.round(result.seconds)}s${result.grpo.restarts ? ` · ${result.grpo.restarts} engine restart(s)` : ''}${result.grpo.interrupted ? ' · interrupted (resume with --resume ' + runDir + ')' : ''}\n`);
    out.write(`run folder: ${runDir}\n`);
    const code = interrupt.exitCode();
    if (code !== undefined) process.exitCode = code;
  } finally {
    progress.stop();
    await tracker?.finish(status);
    if (tracker) out.write(`metrics sent to ${config.track}\n`);
    interrupt.dispose();
  }
}

/** What the ticker says while a phase that has no count of its own runs. */
const PHASE_WAIT: Record<Extract<JobEvent, { kind: 'phase' }>['phase'], string> = {
  create: 'training the tokenizer and writing the model',
  sft: 'starting the engine for SFT',
  engine: 'loading the model',
  grpo: 'sampling and training the first step',
  done: '',
};

function fmt(x: unknown, digits = 3): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-';
}
