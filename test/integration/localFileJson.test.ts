/**
 * "Open as DICOM JSON" and "Compare with Server…" on local files in the real extension host,
 * against the real Orthanc `npm test` started and the extension's local server: the file's
 * JSON with exact values (names decoded per Specific Character Set, Pixel Data left in the
 * file), the diff against the instance with the same SOP Instance UID, and the sentence
 * naming the server when that instance is not there.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import {
  compareFileWithServer,
  type FileComparison,
} from '../../src/commands/compareFileWithServer';
import { readLocalDicomJson } from '../../src/dicom/localFileJson';
import { Tag } from '../../src/dicom/tags';
import type { DicomJsonDataset } from '../../src/dicom/types';
import type { Services } from '../../src/services';
import { ensureSampleFiles, type SampleCatalog } from '../support/sampleFiles';
import { SEED, writeSeedFiles } from '../support/seedData';

import { activateExtension, executeCommand } from './helpers';
import { HOST_TARGETS } from './hostTargets';

async function jsonOf(uri: vscode.Uri): Promise<DicomJsonDataset[]> {
  return JSON.parse((await vscode.workspace.openTextDocument(uri)).getText()) as DicomJsonDataset[];
}

describe('Local file as DICOM JSON', function () {
  this.timeout(60_000);
  let samples: SampleCatalog;

  before(async () => {
    await activateExtension();
    samples = await ensureSampleFiles();
  });
  afterEach(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  it('opens chrH31 as read-only DICOM JSON: the Japanese name decoded, Pixel Data a BulkDataURI', async () => {
    const file = vscode.Uri.file(samples.charset.chrH31.path);
    const editor = await executeCommand<vscode.TextEditor>('dicomweb.file.openAsJson', file);
    assert.equal(editor.document.uri.scheme, 'dicomweb-file-json');
    assert.equal(editor.document.languageId, 'json');
    const [dataset] = JSON.parse(editor.document.getText()) as DicomJsonDataset[];
    assert.deepEqual(dataset[Tag.PatientName], {
      vr: 'PN',
      Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }],
    });
    assert.deepEqual(dataset[Tag.SpecificCharacterSet], {
      vr: 'CS',
      Value: [null, 'ISO 2022 IR 87'],
    });
    assert.deepEqual(dataset[Tag.PixelData], {
      vr: 'OB',
      BulkDataURI: `${file.toString()}#7FE00010`,
    });
    const again = await executeCommand<vscode.TextEditor>('dicomweb.file.openAsJson', file);
    assert.equal(again.document, editor.document, 'one document per file');
  });

  it('tag hovers work in the document, as in WADO-RS metadata documents', async () => {
    const editor = await executeCommand<vscode.TextEditor>(
      'dicomweb.file.openAsJson',
      vscode.Uri.file(samples.charset.chrH31.path),
    );
    const text = editor.document.getText();
    const position = editor.document.positionAt(text.indexOf('"00100010"') + 2);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      editor.document.uri,
      position,
    );
    const shown = hovers
      .flatMap((hover) => hover.contents)
      .map((c) => (typeof c === 'string' ? c : c.value))
      .join('\n');
    assert.match(shown, /PatientName/);
  });
});

/** The tree's label of chrH32's study (PatientName 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう'), and why. */
const CHRH32_LABEL: Record<string, { label: RegExp; reason: string }> = {
  Orthanc: {
    label: /no patient name/,
    reason:
      'measured: Orthanc 1.10 answers QIDO-RS with no PatientName for ISO 2022 IR 13\\ISO 2022 IR 87 ' +
      '(its index does not decode that combination; its WADO-RS metadata, from DCMTK, does)',
  },
  'the local server': {
    label: /ﾔﾏﾀﾞ/,
    reason: 'the local server indexes names decoded by src/dicom/charset.ts',
  },
};

for (const target of HOST_TARGETS)
  describe(`Compare a local file with ${target.name}`, function () {
    this.timeout(60_000);
    let services: Services;
    let samples: SampleCatalog;
    let connectionId: string;
    let seedDir: string;
    let stop: () => Promise<void>;
    let started: Awaited<ReturnType<(typeof HOST_TARGETS)[number]['start']>>;

    before(async () => {
      services = ((await activateExtension()) as { services: Services }).services;
      samples = await ensureSampleFiles();
      started = await target.start();
      stop = started.stop;
      seedDir = mkdtempSync(join(tmpdir(), 'dicomweb-it-compare-seed-'));
      const seedFiles = await writeSeedFiles(seedDir);
      const summary = await started.client.storeInstances([
        ...seedFiles,
        samples.charset.chrH31.path,
        samples.charset.chrH32.path,
      ]);
      assert.equal(summary.stored, seedFiles.length + 2);
      const added = await executeCommand<{ id: string }>('dicomweb.server.add', started.connection);
      connectionId = added.id;
    });
    after(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.workspace
        .getConfiguration('dicomweb')
        .update('servers', [], vscode.ConfigurationTarget.Global);
      await stop();
    });

    async function compare(path: string): Promise<FileComparison> {
      const result = await executeCommand<FileComparison | undefined>(
        'dicomweb.file.compareWithServer',
        vscode.Uri.file(path),
        connectionId,
      );
      assert.ok(result, 'the command found the instance');
      return result;
    }

    it('found: a diff editor of the file and the server’s metadata, equal where the data are', async () => {
      const result = await compare(join(seedDir, SEED.redTriangle.fileName));
      assert.equal(result.sopInstanceUid, SEED.redTriangle.sopInstanceUid);
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
      assert.ok(tab?.input instanceof vscode.TabInputTextDiff, 'a diff editor is active');
      const [local] = await jsonOf(result.left);
      const [remote] = await jsonOf(result.right);
      assert.deepEqual(remote[Tag.SOPInstanceUID], local[Tag.SOPInstanceUID]);
      assert.deepEqual(remote[Tag.PatientName], local[Tag.PatientName]);
      assert.deepEqual(remote[Tag.PixelData], local[Tag.PixelData], 'bulk data normalized alike');
      const differing = Object.keys({ ...local, ...remote }).filter(
        (tag) => JSON.stringify(local[tag]) !== JSON.stringify(remote[tag]),
      );
      console.log(
        `      ${target.name}: attributes that differ: ${differing.join(', ') || 'none'}`,
      );
      // Measured: none on Orthanc 1.10 and on the local server; any would be a real difference.
      assert.deepEqual(differing, []);
    });

    it('found: the ISO 2022 name reads the same on both sides', async () => {
      const result = await compare(samples.charset.chrH31.path);
      const [local] = await jsonOf(result.left);
      const [remote] = await jsonOf(result.right);
      assert.deepEqual(local[Tag.PatientName]?.Value, [
        { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' },
      ]);
      assert.deepEqual(remote[Tag.PatientName], local[Tag.PatientName]);
    });

    const chrH32 = CHRH32_LABEL[target.name]!;
    it(`the tree's label of an ISO 2022 study (${chrH32.reason})`, async () => {
      const { dataset } = await readLocalDicomJson(samples.charset.chrH32.path, {
        bulkDataBase: 'file:///h32.dcm',
      });
      const studyUid = dataset[Tag.StudyInstanceUID]?.Value?.[0];
      await services.tree.getChildren();
      const server = services.tree.serverNode(connectionId);
      assert.ok(server);
      const studies = (await services.tree.getChildren(server)) as Array<{
        studyInstanceUid?: string;
        getTreeItem(): vscode.TreeItem;
      }>;
      const study = studies.find((node) => node.studyInstanceUid === studyUid);
      assert.ok(study, 'the chrH32 study is listed');
      const label = study.getTreeItem().label;
      assert.match(typeof label === 'string' ? label : (label?.label ?? ''), chrH32.label);
    });

    it('not found: says which UID was not found on which server', async () => {
      const file = samples.files.ctSmall.path;
      await assert.rejects(
        compareFileWithServer(services, vscode.Uri.file(file), connectionId),
        (error: Error) => {
          assert.match(
            error.message,
            new RegExp(samples.files.ctSmall.sopInstanceUid.replace(/\./g, '\\.')),
          );
          assert.match(
            error.message,
            new RegExp(`was not found on "${started.connection.name.replace(/[()]/g, '\\$&')}"`),
          );
          return true;
        },
      );
    });
  });
