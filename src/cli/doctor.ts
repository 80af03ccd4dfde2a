import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import {
  CHECKOUT_VENV,
  chooseEnginePython,
  constraintsDigest,
  ENGINE_CONSTRAINTS,
  ENGINE_DIR,
  MIN_PYTHON,
  probeEnginePython,
  pythonVersion,
  SETUP_MARKER,
  userEngineVenv,
  type EnginePythonReport,
} from '../engine/index.js';

/** One line of `keiko doctor`: what was checked, what was found, and the command that fixes it. */
export interface DoctorCheck {
  name: string;
  /** `ok`; `warn` (works, but not as tested); `missing` (needed and absent); `optional` (absent, not needed for the basics). */
  status: 'ok' | 'warn' | 'missing' | 'optional';
  detail: string;
  fix?: string;
}

/** Disk a fresh engine venv needs (torch and its CUDA wheels, measured ~5.6 GB). */
const VENV_BYTES = 6.5 * 2 ** 30;

/** Runs every check; `python` is the interpreter `keiko setup` would create the venv with. */
export async function runDoctor(options: { python?: string; env?: NodeJS.ProcessEnv } = {}): Promise<DoctorCheck[]> {
  const env = options.env ?? process.env;
  const checks: DoctorCheck[] = [];
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  checks.push(
    nodeMajor >= 20
      ? { name: 'Node.js', status: 'ok', detail: process.version }
      : { name: 'Node.js', status: 'missing', detail: `${process.version} (keiko needs ≥ 20)`, fix: 'install Node.js 20 or newer (https://nodejs.org, or nvm install 20)' },
  );

  const basePython = options.python ?? 'python3';
  const version = await pythonVersion(basePython);
  const pythonOk = version && (version[0] > MIN_PYTHON[0] || (version[0] === MIN_PYTHON[0] && version[1] >= MIN_PYTHON[1]));
  checks.push(
    pythonOk
      ? { name: 'Python', status: 'ok', detail: `${version.join('.')} (${basePython})` }
      : {
          name: 'Python',
          status: 'missing',
          detail: version ? `${basePython} is ${version.join('.')}; the engine needs ≥ ${MIN_PYTHON.join('.')}` : `${basePython} not found`,
          fix: 'apt-get install python3 python3-venv (or brew install python@3.11), then keiko setup --python <it>',
        },
  );

  const setupFix = existsSync(join(dirname(ENGINE_DIR), 'scripts', 'setup.sh')) && !env.KEIKO_ENGINE_VENV ? 'bash scripts/setup.sh (in this clone) or npx keiko setup' : 'npx keiko setup';
  const choice = chooseEnginePython(undefined, env);
  let report: EnginePythonReport | undefined;
  if (!choice.exists) {
    checks.push({ name: 'engine venv', status: 'missing', detail: `no engine Python at ${choice.python}`, fix: setupFix });
  } else {
    try {
      report = await probeEnginePython(choice.python);
      const venvDir = dirname(dirname(choice.python));
      const marker = join(venvDir, SETUP_MARKER);
      let detail = `${choice.python} (${describeSource(choice.from)})`;
      let status: DoctorCheck['status'] = 'ok';
      if (choice.from === 'user' || choice.from === 'KEIKO_ENGINE_VENV') {
        if (!existsSync(marker)) {
          status = 'warn';
          detail += '; setup did not finish';
        } else if (!readFileSync(marker, 'utf8').includes(constraintsDigest())) {
          status = 'warn';
          detail += '; made from older pinned versions';
        }
      }
      checks.push({ name: 'engine venv', status, detail, ...(status === 'ok' ? {} : { fix: 'npx keiko setup' }) });
    } catch (error) {
      checks.push({ name: 'engine venv', status: 'missing', detail: `${choice.python} does not run: ${(error as Error).message.split('\n')[0]}`, fix: `${setupFix} (add --force to start over)` });
    }
  }

  if (report) {
    const pins = readPins();
    const fixPackages = choice.from === 'checkout' ? 'bash scripts/setup.sh' : 'npx keiko setup';
    for (const name of ['torch', 'transformers', 'tokenizers', 'safetensors', 'peft', 'fastapi', 'uvicorn']) {
      const have = report.packages[name];
      const pin = pins.get(name);
      if (!have) checks.push({ name, status: 'missing', detail: 'not installed in the engine venv', fix: fixPackages });
      else if (pin && have.split('+')[0] !== pin) checks.push({ name, status: 'warn', detail: `${have} (CI tests ${pin})`, fix: fixPackages });
      else checks.push({ name, status: 'ok', detail: `${have}${name === 'torch' ? (report.cuda ? ' · CUDA available' : ' · CPU only') : ''}` });
    }
    const engineOk = report.keikoEngine !== null && report.keikoEngine.startsWith(ENGINE_DIR);
    checks.push(
      engineOk
        ? { name: 'keiko_engine', status: 'ok', detail: dirname(report.keikoEngine!) }
        : { name: 'keiko_engine', status: 'missing', detail: `imports ${report.keikoEngine ?? 'nothing'}, not ${ENGINE_DIR}`, fix: `reinstall keiko (its engine/ folder is missing)` },
    );
    const vllm = report.packages['vllm'];
    checks.push(
      vllm
        ? { name: 'vLLM', status: 'ok', detail: vllm }
        : { name: 'vLLM', status: 'optional', detail: 'not installed (only for sampling with vLLM on a GPU)', fix: `${choice.python} -m pip install vllm` },
    );
  }

  const chromium = findChromium(env);
  checks.push(
    chromium
      ? { name: 'Chromium', status: 'ok', detail: chromium }
      : { name: 'Chromium', status: 'optional', detail: 'not found (only for the dashboard browser tests)', fix: 'apt-get install chromium (or set CHROMIUM_PATH)' },
  );

  const venvTarget = choice.exists ? dirname(dirname(choice.python)) : choice.from === 'checkout' ? CHECKOUT_VENV : userEngineVenv(env);
  const free = freeBytes(venvTarget);
  if (free !== undefined) {
    const gib = (free / 2 ** 30).toFixed(1);
    const needsVenv = !choice.exists;
    checks.push(
      needsVenv && free < VENV_BYTES
        ? { name: 'free disk', status: 'missing', detail: `${gib} GiB free at ${nearestExisting(venvTarget)}; a new engine venv needs ~6.5 GiB`, fix: `free some space, or put the venv elsewhere: KEIKO_ENGINE_VENV=/big/disk/keiko-venv npx keiko setup` }
        : free < 2 ** 31
          ? { name: 'free disk', status: 'warn', detail: `${gib} GiB free at ${nearestExisting(venvTarget)}; checkpoints and runs need room`, fix: 'free some space' }
          : { name: 'free disk', status: 'ok', detail: `${gib} GiB free at ${nearestExisting(venvTarget)}` },
    );
  }
  return checks;
}

/** Renders the checks as aligned lines, each missing piece followed by its fix. */
export function formatDoctor(checks: readonly DoctorCheck[]): string {
  const w = Math.max(...checks.map((c) => c.name.length));
  return checks
    .map((c) => `${c.status.padEnd(8)} ${c.name.padEnd(w)}  ${c.detail}${c.fix && c.status !== 'ok' ? `\n${' '.repeat(10 + w)}fix: ${c.fix}` : ''}`)
    .join('\n');
}

function describeSource(from: ReturnType<typeof chooseEnginePython>['from']): string {
  return { explicit: 'given', KEIKO_ENGINE_PYTHON: '$KEIKO_ENGINE_PYTHON', KEIKO_ENGINE_VENV: '$KEIKO_ENGINE_VENV', checkout: "this clone's engine/.venv", user: 'the per-user venv of keiko setup' }[from];
}

/** `name==version` lines of engine/constraints.txt, names lower-cased. */
function readPins(): Map<string, string> {
  const pins = new Map<string, string>();
  if (!existsSync(ENGINE_CONSTRAINTS)) return pins;
  for (const line of readFileSync(ENGINE_CONSTRAINTS, 'utf8').split('\n')) {
    const m = /^([A-Za-z0-9_.-]+)==([^\s;#]+)/.exec(line.trim());
    if (m) pins.set(m[1]!.toLowerCase(), m[2]!);
  }
  return pins;
}

function findChromium(env: NodeJS.ProcessEnv): string | undefined {
  if (env.CHROMIUM_PATH && existsSync(env.CHROMIUM_PATH)) return env.CHROMIUM_PATH;
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    for (const dir of dirs) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(nearestExisting(path));
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}
