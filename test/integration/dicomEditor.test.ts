/**
 * The DICOM editor (src/editor/) in the real extension host: a .dcm opens in the custom
 * editor (double-click's `vscode.open`, and `vscode.openWith`), the table's rows come from
 * the file's header, the real webview reports its first rows on the page, the row commands
 * copy values and paths, and broken or non-DICOM files still open with their problems.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ensureSampleFiles } from '../support/sampleFiles';
import { makeTempDir } from '../support/tempDirs';
import { activateExtension, executeCommand } from './helpers';

/** What the tests read of the extension's API (src/editor/). */
interface Row {
  id: string;
  tag: string;
  name: string;
  vr: string;
  value: string;
  children?: Row[];
}
interface EditorDocument {
  problems: string[];
  summary: string;
  table: { roots: Row[]; nodeCount: number };
  timings: { headerMs: number; tableMs: number };
}
interface TableShown {
  uri: vscode.Uri;
  rows: number;
  elapsedMs: number;
}
interface Api {
  services: {
    dicomEditor: {
      onDidShowTable: vscode.Event<TableShown>;
      documentFor(uri: vscode.Uri): EditorDocument | undefined;
    };
  };
}

describe('DICOM editor', function () {
  this.timeout(60_000);
  let api: Api;
  const dir = makeTempDir('dicomweb-it-editor-');

  before(async () => {
    api = (await activateExtension()) as Api;
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  /** Opens `uri` with `open` and resolves with the webview's report of its first rows. */
  async function openAndWait(uri: vscode.Uri, open: () => Thenable<unknown>): Promise<TableShown> {
    const shown = new Promise<TableShown>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no table of ${uri.fsPath} within 30 s`)),
        30_000,
      );
      const subscription = api.services.dicomEditor.onDidShowTable((event) => {
        if (event.uri.toString() !== uri.toString()) return;
        clearTimeout(timer);
        subscription.dispose();
        resolve(event);
      });
    });
    await open();
    return shown;
  }

  function activeViewType(): string | undefined {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    return input instanceof vscode.TabInputCustom ? input.viewType : undefined;
  }

  function copySample(from: string, name: string): vscode.Uri {
    const path = join(dir, name);
    copyFileSync(from, path);
    return vscode.Uri.file(path);
  }

  it('double-click (vscode.open) on a .dcm opens the DICOM editor with the header as rows', async () => {
    const catalog = await ensureSampleFiles();
    const uri = copySample(catalog.files.ctSmall.path, 'ct-small.dcm');
    const shown = await openAndWait(uri, () => vscode.commands.executeCommand('vscode.open', uri));
    assert.equal(activeViewType(), 'dicomweb.dicomFile');
    assert.equal(shown.rows, 265, 'the webview drew the 265 top-level rows');
    const document = api.services.dicomEditor.documentFor(uri);
    assert.ok(document, 'the provider holds the open document');
    assert.deepEqual(document.problems, []);
    assert.equal(document.table.nodeCount, 271);
    assert.match(
      document.summary,
      /^ct-small\.dcm · 38\.3 KiB · 271 elements · Explicit VR Little Endian$/,
    );
    const row = (tag: string): Row => document.table.roots.find((r) => r.tag === tag)!;
    assert.equal(row('(0009,1001)').name, '[GEMS_IDEN_01] (0009,xx01)');
    assert.equal(row('(7FE0,0010)').value, 'OW, 32,768 bytes, 1 frame');
    const items = row('(0010,1002)').children!;
    assert.deepEqual(
      items.map((item) => item.children!.map((child) => `${child.name}=${child.value}`)),
      [
        ['PatientID=ABCD1234', 'TypeOfPatientID=TEXT'],
        ['PatientID=1234ABCD', 'TypeOfPatientID=TEXT'],
      ],
    );
  });

  it("the row context menu's commands copy a value, a tag path and a keyword path", async () => {
    const catalog = await ensureSampleFiles();
    const uri = copySample(catalog.files.ctSmall.path, 'ct-copy.dcm');
    await openAndWait(uri, () =>
      vscode.commands.executeCommand('vscode.openWith', uri, 'dicomweb.dicomFile'),
    );
    const document = api.services.dicomEditor.documentFor(uri)!;
    const sequence = document.table.roots.find((r) => r.tag === '(0010,1002)')!;
    const rowId = sequence.children![1]!.children![0]!.id;
    const context = { webviewSection: 'tagRow', rowId };
    await executeCommand('dicomweb.dicomFile.copyTagPath', context);
    assert.equal(await vscode.env.clipboard.readText(), '(0010,1002)[1].(0010,0020)');
    await executeCommand('dicomweb.dicomFile.copyKeywordPath', context);
    assert.equal(await vscode.env.clipboard.readText(), 'OtherPatientIDsSequence[1].PatientID');
    await executeCommand('dicomweb.dicomFile.copyValue', context);
    assert.equal(await vscode.env.clipboard.readText(), '1234ABCD');
  });

  it("pydicom's MR_truncated.dcm: the problem first, every element that could be read", async () => {
    const catalog = await ensureSampleFiles();
    const uri = copySample(catalog.broken.truncatedMr, 'mr-truncated.dcm');
    const shown = await openAndWait(uri, () => vscode.commands.executeCommand('vscode.open', uri));
    assert.ok(shown.rows > 30, `${shown.rows} rows shown`);
    const document = api.services.dicomEditor.documentFor(uri)!;
    assert.equal(document.problems.length, 1);
    assert.match(document.problems[0]!, /truncated inside Pixel Data/);
    const name = document.table.roots.find((r) => r.tag === '(0010,0010)');
    assert.equal(name?.value, 'CompressedSamples^MR1');
  });

  it('"Open With…" on an extension-less file that is not DICOM: a clear problem, not a blank editor', async () => {
    const path = join(dir, 'NOTES');
    writeFileSync(path, 'plain text, not DICOM\n'.repeat(20));
    const uri = vscode.Uri.file(path);
    const shown = await openAndWait(uri, () =>
      vscode.commands.executeCommand('vscode.openWith', uri, 'dicomweb.dicomFile.any'),
    );
    assert.equal(activeViewType(), 'dicomweb.dicomFile.any');
    assert.equal(shown.rows, 0);
    assert.deepEqual(api.services.dicomEditor.documentFor(uri)!.problems, [
      'Not a DICOM Part 10 file: no "DICM" after the 128-byte preamble (PS3.10 §7.1).',
    ]);
  });
});
