/**
 * Runs the integration suites (out/test/integration) inside a real VS Code.
 *
 * By default that VS Code is code-server driven by headless Chromium, through
 * test/vscode/code-server-launcher (installs its tools on first use, see
 * scripts/vscode-env.mjs). A developer with desktop VS Code can run the same suites in
 * Electron instead:
 *   DICOMWEB_USE_DESKTOP_VSCODE=1            download VS Code (DICOMWEB_VSCODE_VERSION,
 *                                            default "stable") with @vscode/test-electron
 *   DICOMWEB_VSCODE_EXECUTABLE=/path/to/code use that VS Code executable
 * Every DICOMWEB_* variable (e.g. DICOMWEB_TEST_URL) reaches the extension host.
 * In code-server (Linux) the extension host's operating-system certificate store also
 * holds the test CA (test/support/tls): SSL_CERT_FILE names a bundle of the machine's
 * store plus that CA, so a test reaches a TLS server trusted only through
 * `http.systemCertificates` without touching /etc/ssl (DICOMWEB_TEST_SYSTEM_CA names it).
 * Exit code: 0 when every test passed.
 */
import { runTests, TestRunFailedError } from '@vscode/test-electron';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { installVsix, packagedVsix } from './installVsix';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const LAUNCHER = join(REPO_ROOT, 'test', 'vscode', 'code-server-launcher');
const WORKSPACE_FIXTURE = join(REPO_ROOT, 'test', 'integration', 'fixtures', 'workspace');

function testEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('DICOMWEB_') && value !== undefined) env[name] = value;
  }
  // The activation suite checks that this arrives, proving the environment is passed through.
  env.DICOMWEB_INTEGRATION_RUN_ID = randomUUID();
  return env;
}

/**
 * SSL_CERT_FILE for the extension host: on Linux Node reads the OS store from OpenSSL's
 * default locations, which this variable overrides; the bundle is this machine's store
 * (so nothing else loses a root) plus the test CA. Only where Node reads it that way.
 */
function systemStoreWithTestCa(workDir: string): Record<string, string> {
  const getCa = (tls as unknown as { getCACertificates?: (type: 'system') => string[] })
    .getCACertificates;
  if (process.platform !== 'linux' || typeof getCa !== 'function') return {};
  const testCa = join(REPO_ROOT, 'test', 'support', 'tls', 'localhost-cert.pem');
  const bundle = join(workDir, 'system-store-with-test-ca.pem');
  writeFileSync(bundle, [...getCa('system'), readFileSync(testCa, 'utf8')].join('\n'));
  return { SSL_CERT_FILE: bundle, DICOMWEB_TEST_SYSTEM_CA: testCa };
}

async function main(): Promise<number> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'extension.js'))) {
    console.error('dist/extension.js is missing: run `npm run build` first');
    return 1;
  }
  const extensionTestsPath = join(__dirname, '..', 'integration', 'index.js');
  if (!existsSync(extensionTestsPath)) {
    console.error(`${extensionTestsPath} is missing: run \`npx tsc -p tsconfig.test.json\` first`);
    return 1;
  }

  const desktopExecutable = process.env.DICOMWEB_VSCODE_EXECUTABLE;
  const useDesktop = process.env.DICOMWEB_USE_DESKTOP_VSCODE === '1' || Boolean(desktopExecutable);
  const workDir = mkdtempSync(join(tmpdir(), 'dicomweb-integration-'));
  const workspace = join(workDir, 'workspace');
  cpSync(WORKSPACE_FIXTURE, workspace, { recursive: true });

  // With the VSIX `npm test` packaged, the extension under test is the installed package
  // (code-server --install-extension), loaded from the folder it was installed to: what
  // the package leaves out is missing here too.
  const vsix = useDesktop ? undefined : packagedVsix();
  let extensionDevelopmentPath = REPO_ROOT;
  if (vsix) {
    const moduleUrl = pathToFileURL(join(REPO_ROOT, 'scripts', 'vscode-env.mjs')).href;
    const { ensureVsCodeTestEnv } = (await import(moduleUrl)) as {
      ensureVsCodeTestEnv: () => { codeServer: string };
    };
    extensionDevelopmentPath = installVsix(
      ensureVsCodeTestEnv().codeServer,
      vsix,
      join(workDir, 'installed'),
      join(REPO_ROOT, 'package.json'),
    );
    console.log(`extension under test: ${vsix}, installed to ${extensionDevelopmentPath}`);
  }
  const testEnv = {
    ...testEnvironment(),
    ...(useDesktop ? {} : systemStoreWithTestCa(workDir)),
    DICOMWEB_EXTENSION_UNDER_TEST: extensionDevelopmentPath,
  };

  const started = Date.now();
  try {
    await runTests({
      // Without an executable path test-electron downloads desktop VS Code.
      ...(useDesktop
        ? desktopExecutable
          ? { vscodeExecutablePath: desktopExecutable }
          : { version: process.env.DICOMWEB_VSCODE_VERSION ?? 'stable' }
        : { vscodeExecutablePath: LAUNCHER }),
      extensionDevelopmentPath,
      extensionTestsPath,
      launchArgs: [
        workspace,
        '--disable-extensions',
        `--user-data-dir=${join(workDir, 'user-data')}`,
        `--extensions-dir=${join(workDir, 'extensions')}`,
      ],
      extensionTestsEnv: testEnv,
    });
    console.log(
      `integration tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s (${useDesktop ? 'desktop VS Code' : 'code-server'})`,
    );
    return 0;
  } catch (error) {
    const code =
      error instanceof TestRunFailedError && typeof error.code === 'number' && error.code !== 0
        ? error.code
        : 1;
    console.error(
      `integration tests failed after ${((Date.now() - started) / 1000).toFixed(1)} s: ${error instanceof Error ? error.message : String(error)}`,
    );
    return code;
  } finally {
    rmSync(workDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
