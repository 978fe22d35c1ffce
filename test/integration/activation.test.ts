import * as assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import * as vscode from 'vscode';
import { EXTENSION_ID, REPO_ROOT, getExtension, readManifest, waitFor } from './helpers';

describe('Extension activation', () => {
  it(`is loaded in the extension host as ${EXTENSION_ID}, from the installed VSIX when npm test packaged one`, () => {
    const extension = getExtension();
    // runIntegration.ts names the folder it loaded: the installed package, or the repository.
    const expected = process.env.DICOMWEB_EXTENSION_UNDER_TEST ?? REPO_ROOT;
    assert.equal(realpathSync(extension.extensionUri.fsPath), realpathSync(expected));
    if (process.env.DICOMWEB_TEST_VSIX) {
      assert.notEqual(
        realpathSync(extension.extensionUri.fsPath),
        realpathSync(REPO_ROOT),
        'the packaged run must not load the repository',
      );
    }
    assert.equal(extension.packageJSON.name, readManifest().name);
  });

  it('activates without throwing, and reports how long it took', async () => {
    const extension = getExtension();
    const started = performance.now();
    await extension.activate();
    const elapsedMs = performance.now() - started;
    assert.equal(extension.isActive, true);
    console.log(
      `      activation took ${elapsedMs.toFixed(1)} ms (VS Code ${vscode.version}, ${vscode.env.appHost}, Node ${process.version})`,
    );
  });

  it('registers every command that package.json contributes', async () => {
    await getExtension().activate();
    const contributed = (readManifest().contributes?.commands ?? []).map((entry) => entry.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      contributed.filter((command) => !registered.has(command)),
      [],
    );
  });

  it('receives the environment the test runner passed in', () => {
    // runIntegration sets this in extensionTestsEnv; later suites read DICOMWEB_TEST_URL the same
    // way.
    assert.ok(
      process.env.DICOMWEB_INTEGRATION_RUN_ID,
      'DICOMWEB_INTEGRATION_RUN_ID did not reach the extension host',
    );
  });

  it('opens the test workspace folder', async () => {
    const folders = await waitFor(() => vscode.workspace.workspaceFolders, {
      description: 'a workspace folder',
    });
    assert.equal(folders.length, 1);
  });
});
