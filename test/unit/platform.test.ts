/**
 * The contributor scripts on every OS (issue 11): `npm start` finds desktop VS Code's `code`
 * without a POSIX shell, runs `code.cmd` through cmd.exe with quoted words on Windows, and
 * says in one sentence what to do where neither VS Code can be opened; `npm test` installs
 * the npm packages of a fresh clone. Each platform's branch runs here on Linux.
 */
import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { makeTempDir } from '../support/tempDirs';

const ROOT = join(__dirname, '..', '..', '..');

interface PlatformModule {
  findOnPath(
    command: string,
    options?: {
      platform?: string;
      env?: Record<string, string | undefined>;
      exists?: (path: string) => boolean;
    },
  ): string | undefined;
  needsShell(path: string, platform?: string): boolean;
  quoteForCmd(word: string): string;
  codeServerSupported(platform?: string, arch?: string): boolean;
  noVsCodeHint(platform?: string, arch?: string): string;
}
interface NpmDepsModule {
  npmInstallNeeded(root: string): boolean;
  npmCommand(platform?: string): { command: string; shell: boolean };
}

const load = <T>(name: string): Promise<T> =>
  import(pathToFileURL(join(ROOT, 'scripts', name)).href) as Promise<T>;

describe('npm start finds VS Code on any OS', () => {
  it('finds code on a POSIX PATH, first directory wins, missing gives undefined', async () => {
    const { findOnPath } = await load<PlatformModule>('platform.mjs');
    const present = new Set(['/opt/b/code', '/usr/bin/code']);
    const exists = (path: string) => present.has(path);
    assert.equal(
      findOnPath('code', { platform: 'linux', env: { PATH: '/opt/a:/opt/b:/usr/bin' }, exists }),
      '/opt/b/code',
    );
    assert.equal(
      findOnPath('code', { platform: 'linux', env: { PATH: '/opt/a' }, exists }),
      undefined,
    );
    assert.equal(findOnPath('code', { platform: 'darwin', env: {}, exists }), undefined);
  });

  it('finds code.cmd on Windows through PATHEXT and the Path spelling', async () => {
    const { findOnPath, needsShell } = await load<PlatformModule>('platform.mjs');
    const wanted = 'C:\\Program Files\\Microsoft VS Code\\bin\\code.cmd';
    const exists = (path: string) => path === wanted;
    const found = findOnPath('code', {
      platform: 'win32',
      env: {
        Path: 'C:\\Windows;C:\\Program Files\\Microsoft VS Code\\bin\\',
        PATHEXT: '.COM;.EXE;.BAT;.CMD',
      },
      exists,
    });
    assert.equal(found, wanted);
    assert.equal(needsShell(found!, 'win32'), true);
    assert.equal(needsShell('/usr/bin/code', 'linux'), false);
    assert.equal(needsShell('C:\\VSCode\\Code.exe', 'win32'), false);
  });

  it('quotes words for cmd.exe so paths with spaces stay one word', async () => {
    const { quoteForCmd } = await load<PlatformModule>('platform.mjs');
    assert.equal(quoteForCmd('C:\\Users\\Mary Ann\\.demo'), '"C:\\Users\\Mary Ann\\.demo"');
    assert.equal(quoteForCmd('say "hi"'), '"say ""hi"""');
  });

  it('offers code-server only on linux-x64 and otherwise says what to do in one sentence', async () => {
    const { codeServerSupported, noVsCodeHint } = await load<PlatformModule>('platform.mjs');
    assert.equal(codeServerSupported('linux', 'x64'), true);
    assert.equal(codeServerSupported('darwin', 'arm64'), false);
    assert.equal(codeServerSupported('win32', 'x64'), false);
    for (const [platform, arch, hint] of [
      ['darwin', 'arm64', /Shell Command: Install 'code' command in PATH/],
      ['win32', 'x64', /Add to PATH/],
      ['linux', 'arm64', /install VS Code/],
    ] as const) {
      const text = noVsCodeHint(platform, arch);
      assert.match(text, hint);
      assert.match(text, new RegExp(`${platform}-${arch}`));
      assert.doesNotMatch(
        text,
        /DICOMWEB_USE_DESKTOP_VSCODE/,
        'the hint names what a user does, not a test variable',
      );
      assert.equal(
        text.split(/[.!?](\s|$)/).filter((part) => part && part.trim()).length,
        1,
        `one sentence: ${text}`,
      );
    }
  });
});

describe('npm test on a fresh clone installs the npm packages first', () => {
  it('needs an install without node_modules, or when the lockfile is newer than the install', async () => {
    const { npmInstallNeeded } = await load<NpmDepsModule>('npm-deps.mjs');
    const clone = makeTempDir('dicomweb-fresh-clone-');
    writeFileSync(join(clone, 'package-lock.json'), '{}');
    assert.equal(npmInstallNeeded(clone), true, 'no node_modules');
    mkdirSync(join(clone, 'node_modules'));
    writeFileSync(join(clone, 'node_modules', '.package-lock.json'), '{}');
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(clone, 'package-lock.json'), past, past);
    assert.equal(npmInstallNeeded(clone), false, 'installed after the lockfile was written');
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(clone, 'package-lock.json'), future, future);
    assert.equal(npmInstallNeeded(clone), true, 'the lockfile changed after the install (a pull)');
  });

  it('runs npm through a shell on Windows only (npm.cmd)', async () => {
    const { npmCommand } = await load<NpmDepsModule>('npm-deps.mjs');
    assert.deepEqual(npmCommand('win32'), { command: 'npm', shell: true });
    assert.deepEqual(npmCommand('linux'), { command: 'npm', shell: false });
  });
});
