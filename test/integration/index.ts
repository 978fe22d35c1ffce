/**
 * The mocha entry that VS Code's extension host loads (`--extensionTestsPath`). It runs
 * every `out/test/integration/**\/*.test.js` inside the real extension host, so the suites
 * can use the `vscode` API against the extension under development.
 *
 * Env: DICOMWEB_TEST_GREP narrows the run to tests whose full title matches.
 *      DICOMWEB_TEST_SUMMARY names the file the counts are written to as one JSON line
 *      (scripts/test.mjs adds them up): { passed, failed, pending, failedNames, runnerTotals }.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';

const TEST_TIMEOUT_MS = 60_000;

function findTestFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...findTestFiles(full));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) files.push(full);
  }
  return files.sort();
}

interface Counts {
  passed: number;
  failed: number;
  pending: number;
  failedNames: string[];
}

/**
 * Counts mocha's own events: a passed test, a failure (a test's, or a hook's, which mocha's
 * `N failing` counts too), a pending (skipped) test.
 */
function countEvents(runner: Mocha.Runner, events: Mocha.RunnerConstants): Counts {
  const counts: Counts = { passed: 0, failed: 0, pending: 0, failedNames: [] };
  runner.on(events.EVENT_TEST_PASS, () => counts.passed++);
  runner.on(events.EVENT_TEST_FAIL, (test: Mocha.Runnable) => {
    counts.failed++;
    counts.failedNames.push(test.fullTitle());
  });
  runner.on(events.EVENT_TEST_PENDING, () => counts.pending++);
  return counts;
}

/** The counts for scripts/test.mjs, with mocha's own stats of the run to hold them against. */
function writeSummary(counts: Counts, stats: Mocha.Stats | undefined): void {
  const file = process.env.DICOMWEB_TEST_SUMMARY;
  if (!file) return;
  const runnerTotals = { passed: stats?.passes ?? 0, failed: stats?.failures ?? 0 };
  writeFileSync(file, `${JSON.stringify({ ...counts, runnerTotals })}\n`);
}

export async function run(): Promise<void> {
  // mocha 12 is an ES module: a dynamic import works on every extension host Node.
  const { default: Mocha } = await import('mocha');
  // In code-server the extension host's console reaches the test runner through the
  // workbench's log, which passes only the first argument as text: format here.
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => console.log(format(...args));

  const mocha = new Mocha({ ui: 'bdd', timeout: TEST_TIMEOUT_MS, color: false });
  const grep = process.env.DICOMWEB_TEST_GREP;
  if (grep) mocha.grep(grep);
  for (const file of findTestFiles(__dirname)) mocha.addFile(file);
  await mocha.loadFilesAsync();

  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run((failed) => {
      const stats = runner.stats;
      writeSummary(counts, stats);
      // The plain closing line that any runner of this repo's CI understands.
      console.log(
        `integration: ${stats?.passes ?? 0} passed, ${failed} failed${stats?.pending ? `, ${stats.pending} skipped` : ''}`,
      );
      resolve(failed);
    });
    // In time for the first test: mocha starts the run on a later turn (setImmediate).
    const counts = countEvents(runner, Mocha.Runner.constants);
  });
  if (failures > 0)
    throw new Error(`${failures} integration test${failures === 1 ? '' : 's'} failed`);
}
