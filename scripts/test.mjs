#!/usr/bin/env node
// `npm test`: everything a fresh Debian machine needs, then every test.
//   1. installs Orthanc + its DICOMweb plugin from Debian when missing (as root),
//   2. builds the extension and compiles the tests,
//   3. starts two real Orthanc servers on 127.0.0.1 (open, and HTTP basic auth),
//   4. runs the linters (ESLint, Prettier's check), the unit tests, the client tests
//      against Orthanc, the integration tests inside a real VS Code (code-server) and the
//      Playwright UI tests,
//   5. stops the servers by PID, also on failure, and prints one closing line
//      `tests: N passed, N failed`, the sum of the counts each suite wrote to its summary
//      file (a JSON line: node:test's through scripts/test-summary-reporter.mjs, the
//      integration suite's from mocha's events, the UI runner's own).
// `--only lint,unit,client,server,vscode,ui` runs a subset (lint, unit and server need no
// Orthanc).
// Outside Debian (README, "Tests on other systems"): DICOMWEB_ORTHANC_URL and
// DICOMWEB_ORTHANC_AUTH_URL (+ _USER, _PASSWORD) name two Orthancs the contributor runs,
// used instead of steps 1 and 3; a suite this machine cannot run fails with one sentence
// saying why and what to do (scripts/platform.mjs), it is never skipped in silence.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runOnRecentNode } from './node24.mjs';
import { ensureNpmDependencies } from './npm-deps.mjs';
import { ensureSystemPackages } from './system-packages.mjs';
import { findOnPath, impossibleSuites, ORTHANC_SUITES, orthancSource } from './platform.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
process.chdir(root);
// A fresh clone has no node_modules: the build below needs esbuild and TypeScript.
ensureNpmDependencies(root);

await runOnRecentNode(import.meta.url);

const onlyIndex = process.argv.indexOf('--only');
const ALL = ['lint', 'unit', 'client', 'server', 'vscode', 'ui'];
const suites = onlyIndex >= 0 ? process.argv[onlyIndex + 1].split(',') : ALL;
for (const suite of suites) {
  if (!ALL.includes(suite)) {
    console.error(`unknown suite "${suite}"; expected one of ${ALL.join(', ')}`);
    process.exit(2);
  }
}

const totals = { passed: 0, failed: 0 };
const failures = [];

// A suite this machine cannot run fails with the sentence that says why and what to do;
// it is never skipped in silence (README, "Tests on other systems").
for (const { suite, message } of impossibleSuites(suites)) {
  failures.push(`${suite}: ${message}`);
}
let runnable = suites.filter(
  (suite) => !failures.some((failure) => failure.startsWith(`${suite}:`)),
);
const orthanc = runnable.some((suite) => ORTHANC_SUITES.includes(suite))
  ? orthancSource({
      env: process.env,
      orthancInstalled:
        existsSync('/usr/sbin/Orthanc') &&
        existsSync('/usr/share/orthanc/plugins/libOrthancDicomWeb.so'),
      aptGet: Boolean(findOnPath('apt-get')),
      root: process.getuid?.() === 0,
      sudo: Boolean(findOnPath('sudo')),
    })
  : undefined;
if (orthanc?.kind === 'unavailable') {
  for (const suite of runnable.filter((s) => ORTHANC_SUITES.includes(s)))
    failures.push(`${suite}: ${orthanc.message}`);
  runnable = runnable.filter((suite) => !ORTHANC_SUITES.includes(suite));
}
if (runnable.length === 0) {
  for (const failure of failures) console.log(`FAILED: ${failure}`);
  console.log('tests: 0 passed, 0 failed');
  process.exit(1);
}
// Said now, before the build and the suites that can run; repeated in the closing lines.
for (const failure of failures) console.error(`cannot run ${failure}`);
const needsServer = orthanc !== undefined && orthanc.kind !== 'unavailable';

function step(title) {
  console.log(`\n=== ${title} ===`);
}

function runSync(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  }
}

/**
 * Where each suite writes its counts (a JSON line), read back once it has exited: a folder
 * of this run's own, so that another `npm test` on the machine cannot replace or delete them.
 */
const SUMMARIES = mkdtempSync(join(tmpdir(), 'dicomweb-test-summaries-'));
process.on('exit', () => rmSync(SUMMARIES, { recursive: true, force: true }));

/**
 * Runs a test command and relays its output. The suite writes its counts as JSON to the file
 * named by DICOMWEB_TEST_SUMMARY ({ passed, failed, ... }); a suite that exits without one,
 * or that ran no test, fails.
 */
function runSuite(name, command, args, env) {
  const summaryFile = join(SUMMARIES, `${name}.json`);
  return new Promise((resolvePromise) => {
    const child = spawn(command, args(summaryFile), {
      env: { ...process.env, ...env, DICOMWEB_TEST_SUMMARY: summaryFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => process.stdout.write(chunk));
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    child.on('close', (code, signal) => {
      const { counts, problem } = readSummary(summaryFile);
      totals.passed += counts.passed;
      totals.failed += counts.failed;
      const ok = code === 0 && counts.failed === 0 && !problem;
      if (code !== 0 || counts.failed > 0)
        failures.push(`${name} (exit ${code ?? signal}, ${counts.failed} failed)`);
      if (problem) failures.push(`${name}: ${problem}`);
      resolvePromise(ok);
    });
  });
}

/**
 * A suite's counts from its summary file: { passed, failed, cancelled?, runnerTotals? }. A
 * test node:test cancelled (its timeout, or its parent ended first) did not pass: it counts
 * as failed here. runnerTotals, where given, are the runner's own figures of the same run
 * (node:test's closing summary, mocha's stats), which the counting must agree with.
 */
function readSummary(file) {
  const none = { passed: 0, failed: 0 };
  if (!existsSync(file)) return { counts: none, problem: `wrote no summary (${file})` };
  let summary;
  try {
    summary = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { counts: none, problem: `its summary ${file} is not JSON: ${error.message}` };
  }
  const counts = {
    passed: Number(summary.passed) || 0,
    failed: (Number(summary.failed) || 0) + (Number(summary.cancelled) || 0),
  };
  if (counts.passed + counts.failed === 0) return { counts, problem: 'ran no test' };
  // A skipped test checks nothing while the run reads green. The one deliberate skip, the
  // OS-store suite, happens only in desktop VS Code off Linux (no such store to fill there).
  const skipped =
    (Number(summary.skipped) || 0) + (Number(summary.todo) || 0) + (Number(summary.pending) || 0);
  if (skipped > 0 && !process.env.DICOMWEB_USE_DESKTOP_VSCODE)
    return { counts, problem: `skipped ${skipped} test(s): a skipped test checks nothing` };
  const own = summary.runnerTotals;
  if (own && (own.passed !== counts.passed || own.failed !== counts.failed))
    return {
      counts,
      problem: `counted ${counts.passed} passed, ${counts.failed} failed, but the runner's own totals are ${own.passed} passed, ${own.failed} failed`,
    };
  return { counts };
}

/**
 * The compiled test files in `dir` under node:test, with the spec reporter on the console and
 * the counting one into the summary.
 */
async function runNodeTests(name, dir, options, env) {
  const files = testFiles(dir);
  // Named no file, `node --test` would look for tests by its own patterns from the working
  // folder, and find this very script (scripts/test.mjs) among them.
  if (files.length === 0) {
    failures.push(`${name}: no compiled test file in ${dir}`);
    return;
  }
  const reporter = pathToFileURL(join(root, 'scripts', 'test-summary-reporter.mjs')).href;
  await runSuite(
    name,
    process.execPath,
    (summaryFile) => [
      '--test',
      ...options,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${reporter}`,
      `--test-reporter-destination=${summaryFile}`,
      ...files,
    ],
    env,
  );
}

/**
 * The code the linters read (as `npm run lint` does): named, not `.`, so that whatever else a
 * checkout holds (a contributor's compiled copy, a coverage folder) is not read as ours.
 */
const LINTED = ['src', 'webview', 'test', 'bench', 'scripts', 'eslint.config.mjs'];

/**
 * ESLint (eslint.config.mjs) and Prettier's check (.prettierrc.json, .prettierignore) over
 * LINTED: any error fails the run. Not tests: they add to no count.
 */
function lint() {
  step('lint (ESLint, Prettier --check)');
  const checks = [
    ['eslint', ['node_modules/eslint/bin/eslint.js', ...LINTED]],
    ['prettier --check', ['node_modules/prettier/bin/prettier.cjs', '--check', ...LINTED]],
  ];
  for (const [name, args] of checks) {
    const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (result.status !== 0)
      failures.push(`lint: ${name} exited with ${result.status ?? result.signal}`);
    else console.log(`${name}: clean`);
  }
}

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const files = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...testFiles(path));
    else if (entry.endsWith('.test.js')) files.push(path);
  }
  return files.sort();
}

/** Largest VSIX we ship (issue 11): the package holds only what runs. */
const MAX_VSIX_BYTES = 2 * 1024 * 1024;

/** `vsce package` as `npm run package` runs it (its prepublish makes the production build). */
function packageVsix() {
  step('package the VSIX (vsce package)');
  const out = join(root, '.test-work', 'dicomweb-explorer.vsix');
  mkdirSync(dirname(out), { recursive: true });
  rmSync(out, { force: true });
  const result = spawnSync(
    process.execPath,
    ['node_modules/@vscode/vsce/vsce', 'package', '--out', out],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.status !== 0)
    throw new Error(`vsce package exited with ${result.status ?? result.signal}`);
  // A user's `npm run package` must be clean: vsce's warnings (missing fields, large or
  // unexpected files) are failures here.
  const warnings = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => /\bWARNING\b/.test(line));
  if (warnings.length) throw new Error(`vsce package warned:\n${warnings.join('\n')}`);
  const bytes = statSync(out).size;
  console.log(`VSIX: ${out} (${(bytes / 1024).toFixed(1)} KiB)`);
  if (bytes > MAX_VSIX_BYTES)
    throw new Error(`the VSIX is ${bytes} bytes, over the ${MAX_VSIX_BYTES}-byte limit`);
  return out;
}

/**
 * The two Orthancs the client, vscode and ui suites talk to, as the DICOMWEB_TEST_*
 * variables test/support/env.ts reads: the contributor's own (checked, not started), or
 * two started here from Debian's packages on 127.0.0.1 and stopped by PID at the end.
 */
async function provideOrthancs(servers) {
  step(orthanc.kind === 'given' ? 'checking your Orthancs' : 'starting Orthanc');
  const support = await import(pathToFileURL(join(root, 'out/test/support/orthanc.js')).href);
  let open;
  let secured;
  if (orthanc.kind === 'given') {
    const { open: openUrls, secured: securedUrls } = orthanc;
    open = await support.checkExistingOrthanc(openUrls, 'DICOMWEB_ORTHANC_URL');
    secured = await support.checkExistingOrthanc(
      {
        restUrl: securedUrls.restUrl,
        dicomWebUrl: securedUrls.dicomWebUrl,
        basicAuth: { username: securedUrls.username, password: securedUrls.password },
      },
      'DICOMWEB_ORTHANC_AUTH_URL',
    );
    console.log(`Orthanc (yours): ${open.dicomWebUrl}, basic auth: ${secured.dicomWebUrl}`);
    const held = [open, secured]
      .filter((o) => o.patients > 0)
      .map((o) => `${o.restUrl} holds ${o.patients} patients`);
    console.log(
      `The tests delete every study on both${held.length ? ` (${held.join('; ')})` : ''}: point these variables only at throwaway Orthancs.`,
    );
  } else {
    open = await support.startOrthanc({ name: 'open' });
    servers.push(open);
    const basicAuth = {
      username: 'dicomweb',
      password: `pw-${Math.random().toString(36).slice(2)}`,
    };
    secured = await support.startOrthanc({ name: 'basic-auth', basicAuth });
    servers.push(secured);
    console.log(
      `Orthanc: ${open.dicomWebUrl} (pid ${open.pid}), basic auth: ${secured.dicomWebUrl} (pid ${secured.pid})`,
    );
  }
  return {
    DICOMWEB_TEST_URL: open.dicomWebUrl,
    DICOMWEB_TEST_REST_URL: open.restUrl,
    DICOMWEB_TEST_AUTH_URL: secured.dicomWebUrl,
    DICOMWEB_TEST_AUTH_REST_URL: secured.restUrl,
    DICOMWEB_TEST_AUTH_USER: secured.basicAuth.username,
    DICOMWEB_TEST_AUTH_PASSWORD: secured.basicAuth.password,
  };
}

async function main() {
  // Debian's Orthanc (CI): installed when missing; a contributor's own Orthanc needs nothing.
  // dcmtk: dcmdump reads de-identified files in the unit suite (test/unit/deidentify.test.ts).
  if (needsServer && orthanc.kind !== 'given') ensureSystemPackages();
  else if (runnable.includes('unit')) ensureSystemPackages(console.log, ['dcmtk']);

  // First, and needing no build: a lint error is the quickest failure to read.
  if (runnable.includes('lint')) lint();
  if (runnable.every((suite) => suite === 'lint')) return finish();

  step('build');
  runSync(process.execPath, ['scripts/build.mjs']);
  // A fresh out/: a compiled file whose source moved or was deleted must not stay importable.
  rmSync('out', { recursive: true, force: true });
  runSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.test.json']);
  runSync(process.execPath, [
    'node_modules/typescript/bin/tsc',
    '-p',
    'webview/tsconfig.json',
    '--noEmit',
  ]);
  // The benchmark is bundled by esbuild (no type check there): check its types here.
  runSync(process.execPath, [
    'node_modules/typescript/bin/tsc',
    '-p',
    'bench/tsconfig.json',
    '--noEmit',
  ]);

  // The VS Code suites run the package a user installs (test/vscode/installVsix.ts).
  const vsix = runnable.includes('vscode') || runnable.includes('ui') ? packageVsix() : undefined;

  const servers = [];
  const stopAll = async () => {
    for (const server of servers.splice(0)) await server.stop().catch(() => undefined);
  };
  const onSignal = (signal) => {
    stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const env = vsix ? { DICOMWEB_TEST_VSIX: vsix } : {};
    if (needsServer) Object.assign(env, await provideOrthancs(servers));

    if (runnable.includes('unit')) {
      step('unit tests');
      await runNodeTests('unit', 'out/test/unit', [], env);
    }
    if (runnable.includes('client')) {
      step('client tests against Orthanc');
      // One file at a time: the files share the Orthanc server and assert on what it holds.
      await runNodeTests('client', 'out/test/client', ['--test-concurrency=1'], env);
    }
    if (runnable.includes('server')) {
      step('local DICOMweb server tests');
      await runNodeTests('server', 'out/test/server', ['--test-concurrency=1'], env);
    }
    if (runnable.includes('vscode')) {
      step('integration tests in a real VS Code (code-server)');
      if (existsSync('out/test/vscode/runIntegration.js')) {
        // The summary is written by test/integration/index.ts inside the extension host, which
        // runIntegration passes every DICOMWEB_* variable on to.
        await runSuite(
          'vscode',
          process.execPath,
          () => ['out/test/vscode/runIntegration.js'],
          env,
        );
      } else {
        failures.push('vscode: out/test/vscode/runIntegration.js is missing');
      }
    }
    if (runnable.includes('ui')) {
      step('UI tests (Playwright, real workbench)');
      if (existsSync('out/test/ui/run.js')) {
        await runSuite('ui', process.execPath, () => ['out/test/ui/run.js'], env);
      } else {
        failures.push('ui: out/test/ui/run.js is missing');
      }
    }
  } finally {
    await stopAll();
  }
  finish();
}

/** The closing lines: every failure, then the one line of counts. */
function finish() {
  console.log('');
  for (const failure of failures) console.log(`FAILED: ${failure}`);
  console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
  process.exit(failures.length === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
