// The npm dependencies of a fresh clone: `npm start` and `npm test` are the README's first
// two commands and must work with nothing run before them, so both install what the
// lockfile names when node_modules is missing or older than the lockfile.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** True when `npm ci` has to run: no install yet, or the lockfile changed since (a pull). */
export function npmInstallNeeded(root) {
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(installed)) return true;
  return statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs;
}

/** The npm command line for this platform: Windows ships npm as `npm.cmd`, which needs a shell. */
export function npmCommand(platform = process.platform) {
  return { command: 'npm', shell: platform === 'win32' };
}

export function ensureNpmDependencies(root) {
  if (!npmInstallNeeded(root)) return;
  console.log('Installing the npm dependencies (npm ci)…');
  const { command, shell } = npmCommand();
  const result = spawnSync(command, ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
    shell,
  });
  if (result.error)
    throw new Error(`npm could not be started (${result.error.message}); is npm on the PATH?`);
  if (result.status !== 0)
    throw new Error(`npm ci exited with ${result.status ?? result.signal}; see its output above`);
}
