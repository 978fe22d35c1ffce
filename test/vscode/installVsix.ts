/**
 * Installs the packaged extension (the VSIX `npm test` builds with `vsce package`) into a
 * code-server extensions folder, the way a user installs it: `--install-extension`. The
 * integration and UI suites then run what the package holds, so a file the package leaves
 * out fails CI instead of the user's first start.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The VSIX to test, when `npm test` packaged one (else the suites use the built folder). */
export function packagedVsix(): string | undefined {
  const vsix = process.env.DICOMWEB_TEST_VSIX;
  if (!vsix) return undefined;
  if (!existsSync(vsix)) throw new Error(`DICOMWEB_TEST_VSIX names ${vsix}, which does not exist`);
  return vsix;
}

/**
 * `code-server --install-extension VSIX --extensions-dir DIR`; returns the folder the
 * extension was installed to (`publisher.name-version`).
 */
export function installVsix(
  codeServer: string,
  vsix: string,
  extensionsDir: string,
  manifestPath: string,
): string {
  mkdirSync(extensionsDir, { recursive: true });
  // code-server writes its own config and data under XDG folders: keep them out of $HOME.
  const scratch = mkdtempSync(join(tmpdir(), 'dicomweb-vsix-'));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XDG_CONFIG_HOME: join(scratch, 'config'),
      XDG_DATA_HOME: join(scratch, 'data'),
    };
    for (const name of Object.keys(env))
      if (name.startsWith('VSCODE_') || name === 'ELECTRON_RUN_AS_NODE') delete env[name];
    const result = spawnSync(
      codeServer,
      [
        '--install-extension',
        vsix,
        '--extensions-dir',
        extensionsDir,
        '--user-data-dir',
        join(scratch, 'user-data'),
        '--force',
      ],
      { env, encoding: 'utf8', timeout: 120_000 },
    );
    if (result.status !== 0) {
      throw new Error(
        `code-server --install-extension ${vsix} exited with ${result.status ?? result.signal}: ${result.stderr || result.stdout}`,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    publisher: string;
    name: string;
    version: string;
  };
  const id = `${manifest.publisher}.${manifest.name}-${manifest.version}`.toLowerCase();
  const folder = readdirSync(extensionsDir).find((entry) => entry.toLowerCase() === id);
  if (!folder)
    throw new Error(
      `after --install-extension, ${extensionsDir} holds no ${id} (it holds: ${readdirSync(extensionsDir).join(', ') || 'nothing'})`,
    );
  return join(extensionsDir, folder);
}
