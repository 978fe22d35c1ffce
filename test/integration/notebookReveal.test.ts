/**
 * "A row opens the node in the tree" (issue 15), in the real extension host against the real
 * Orthanc and the extension's local server: a notebook's QIDO cell runs on a connection, its
 * rows reach the notebook renderer as SEARCH_MIME, and the message the renderer posts on a
 * click of a row's "Show" (webview/notebook/searchOutput.ts's revealMessage, what the button
 * posts) reveals and selects that row's instance in the tree. No API lets a test post as a
 * renderer, so the message goes to the handler the renderer's messaging runs (the extension's
 * API gives it); the click itself is driven in the UI scenario (test/ui/notebook.ui.ts).
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { SEARCH_MIME } from '../../src/notebook/searchOutput';
import { readSearchOutput, revealMessage } from '../../webview/notebook/searchOutput';
import { SEED, writeSeedFiles } from '../support/seedData';
import { activateExtension, executeCommand, EXTENSION_ID, waitFor } from './helpers';
import { HOST_TARGETS } from './hostTargets';

interface Node {
  id: string;
}

interface Api {
  services: { treeView: vscode.TreeView<Node> };
  notebookRendererMessage(message: unknown): Promise<void>;
}

const STUDY = SEED.studyInstanceUid;
const UIDS = [SEED.redTriangle, SEED.greenSquare, SEED.blueCircle].map(
  (seed) => seed.sopInstanceUid,
);

for (const target of HOST_TARGETS)
  describe(`DICOMweb notebook rows in the tree against ${target.name}`, function () {
    this.timeout(90_000);
    let api: Api;
    let stopTarget: () => Promise<void>;
    let connectionId: string;
    let folder: string;

    before(async () => {
      api = (await activateExtension()) as Api;
      const started = await target.start();
      stopTarget = started.stop;
      folder = mkdtempSync(join(tmpdir(), 'dicomweb-it-notebook-reveal-'));
      assert.equal((await started.client.storeInstances(await writeSeedFiles(folder))).stored, 3);
      const connection = await executeCommand<{ id: string }>(
        'dicomweb.server.add',
        started.connection,
      );
      connectionId = connection.id;
    });

    after(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.workspace
        .getConfiguration('dicomweb')
        .update('servers', [], vscode.ConfigurationTarget.Global);
      await stopTarget();
    });

    it("each row's Show, as the renderer posts it, selects its instance in the tree on the cell's connection", async () => {
      const file = join(folder, 'rows.dicomweb.md');
      writeFileSync(
        file,
        `\`\`\`dicomweb\nGET /studies/${STUDY}/instances\nAccept: application/dicom+json\n\`\`\`\n`,
      );
      const notebook = await vscode.workspace.openNotebookDocument(vscode.Uri.file(file));
      await vscode.window.showNotebookDocument(notebook);
      await vscode.commands.executeCommand('notebook.selectKernel', {
        id: `dicomweb-notebook-${connectionId}`,
        extension: EXTENSION_ID,
      });
      await vscode.commands.executeCommand('notebook.execute', notebook.uri);
      const cell = notebook.cellAt(0);
      await waitFor(() => cell.executionSummary?.success !== undefined, {
        timeoutMs: 60_000,
        description: 'the cell to have run',
      });
      assert.equal(cell.executionSummary?.success, true);
      // The rows, the HTML and the JSON are one output: VS Code shows the renderer's table.
      const answer = cell.outputs.find((output) =>
        output.items.some((entry) => entry.mime === SEARCH_MIME),
      );
      assert.deepEqual(
        answer?.items.map((entry) => entry.mime),
        [SEARCH_MIME, 'text/html', 'application/json'],
      );
      const rows = readSearchOutput(answer.items[0].data);
      const messages = rows.rows.map((_row, index) => revealMessage(rows, index));
      assert.deepEqual(
        messages.map((message) => message?.uid).sort(),
        [...UIDS].sort(),
        'one Show per row, for its SOP Instance UID',
      );
      for (const message of messages) {
        await api.notebookRendererMessage(message);
        const selected = await waitFor(
          () =>
            api.services.treeView.selection.find((node) =>
              node.id.endsWith(`/instance/${message!.uid}`),
            ),
          { description: `the tree's selection to be the instance ${message!.uid}` },
        );
        assert.ok(
          selected.id.startsWith(`server/${connectionId}/`),
          `${selected.id} is under the cell's server`,
        );
      }
    });

    it('ignores a message that is not a reveal of a UID, and selects nothing', async () => {
      const before = api.services.treeView.selection.map((node) => node.id);
      await api.notebookRendererMessage({ type: 'reveal', connectionId, uid: '1.2; rm -rf /' });
      await api.notebookRendererMessage({ type: 'run', command: 'workbench.action.quit' });
      assert.deepEqual(
        api.services.treeView.selection.map((node) => node.id),
        before,
      );
    });
  });
