/**
 * UI test harness: the real VS Code workbench (code-server) with the built extension
 * installed, driven by Playwright in headless Chromium, the way a person would use it.
 *
 * Unlike the integration launcher, this code-server runs WITHOUT the smoke-test driver
 * flag (that flag suppresses notification toasts), and the extension is installed from
 * its built folder (package.json + dist + media) rather than loaded for development.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { installVsix, packagedVsix } from '../vscode/installVsix';

export const REPO_ROOT = join(__dirname, '..', '..', '..');
/**
 * Where screenshots go: test-results/screenshots/ on every run (so a test run leaves the
 * work tree clean), docs/screenshots/ (the README's images) when
 * DICOMWEB_UPDATE_SCREENSHOTS=1.
 */
export const SCREENSHOT_DIR =
  process.env.DICOMWEB_UPDATE_SCREENSHOTS === '1'
    ? join(REPO_ROOT, 'docs', 'screenshots')
    : join(REPO_ROOT, 'test-results', 'screenshots');
const WORKSPACE_FIXTURE = join(REPO_ROOT, 'test', 'integration', 'fixtures', 'workspace');

/** Chromium flags that keep it quiet on a closed network and work as root in a container. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** User settings that keep the workbench quiet and deterministic; `settings` override them. */
const BASE_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'window.commandCenter': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  // VS Code 1.139 opens some editors (settings.json) in a modal that swallows F1.
  'workbench.editor.useModal': 'off',
};

interface VsCodeTestEnv {
  codeServer: string;
  chromium: string;
}

export interface WorkbenchOptions {
  /** Contents of the user's settings.json, e.g. `{ 'dicomweb.servers': [...] }`. */
  settings?: Record<string, unknown>;
  /** Folder to open; by default a fresh copy of test/integration/fixtures/workspace. */
  workspaceFolder?: string;
  /** Install the extension as a symlink to the built folder instead of a copy. */
  linkExtension?: boolean;
  /** Extra environment for code-server and so for the extension host. */
  env?: Record<string, string>;
  viewport?: { width: number; height: number };
  /** How long to wait for the workbench to appear (default 60 s). */
  startTimeoutMs?: number;
}

export interface Workbench {
  page: Page;
  browser: Browser;
  /** The workbench URL (code-server on 127.0.0.1). */
  url: string;
  workspaceFolder: string;
  extensionsDir: string;
  userDataDir: string;
  /** code-server's log, kept until `close()`. */
  logFile: string;
  /** Closes the browser, kills code-server's process group and removes the temp folder. */
  close(): Promise<void>;
}

const openWorkbenches = new Set<Workbench>();

/** Workbenches started and not yet closed (the runner closes leftovers after a scenario). */
export function liveWorkbenches(): Workbench[] {
  return [...openWorkbenches];
}

async function loadVsCodeTestEnv(): Promise<VsCodeTestEnv> {
  const moduleUrl = pathToFileURL(join(REPO_ROOT, 'scripts', 'vscode-env.mjs')).href;
  const { ensureVsCodeTestEnv } = (await import(moduleUrl)) as {
    ensureVsCodeTestEnv: () => VsCodeTestEnv;
  };
  return ensureVsCodeTestEnv();
}

/** Puts the built extension where code-server looks for installed extensions. */
function installBuiltExtension(extensionsDir: string, link: boolean): string {
  if (!existsSync(join(REPO_ROOT, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: run `npm run build` first');
  }
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    publisher: string;
    name: string;
    version: string;
  };
  const target = join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
  mkdirSync(extensionsDir, { recursive: true });
  if (link) {
    symlinkSync(REPO_ROOT, target, 'dir');
  } else {
    mkdirSync(target);
    for (const entry of ['package.json', 'dist', 'media', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
      const source = join(REPO_ROOT, entry);
      if (existsSync(source)) cpSync(source, join(target, entry), { recursive: true });
    }
  }
  return target;
}

/** Kills a detached child's whole process group (server, extension host, watchers). */
function killProcessGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  const pid = child.pid;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  return new Promise((resolve) => {
    const hardKill = setTimeout(() => signalGroup('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(hardKill);
      signalGroup('SIGKILL'); // Children that outlive the leader.
      resolve();
    });
    signalGroup('SIGTERM');
  });
}

/** Starts code-server on 127.0.0.1 with an OS-chosen port; resolves with that port. */
function startCodeServer(
  codeServer: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
): { child: ChildProcess; port: Promise<number> } {
  const child = spawn(codeServer, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  const port = new Promise<number>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      if (process.env.DICOMWEB_VSCODE_VERBOSE === '1') process.stderr.write(chunk);
      seen = (seen + chunk.toString()).slice(-8192);
      const match = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(seen);
      if (match) resolve(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`code-server exited before listening (${code ?? signal}); see ${logFile}`)),
    );
  });
  return { child, port };
}

/**
 * Starts a code-server with the built extension installed and the given user settings,
 * opens it in headless Chromium and waits for the workbench.
 */
export async function startWorkbench(options: WorkbenchOptions = {}): Promise<Workbench> {
  const tools = await loadVsCodeTestEnv();
  const tempDir = mkdtempSync(join(tmpdir(), 'dicomweb-ui-'));
  const dirs = {
    config: join(tempDir, 'config'),
    data: join(tempDir, 'data'),
    tmp: join(tempDir, 'tmp'),
    userData: join(tempDir, 'user-data'),
    extensions: join(tempDir, 'extensions'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const logFile = join(tempDir, 'code-server.log');

  let workspaceFolder = options.workspaceFolder;
  if (!workspaceFolder) {
    workspaceFolder = join(tempDir, 'workspace');
    cpSync(WORKSPACE_FIXTURE, workspaceFolder, { recursive: true });
  }
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(
    join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify({ ...BASE_SETTINGS, ...options.settings }, null, 2),
  );
  // `npm test` packages the extension and the UI runs what a user installs; run on its own,
  // the suite falls back to a copy of the built folder.
  const vsix = options.linkExtension ? undefined : packagedVsix();
  if (vsix) installVsix(tools.codeServer, vsix, dirs.extensions, join(REPO_ROOT, 'package.json'));
  else installBuiltExtension(dirs.extensions, options.linkExtension ?? false);
  const configFile = join(dirs.config, 'code-server.yaml');
  writeFileSync(configFile, '');

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    TMPDIR: dirs.tmp,
  };
  for (const name of Object.keys(env)) {
    if (name.startsWith('VSCODE_') || name === 'ELECTRON_RUN_AS_NODE') delete env[name];
  }
  const server = startCodeServer(
    tools.codeServer,
    [
      '--bind-addr',
      '127.0.0.1:0',
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--reconnection-grace-time',
      '5',
      '--user-data-dir',
      dirs.userData,
      '--extensions-dir',
      dirs.extensions,
      '--config',
      configFile,
      '--ignore-last-opened',
    ],
    env,
    logFile,
  );

  let browser: Browser | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    openWorkbenches.delete(workbench);
    await browser?.close().catch(() => undefined);
    await killProcessGroup(server.child);
    rmSync(tempDir, { recursive: true, force: true, maxRetries: 3 });
  };
  // Filled in below; `close` needs the reference for the registry.
  const workbench = { close } as Workbench;
  openWorkbenches.add(workbench);

  try {
    const port = await server.port;
    browser = await chromium.launch({
      executablePath: tools.chromium,
      headless: true,
      args: CHROMIUM_ARGS,
      env: { ...process.env, TMPDIR: dirs.tmp },
    });
    const page = await browser.newPage({
      viewport: options.viewport ?? { width: 1400, height: 900 },
    });
    const url = `http://127.0.0.1:${port}/?${new URLSearchParams({ folder: workspaceFolder }).toString()}`;
    await page.goto(url);
    await page
      .locator('.monaco-workbench')
      .waitFor({ state: 'visible', timeout: options.startTimeoutMs ?? 60_000 });
    await page
      .locator('.part.activitybar')
      .waitFor({ state: 'visible', timeout: options.startTimeoutMs ?? 60_000 });
    Object.assign(workbench, {
      page,
      browser,
      url,
      workspaceFolder,
      extensionsDir: dirs.extensions,
      userDataDir: dirs.userData,
      logFile,
    });
    return workbench;
  } catch (error) {
    const log = existsSync(logFile)
      ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n')
      : '';
    await close();
    throw new Error(
      `the workbench did not start: ${error instanceof Error ? error.message : String(error)}\ncode-server log (tail):\n${log}`,
    );
  }
}

/** The command palette's input, once open. */
function quickInput(page: Page): Locator {
  return page.locator('.quick-input-widget .quick-input-box input');
}

/**
 * Opens the command palette with F1. The first key can land before the keybinding service
 * is ready, so F1 is pressed once more; a modal editor (e.g. settings.json in VS Code
 * 1.139) does not pass F1 on, so Ctrl+Shift+P comes last.
 */
async function openCommandPalette(page: Page, timeoutMs: number): Promise<Locator> {
  const input = quickInput(page);
  const keys = ['F1', 'F1', 'Control+Shift+P'];
  for (const [index, key] of keys.entries()) {
    await page.keyboard.press(key);
    try {
      await input.waitFor({
        state: 'visible',
        timeout: index === keys.length - 1 ? timeoutMs : 3000,
      });
      return input;
    } catch (error) {
      if (index === keys.length - 1) throw error;
    }
  }
  return input;
}

/**
 * Runs a command by its palette title (e.g. `View: Show Explorer`) through F1, as a person
 * would. The palette lists the commands registered when it opens, and contributions keep
 * arriving while the workbench and extension host start, so a title that is not offered
 * yet is looked for again, in a fresh palette, until `timeoutMs`.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const rows = page.locator('.quick-input-widget .monaco-list-row');
  const exact = rows
    .filter({ has: page.locator('.label-name', { hasText: title }) })
    .filter({ has: page.getByText(title, { exact: true }) })
    .first();
  for (;;) {
    const input = await openCommandPalette(page, timeoutMs);
    await input.fill(`>${title}`);
    try {
      await exact.waitFor({ state: 'visible', timeout: 2000 });
      await exact.click();
      await input.waitFor({ state: 'hidden', timeout: timeoutMs });
      return;
    } catch (error) {
      const offered = (await rows.allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) {
        throw new Error(
          `command "${title}" did not appear in the command palette within ${timeoutMs} ms; it offered: ${offered.join(' | ') || 'nothing'} (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
        );
      }
      await input.waitFor({ state: 'hidden', timeout: 2000 }).catch(() => undefined);
      await page.waitForTimeout(500);
    }
  }
}

/**
 * Opens a view container by its activity-bar entry (e.g. `Explorer`, `DICOMweb`) and
 * waits for the side bar to show it. An entry that is already open is left open.
 */
export async function openViewContainer(
  page: Page,
  title: string,
  timeoutMs = 15_000,
): Promise<void> {
  const entry = page
    .locator(
      `.part.activitybar .action-item:has(a.action-label[aria-label^="${title.replace(/"/g, '\\"')}"])`,
    )
    .first();
  await entry.waitFor({ state: 'visible', timeout: timeoutMs });
  const checked = await entry.evaluate((element) => element.classList.contains('checked'));
  const sidebarVisible = await page.locator('.part.sidebar').isVisible();
  if (!checked || !sidebarVisible) await entry.click();
  await page
    .locator('.part.sidebar .composite.title h2', {
      hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i'),
    })
    .waitFor({ state: 'visible', timeout: timeoutMs });
}

export interface TreeRow {
  /** The visible text of the row (label and description). */
  text: string;
  ariaLabel: string;
  /** 1 for top-level rows. */
  level: number;
  /** undefined for leaves. */
  expanded: boolean | undefined;
  locator: Locator;
}

/** The rows currently rendered in the side bar's trees and lists, top to bottom. */
export async function treeRows(page: Page): Promise<TreeRow[]> {
  const rows = page.locator('.part.sidebar .monaco-list-row');
  const count = await rows.count();
  const result: TreeRow[] = [];
  for (let i = 0; i < count; i++) {
    const locator = rows.nth(i);
    const [text, ariaLabel, level, expanded] = await Promise.all([
      locator.innerText(),
      locator.getAttribute('aria-label'),
      locator.getAttribute('aria-level'),
      locator.getAttribute('aria-expanded'),
    ]);
    result.push({
      text: text.replace(/\s+/g, ' ').trim(),
      ariaLabel: ariaLabel ?? '',
      level: Number(level ?? 1),
      expanded: expanded === null ? undefined : expanded === 'true',
      locator,
    });
  }
  return result;
}

/** Waits for a notification toast containing `text` and returns the toast's full text. */
export async function waitForNotification(
  page: Page,
  text: string | RegExp,
  timeoutMs = 15_000,
): Promise<string> {
  const toast = page
    .locator('.notifications-toasts .notification-toast', { hasText: text })
    .first();
  await toast.waitFor({ state: 'visible', timeout: timeoutMs });
  return (await toast.innerText()).replace(/\s+/g, ' ').trim();
}

/** Saves a PNG of the page as docs/screenshots/<name>.png and returns its path. */
export async function screenshot(
  page: Page,
  name: string,
  directory = SCREENSHOT_DIR,
): Promise<string> {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file });
  return file;
}
