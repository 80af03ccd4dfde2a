// Adds up vitest's JSON report and pytest's JUnit XML into one closing line: "N passed, N failed".
import { readFileSync, existsSync } from 'node:fs';

const [vitestPath, pytestPath] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
if (vitestPath && existsSync(vitestPath)) {
  const report = JSON.parse(readFileSync(vitestPath, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
} else failed += 1;
if (pytestPath && existsSync(pytestPath)) {
  const xml = readFileSync(pytestPath, 'utf8');
  const attr = (name) => Number((xml.match(new RegExp(`<testsuite[^>]*\\s${name}="(\\d+)"`)) ?? [])[1] ?? 0);
  const tests = attr('tests');
  const bad = attr('failures') + attr('errors');
  const skip = attr('skipped');
  passed += tests - bad - skip;
  failed += bad;
  skipped += skip;
} else failed += 1;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
