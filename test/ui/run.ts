/**
 * Runs the UI scenarios (out/test/ui/*.ui.js) one after another against a real workbench
 * and prints `N passed, N failed`. Exit code 1 when any failed.
 *
 * Env: DICOMWEB_UI_GREP            only scenarios whose name matches (a regular expression)
 *      DICOMWEB_UI_TIMEOUT_MS      per-scenario timeout (default 180000)
 *      DICOMWEB_TEST_SUMMARY       file the counts are written to as one JSON line
 *                                  ({ passed, failed, failedNames }) for scripts/test.mjs
 * A failed scenario's open pages are saved as test-results/ui/<scenario>.png.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadScenarioFile, type UiScenario } from './scenario';
import { REPO_ROOT, liveWorkbenches, screenshot } from './workbench';

const DEFAULT_TIMEOUT_MS = 180_000;
const FAILURE_SCREENSHOTS = join(REPO_ROOT, 'test-results', 'ui');

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function closeAll(): Promise<void> {
  await Promise.all(liveWorkbenches().map((workbench) => workbench.close()));
}

async function main(): Promise<number> {
  const files = readdirSync(__dirname)
    .filter((name) => name.endsWith('.ui.js'))
    .sort()
    .map((name) => join(__dirname, name));
  const grep = process.env.DICOMWEB_UI_GREP ? new RegExp(process.env.DICOMWEB_UI_GREP) : undefined;
  const scenarios: UiScenario[] = files
    .flatMap(loadScenarioFile)
    .filter((s) => !grep || grep.test(s.name));
  const defaultTimeout = Number(process.env.DICOMWEB_UI_TIMEOUT_MS || DEFAULT_TIMEOUT_MS);

  let passed = 0;
  let failed = 0;
  const failedNames: string[] = [];
  const started = Date.now();
  for (const item of scenarios) {
    const label = `${basename(item.file, '.ui.js')} › ${item.name}`;
    const scenarioStarted = Date.now();
    try {
      await withTimeout(item.run(), item.timeoutMs ?? defaultTimeout, label);
      passed++;
      console.log(`  ✔ ${label} (${((Date.now() - scenarioStarted) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failed++;
      failedNames.push(label);
      console.log(`  ✘ ${label} (${((Date.now() - scenarioStarted) / 1000).toFixed(1)} s)`);
      console.log(
        `    ${(error instanceof Error ? (error.stack ?? error.message) : String(error)).replace(/\n/g, '\n    ')}`,
      );
      for (const [index, workbench] of liveWorkbenches().entries()) {
        if (!workbench.page) continue;
        const file = await screenshot(
          workbench.page,
          `${label}${index ? `-${index}` : ''}`,
          FAILURE_SCREENSHOTS,
        ).catch(() => undefined);
        if (file) console.log(`    screenshot: ${file}`);
      }
    } finally {
      // A scenario that failed half-way must not leave code-server or Chromium behind.
      await closeAll();
    }
  }
  console.log(`UI scenarios finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (scenarios.length === 0) console.log('no UI scenario found');
  console.log(`${passed} passed, ${failed} failed`);
  const summaryFile = process.env.DICOMWEB_TEST_SUMMARY;
  if (summaryFile)
    writeFileSync(summaryFile, `${JSON.stringify({ passed, failed, failedNames })}\n`);
  return failed > 0 || scenarios.length === 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void closeAll().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    await closeAll();
    process.exit(1);
  },
);
