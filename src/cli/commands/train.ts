import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { configChanges, formatConfig, loadTrainConfig, readConfigFile, type TrainConfig } from '../../train/config.js';
import { runTrainJob, type JobEvent } from '../../train/train-job.js';
import { loadEnvironment } from '../load-environment.js';

/** Registers `keiko train`. */
export function register(program: Command): void {
  program
    .command('train')
    .description(
      'GRPO-train a model on an environment. With no arguments: create keiko\'s tiny model, SFT-warm-start it, GRPO-train it on arithmetic and compare held-out reward before/after.',
    )
    .argument('[args...]', 'an optional config file (.toml or .json) followed by --key=value overrides')
    .option('--resume <runDir>', 'continue a run from its last complete checkpoint')
    .allowUnknownOption(true)
    .helpOption('-h, --help', 'show help; config keys are documented in src/train/config.ts (README: "Configuration")')
    .action(async (args: string[], opts: { resume?: string }) => {
      const file = args.find((a) => !a.startsWith('-'));
      const overrides = args.filter((a) => a.startsWith('-'));
      let config: TrainConfig;
      let runDir: string;
      if (opts.resume) {
        runDir = resolve(opts.resume);
        const saved = join(runDir, 'config.json');
        if (!existsSync(saved)) throw new ConfigError(`cannot resume: ${saved} not found`);
        const stored = readConfigFile(saved);
        config = loadTrainConfig({ base: stored, overrides });
        const changes = configChanges(stored, config);
        const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
        if (changes.length > 0) process.stdout.write(`resuming with changed settings: ${changes.map((c) => `${c.key} ${show(c.before)} → ${show(c.after)}`).join(' · ')}\n`);
      } else {
        config = loadTrainConfig({ ...(file ? { file } : {}), overrides });
        runDir = resolve(config.outDir, config.runName || `train-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
      }
      await trainCommand({ config, runDir, resume: Boolean(opts.resume) });
    });
}

async function trainCommand(options: { config: TrainConfig; runDir: string; resume: boolean }): Promise<void> {
  const { config, runDir } = options;
  const env = await loadEnvironment({ spec: config.env, args: config.envArgs });
  const out = process.stdout;
  out.write(`keiko train → ${runDir}\n${formatConfig(config)}\n`);
  out.write(`  environment: ${env.name} · ${env.dataset.length} training examples · ${env.evalDataset?.length ?? 0} held-out (eval uses ${Math.min(config.evalExamples, env.evalDataset?.length ?? 0)})\n`);
  const interactive = Boolean(out.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  const newBar = (label: string, total: number, start = 0) => {
    bar?.stop();
    bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} · {info} · {duration_formatted} elapsed · ETA {eta_formatted}`, hideCursor: true, noTTYOutput: false, stopOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    if (interactive) bar.start(total, start, { info: '' });
  };
  const line = (text: string) => {
    if (interactive && bar) bar.stop();
    bar = undefined;
    out.write(text + '\n');
  };
  const controller = new AbortController();
  const onSignal = () => {
    line('interrupt: finishing the current step, saving a checkpoint (Ctrl-C again to abort)');
    controller.abort();
    process.off('SIGINT', onSignal);
  };
  process.on('SIGINT', onSignal);
  const onTerm = () => process.exit(143); // 'exit' handlers stop the engine
  process.once('SIGTERM', onTerm);
  const onEvent = (event: JobEvent) => {
    switch (event.kind) {
      case 'phase':
        line(`==> ${event.message}`);
        break;
      case 'sft-step': {
        if (!bar) newBar('sft ', event.steps, event.step - 1);
        const info = `loss ${fmt(event.metrics['loss'])}`;
        if (interactive) bar!.update(event.step, { info });
        else if (event.step % 25 === 0 || event.step === event.steps) out.write(`sft step ${event.step}/${event.steps} · ${info}\n`);
        if (event.step === event.steps) line('');
        break;
      }
      case 'step': {
        if (!bar) newBar('grpo', event.steps, event.step - 1);
        const m = event.metrics;
        const info = `reward ${fmt(m.reward)} · ${fmt(m['stepSeconds'], 2)}s/step (sample ${fmt(m['samplingSeconds'], 2)} score ${fmt(m['scoringSeconds'], 3)} train ${fmt(m['trainingSeconds'], 2)})${m['skipped'] ? ' · skipped' : ''}`;
        if (interactive) bar!.update(event.step, { info });
        else if (event.step % 5 === 0 || event.step === event.steps) out.write(`step ${event.step}/${event.steps} · ${info}\n`);
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
  try {
    const result = await runTrainJob({ config, env, runDir, resume: options.resume, onEvent, signal: controller.signal });
    bar?.stop();
    const { before, after } = result.grpo;
    out.write('\n');
    if (before && after) {
      const rows = [
        ['', 'before', 'after'],
        ['held-out reward', fmt(before.reward), fmt(after.reward)],
        ...Object.keys(after.metrics).map((k) => [`  ${k}`, fmt(before.metrics[k]), fmt(after.metrics[k])]),
      ];
      const w = Math.max(...rows.map((r) => r[0]!.length));
      for (const r of rows) out.write(`${r[0]!.padEnd(w)}  ${r[1]!.padStart(8)}  ${r[2]!.padStart(8)}\n`);
    } else if (after) {
      out.write(`held-out reward after training: ${fmt(after.reward)}\n`);
    }
    out.write(`${result.grpo.steps} steps in ${Math.round(result.seconds)}s${result.grpo.restarts ? ` · ${result.grpo.restarts} engine restart(s)` : ''}${result.grpo.interrupted ? ' · interrupted (resume with --resume ' + runDir + ')' : ''}\n`);
    out.write(`run folder: ${runDir}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onTerm);
  }
}

function fmt(x: unknown, digits = 3): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-';
}
