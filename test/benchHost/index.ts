/**
 * The entry VS Code's extension host loads (`--extensionTestsPath`) for the extension
 * benchmark (bench/extension.bench.ts), in place of the mocha suites of
 * test/integration/index.ts: it runs ./measure inside the real extension host and writes
 * its figures as JSON to the file named by DICOMWEB_BENCH_RESULT (an `error` there when
 * it failed, and the run fails).
 */
import { writeFileSync } from 'node:fs';
import { format } from 'node:util';
import { measure } from './measure';

export async function run(): Promise<void> {
  const output = process.env.DICOMWEB_BENCH_RESULT;
  if (!output) throw new Error('DICOMWEB_BENCH_RESULT is not set');
  try {
    const figures = await measure();
    writeFileSync(output, JSON.stringify(figures, null, 2));
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : format(error);
    writeFileSync(output, JSON.stringify({ error: message }, null, 2));
    console.error(`[bench host] ${message}`);
    throw error;
  }
}
