/**
 * DICOMweb notebooks in the real extension host, against the real Orthanc and the
 * extension's local server: a `*.dicomweb.md` file opens as a notebook, the connection is
 * picked as its kernel, "Run All" sends every cell through the extension's client, and each
 * cell's output is checked for what it must say (the stored instances, the search row, the
 * metadata of the instance a reference named, the parts of the retrieve, the delete, and the
 * 404 after it with the request that was sent).
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { FRAME_MIME } from '../../src/notebook/frameOutput';
import { decodeFrameOutput } from '../../webview/notebook/frameOutput';
import { drawShape, SEED, writeSeedFiles } from '../support/seedData';
import { activateExtension, executeCommand, EXTENSION_ID, waitFor } from './helpers';
import { HOST_TARGETS } from './hostTargets';

const STUDY = SEED.studyInstanceUid;
const RED = SEED.redTriangle;
const UIDS = [SEED.redTriangle, SEED.greenSquare, SEED.blueCircle].map(
  (seed) => seed.sopInstanceUid,
);

/** A notebook as a person writes it: prose, HTTP-like cells, a pasted tutorial cURL. */
const NOTEBOOK = `# The tutorial, short

Store the three samples next to this file, find the study, read one instance, delete.

\`\`\`dicomweb
# @name stored
POST /studies
Accept: application/dicom+json

< ./red-triangle.dcm
< ./green-square.dcm
< ./blue-circle.dcm
\`\`\`

\`\`\`sh
# @name studies
curl --request GET "{Service URL}/v{version}/studies?StudyInstanceUID=${STUDY}" \\
  --header "Accept: application/dicom+json" \\
  --header "Authorization: Bearer {token value}"
\`\`\`

\`\`\`dicomweb
GET /studies/{{studies.0.StudyInstanceUID}}/series/{{stored.0.SeriesInstanceUID}}/instances/{{stored.0.SOPInstanceUID}}/metadata
Accept: application/dicom+json
\`\`\`

\`\`\`dicomweb
GET /studies/{{studies.0020000D}}
Accept: multipart/related; type="application/dicom"; transfer-syntax=*
\`\`\`

\`\`\`dicomweb
DELETE /studies/{{studies.StudyInstanceUID}}
\`\`\`

\`\`\`dicomweb
GET /studies/{{studies.StudyInstanceUID}}/metadata
Accept: application/dicom+json
\`\`\`
`;

const RED_INSTANCE = `/studies/${STUDY}/series/${RED.seriesInstanceUid}/instances/${RED.sopInstanceUid}`;
/** A frame and its server-rendered image, then the study deleted again. */
const IMAGES = `\`\`\`dicomweb
POST /studies

< ./red-triangle.dcm
\`\`\`

\`\`\`dicomweb
GET ${RED_INSTANCE}/frames/1
Accept: multipart/related; type="application/octet-stream"; transfer-syntax=*
\`\`\`

\`\`\`dicomweb
GET ${RED_INSTANCE}/rendered
Accept: image/png
\`\`\`

\`\`\`dicomweb
DELETE /studies/${STUDY}
\`\`\`
`;

function item(cell: vscode.NotebookCell, mime: string): vscode.NotebookCellOutputItem | undefined {
  return cell.outputs.flatMap((output) => output.items).find((entry) => entry.mime === mime);
}

function text(cell: vscode.NotebookCell, mime: string): string {
  const item = cell.outputs.flatMap((output) => output.items).find((entry) => entry.mime === mime);
  return item ? new TextDecoder().decode(item.data) : '';
}

for (const target of HOST_TARGETS)
  describe(`DICOMweb notebook against ${target.name}`, function () {
    this.timeout(90_000);
    let stopTarget: () => Promise<void>;
    let connectionId: string;
    let folder: string;

    before(async () => {
      await activateExtension();
      const started = await target.start();
      stopTarget = started.stop;
      const connection = await executeCommand<{ id: string }>(
        'dicomweb.server.add',
        started.connection,
      );
      connectionId = connection.id;
      folder = mkdtempSync(join(tmpdir(), 'dicomweb-it-notebook-'));
      await writeSeedFiles(folder);
    });

    after(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.workspace
        .getConfiguration('dicomweb')
        .update('servers', [], vscode.ConfigurationTarget.Global);
      await stopTarget();
    });

    it('opens a .dicomweb.md file as a notebook and runs every cell on the chosen connection', async () => {
      const file = join(folder, 'tutorial.dicomweb.md');
      writeFileSync(file, NOTEBOOK);
      const notebook = await vscode.workspace.openNotebookDocument(vscode.Uri.file(file));
      assert.equal(notebook.notebookType, 'dicomweb-notebook');
      assert.deepEqual(
        notebook.getCells().map((cell) => [cell.kind, cell.document.languageId]),
        [
          [vscode.NotebookCellKind.Markup, 'markdown'],
          [vscode.NotebookCellKind.Code, 'dicomweb'],
          [vscode.NotebookCellKind.Code, 'shellscript'],
          ...Array.from({ length: 4 }, () => [vscode.NotebookCellKind.Code, 'dicomweb']),
        ],
      );
      await vscode.window.showNotebookDocument(notebook);
      await vscode.commands.executeCommand('notebook.selectKernel', {
        id: `dicomweb-notebook-${connectionId}`,
        extension: EXTENSION_ID,
      });
      await vscode.commands.executeCommand('notebook.execute', notebook.uri);
      const code = notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code);
      await waitFor(() => code.every((cell) => cell.executionSummary?.success !== undefined), {
        timeoutMs: 60_000,
        description: 'every cell to have run',
      });
      const [store, search, metadata, retrieve, remove, gone] = code;
      const html = (cell: vscode.NotebookCell) => text(cell, 'text/html');
      const success = code.map((cell) => cell.executionSummary?.success);
      assert.deepEqual(success, [true, true, true, true, true, false], code.map(html).join('\n\n'));

      assert.match(html(store), /3 stored/);
      UIDS.forEach((uid) => assert.ok(html(store).includes(uid), `STOW table lists ${uid}`));
      assert.match(html(store), /\d+ ms · [\d.]+ KiB sent/);

      assert.match(html(search), /1 row\./);
      assert.match(html(search), /<th title="0020000D">StudyInstanceUID<\/th>/);
      assert.ok(html(search).includes(`<code>${STUDY}</code>`));
      assert.match(html(search), /not sent: the connection&#39;s own credentials were used/);
      const rows = JSON.parse(text(search, 'application/json')) as Array<
        Record<string, { Value: string[] }>
      >;
      assert.equal(rows[0]['0020000D'].Value[0], STUDY);

      // The reference {{stored.0.SOPInstanceUID}} named the first file stored: the red triangle.
      const instance = JSON.parse(text(metadata, 'application/json')) as Array<
        Record<string, { Value: string[] }>
      >;
      assert.equal(instance.length, 1);
      assert.equal(instance[0]['00080018'].Value[0], RED.sopInstanceUid);
      assert.ok(
        html(metadata).includes(
          `/series/${RED.seriesInstanceUid}/instances/${RED.sopInstanceUid}/metadata`,
        ),
      );

      assert.match(html(retrieve), /3 parts\./);
      UIDS.forEach((uid) => assert.ok(html(retrieve).includes(uid), `part of ${uid} listed`));
      assert.match(html(retrieve), /application\/dicom/);

      assert.match(
        html(remove),
        new RegExp(`Deleted <code>/studies/${STUDY.replace(/\./g, '\\.')}</code>`),
      );

      assert.match(html(gone), /404/);
      assert.match(html(gone), /Request sent:[\s\S]*curl --request GET/);
      for (const cell of code) {
        assert.ok(!/Bearer (?!\{token value\})/.test(html(cell)), 'no credential in an output');
      }
    });

    it('"Open the Azure Tutorial as a Notebook" runs green from top to bottom', async () => {
      const tutorialFolder = vscode.Uri.file(mkdtempSync(join(tmpdir(), 'dicomweb-it-tutorial-')));
      const file = await executeCommand<vscode.Uri>(
        'dicomweb.notebook.openTutorial',
        tutorialFolder,
      );
      const notebook = await waitFor(
        () => vscode.workspace.notebookDocuments.find((doc) => doc.uri.fsPath === file.fsPath),
        { description: 'the tutorial notebook to be open' },
      );
      const code = notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code);
      assert.equal(code.length, 19);
      await waitFor(() => vscode.window.activeNotebookEditor?.notebook === notebook, {
        timeoutMs: 30_000,
        description: 'the tutorial notebook to be shown',
      });
      await vscode.commands.executeCommand('notebook.selectKernel', {
        id: `dicomweb-notebook-${connectionId}`,
        extension: EXTENSION_ID,
      });
      await vscode.commands.executeCommand('notebook.execute', notebook.uri);
      await waitFor(() => code.every((cell) => cell.executionSummary?.success !== undefined), {
        timeoutMs: 60_000,
        description: 'every tutorial cell to have run',
      });
      const html = (cell: vscode.NotebookCell) => text(cell, 'text/html');
      assert.deepEqual(
        code.map((cell, index) =>
          cell.executionSummary?.success ? 'ok' : `${index + 1}: ${html(cell)}`,
        ),
        code.map(() => 'ok'),
      );
      assert.match(html(code[0]), /1 stored/);
      assert.match(html(code[3]), /3 parts\./);
      assert.match(html(code[9]), /1 part\./);
      assert.match(html(code[10]), /1 row\./);
      assert.match(html(code[18]), /Deleted <code>\/studies\//);
      // Orthanc has neither of Azure's single-part forms: the cells say how they were sent.
      const fitted = /does not take a single application\/dicom body/.test(html(code[2]));
      assert.equal(fitted, target.behaviour.singlePartStow === 'refused-415', html(code[2]));
    });

    it('"New DICOMweb Notebook" opens an untitled notebook whose first search runs', async () => {
      const notebook = await executeCommand<vscode.NotebookDocument>('dicomweb.notebook.new');
      assert.equal(notebook.notebookType, 'dicomweb-notebook');
      assert.equal(notebook.isUntitled, true);
      const code = notebook.getCells().filter((cell) => cell.kind === vscode.NotebookCellKind.Code);
      assert.equal(code.length, 2);
      await waitFor(() => vscode.window.activeNotebookEditor?.notebook === notebook, {
        timeoutMs: 30_000,
        description: 'the new notebook to be shown',
      });
      await vscode.commands.executeCommand('notebook.selectKernel', {
        id: `dicomweb-notebook-${connectionId}`,
        extension: EXTENSION_ID,
      });
      await vscode.commands.executeCommand('notebook.execute', notebook.uri);
      await waitFor(() => code.every((cell) => cell.executionSummary?.success !== undefined), {
        description: 'both cells to have run',
      });
      assert.equal(code[0].executionSummary?.success, true, text(code[0], 'text/html'));
      // The tests before this one deleted what they stored: no match, so no row 0 to refer to.
      assert.match(text(code[0], 'text/html'), /No match\./);
      assert.equal(code[1].executionSummary?.success, false);
      assert.match(
        text(code[1], 'text/html'),
        /The cell &#34;studies&#34; answered 0 row\(s\); there is no row 0/,
      );
    });

    it('gives a frames cell a frame output and a rendered cell image/png', async () => {
      const file = join(folder, 'images.dicomweb.md');
      writeFileSync(file, IMAGES);
      const notebook = await vscode.workspace.openNotebookDocument(vscode.Uri.file(file));
      await vscode.window.showNotebookDocument(notebook);
      await vscode.commands.executeCommand('notebook.selectKernel', {
        id: `dicomweb-notebook-${connectionId}`,
        extension: EXTENSION_ID,
      });
      await vscode.commands.executeCommand('notebook.execute', notebook.uri);
      const code = notebook.getCells();
      await waitFor(() => code.every((cell) => cell.executionSummary?.success !== undefined), {
        timeoutMs: 60_000,
        description: 'every cell to have run',
      });
      const [store, frames, rendered, remove] = code;
      const html = (cell: vscode.NotebookCell) => text(cell, 'text/html');
      assert.equal(store.executionSummary?.success, true, html(store));
      assert.equal(frames.executionSummary?.success, true, html(frames));
      const frame = decodeFrameOutput(item(frames, FRAME_MIME)!.data);
      assert.deepEqual([...frame.bytes], [...drawShape('redTriangle')]);
      assert.deepEqual(
        [frame.info.rows, frame.info.columns, frame.info.samplesPerPixel],
        [64, 64, 3],
      );
      // Both targets render (the local server with the preview's decoders, src/server/rendered.ts).
      assert.equal(rendered.executionSummary?.success, true, html(rendered));
      const png = item(rendered, 'image/png')!.data;
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(remove.executionSummary?.success, true, html(remove));
    });
  });
