/**
 * A bench's measuring code run inside code-server's extension host, the way the
 * extension-host tests run (test/vscode/code-server-launcher): the entry under
 * test/benchHost/ is bundled, code-server starts on an empty workspace with the extension
 * under development and no other (but what the extensions folder holds), and the host writes
 * its figures as JSON to DICOMWEB_BENCH_RESULT, or `{ error }` when it failed.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { round } from './stats';
import type { BenchContext } from './types';

/** The repository's root: the bench runs bundled from out/bench/, or from its source. */
export const ROOT = ((): string => {
  for (const candidate of [
    resolve(__dirname, '..', '..'),
    resolve(__dirname, '..'),
    process.cwd(),
  ]) {
    if (
      existsSync(join(candidate, 'package.json')) &&
      existsSync(join(candidate, 'scripts', 'build.mjs'))
    )
      return candidate;
  }
  return process.cwd();
})();
const LAUNCHER = join(ROOT, 'test', 'vscode', 'code-server-launcher');

export interface HostRun {
  /** The measuring code: a file of test/benchHost/ ('index.ts', 'thumbnails.ts'). */
  entry: string;
  /** The extension's folder (the checkout, or a packaged copy). */
  extensionDevelopmentPath: string;
  /** What the host reads besides its result file and its timeout. */
  env: Record<string, string>;
  /** How long the host's run may take (DICOMWEB_VSCODE_TEST_TIMEOUT_MS). */
  timeoutMs: number;
  /** Said in the log as code-server starts. */
  label?: string;
}

/** Runs `run.entry` in code-server's extension host; its figures, or the error it reported. */
export async function runInCodeServer<T>(ctx: BenchContext, run: HostRun): Promise<T> {
  const esbuild = await import('esbuild');
  const hostDir = join(ctx.tmpDir, 'host');
  await esbuild.build({
    entryPoints: [join(ROOT, 'test', 'benchHost', run.entry)],
    outfile: join(hostDir, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    logLevel: 'warning',
  });
  const workspace = join(ctx.tmpDir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const resultFile = join(ctx.tmpDir, 'host-result.json');
  rmSync(resultFile, { force: true });
  const { runTests } = await import('@vscode/test-electron');
  ctx.log(`starting code-server with the extension${run.label ? ` (${run.label})` : ''}`);
  const started = performance.now();
  let failure: unknown;
  try {
    await runTests({
      vscodeExecutablePath: LAUNCHER,
      extensionDevelopmentPath: run.extensionDevelopmentPath,
      extensionTestsPath: join(hostDir, 'index.js'),
      launchArgs: [
        workspace,
        '--disable-extensions',
        `--user-data-dir=${join(ctx.tmpDir, 'user-data')}`,
        `--extensions-dir=${join(ctx.tmpDir, 'extensions')}`,
      ],
      extensionTestsEnv: {
        ...run.env,
        DICOMWEB_BENCH_RESULT: resultFile,
        DICOMWEB_VSCODE_TEST_TIMEOUT_MS: String(run.timeoutMs),
      },
    });
  } catch (error) {
    failure = error;
  }
  ctx.log(`code-server run ended after ${round((performance.now() - started) / 1000)} s`);
  if (!existsSync(resultFile) || statSync(resultFile).size === 0) {
    throw new Error(
      `the extension host wrote no result${failure ? `: ${failure instanceof Error ? failure.message : String(failure)}` : ''}`,
    );
  }
  const figures = JSON.parse(readFileSync(resultFile, 'utf8')) as T & { error?: string };
  if (figures.error) throw new Error(`in the extension host: ${figures.error}`);
  return figures;
}
