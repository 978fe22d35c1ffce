/**
 * De-identification in the real extension host. "Save De-identified Copy…" on a file of the
 * workspace: the copy is written beside it with the profile's changes (PS3.15 Annex E), the
 * source is byte-identical afterwards, and a second run never overwrites the first copy.
 * "Upload De-identified Files…" on a server of the tree (the real local server): the batch
 * arrives as one study under new UIDs, every file reported under its source's name.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { readDataSet } from '../../src/dicom/part10';
import { DicomWebClient } from '../../src/dicomweb';
import { startLocalServer, type LocalServer } from '../../src/server';
import { writeSmallInstances } from '../support/bulkData';
import { ensureSampleFiles } from '../support/sampleFiles';
import { activateExtension, executeCommand, waitFor } from './helpers';

interface SaveResult {
  files: Array<{ source: string; output?: string; error?: string; changes: unknown[] }>;
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('Save De-identified Copy', function () {
  this.timeout(60_000);
  let folder: string;

  before(async () => {
    await activateExtension();
    const workspace = await waitFor(() => vscode.workspace.workspaceFolders?.[0], {
      description: 'the test workspace folder',
    });
    folder = join(workspace.uri.fsPath, 'deidentify');
    await mkdir(folder, { recursive: true });
  });

  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('writes name.deid.dcm beside a workspace file, with the profile applied, source untouched', async () => {
    const catalog = await ensureSampleFiles();
    const source = join(folder, 'CT_small.dcm');
    await copyFile(catalog.files.ctSmall.path, source);
    const before = await readFile(source);
    const uri = vscode.Uri.file(source);

    const result = await executeCommand<SaveResult>('dicomweb.file.saveDeidentified', uri, [uri], {
      options: ['retainLongitudinalModifiedDates'],
      destination: 'beside',
    });

    assert.equal(result.files.length, 1);
    const [file] = result.files;
    assert.equal(file!.error, undefined);
    assert.equal(file!.output, join(folder, 'CT_small.deid.dcm'));
    assert.equal(sha(await readFile(source)), sha(before), 'the source is not modified');

    const original = readDataSet(before);
    const copy = readDataSet(await readFile(file!.output!));
    assert.equal(copy.string('x00120062'), 'YES');
    assert.equal(copy.string('x00280303'), 'MODIFIED');
    assert.equal(copy.elements['x00100010']!.length, 0, "Patient's Name emptied");
    assert.notEqual(copy.string('x0020000d'), original.string('x0020000d'));
    assert.equal(copy.string('x00020003'), copy.string('x00080018'));
    assert.notEqual(copy.string('x00080020'), original.string('x00080020'), 'Study Date shifted');
    const privateTags = Object.keys(copy.elements).filter(
      (k) => parseInt(k.slice(1, 5), 16) % 2 === 1,
    );
    assert.deepEqual(privateTags, []);
    const pixels = (ds: typeof copy) => {
      const e = ds.elements['x7fe00010']!;
      return sha(ds.byteArray.subarray(e.dataOffset, e.dataOffset + e.length));
    };
    assert.equal(pixels(copy), pixels(original), 'Pixel Data byte-identical');

    const again = await executeCommand<SaveResult>('dicomweb.file.saveDeidentified', uri, [uri], {
      options: [],
      destination: 'beside',
    });
    assert.equal(
      again.files[0]!.output,
      join(folder, 'CT_small.deid-2.dcm'),
      'the first copy is kept',
    );
  });
});

interface TreeNode {
  connection?: { id: string };
}

interface Api {
  services: { tree: { getChildren(node?: TreeNode): Promise<TreeNode[]> } };
}

describe('Upload De-identified Files', function () {
  this.timeout(60_000);
  let server: LocalServer;
  let client: DicomWebClient;
  let api: Api;

  before(async () => {
    api = (await activateExtension()) as Api;
    server = await startLocalServer({
      dir: await mkdtemp(join(tmpdir(), 'dicomweb-it-deid-')),
      port: 0,
    });
    client = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
  });

  after(async () => {
    // The other suites start from a tree without connections.
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('servers', [], vscode.ConfigurationTarget.Global);
    await client.close();
    await server.close();
  });

  it('sends the batch as one study under new UIDs, each file reported by its source', async () => {
    const connection = await executeCommand<{ id: string }>('dicomweb.server.add', {
      name: 'Local server (de-identification test)',
      url: `${server.url}/v2`,
      kind: 'local',
    });
    const node = (await api.services.tree.getChildren()).find(
      (n) => n.connection?.id === connection.id,
    );
    assert.ok(node, 'the server is a root of the tree');
    const dir = await mkdtemp(join(tmpdir(), 'dicomweb-it-deid-src-'));
    const sources = await writeSmallInstances(dir, 3, {
      studies: 1,
      seriesPerStudy: 1,
      seed: 'it-deid',
    });
    const uris = sources.map((s) => vscode.Uri.file(s.path));

    const result = await executeCommand<{
      stored: number;
      failed: number;
      outcomes: Array<{ file: string; status: string; sopInstanceUid?: string }>;
    }>('dicomweb.node.uploadDeidentified', node, uris, { options: [], confirmed: true });

    assert.equal(result.stored, 3);
    assert.equal(result.failed, 0);
    assert.deepEqual(
      result.outcomes.map((o) => o.file).sort(),
      sources.map((s) => s.path).sort(),
      'reported under the sources, not the temporary copies',
    );
    const studies = await client.searchForStudies({});
    assert.equal(studies.items.length, 1);
    const study = studies.items[0]!['0020000D']?.Value?.[0] as string;
    assert.notEqual(study, sources[0]!.studyInstanceUid);
    const instances = await client.searchForInstances({}, { studyInstanceUid: study });
    assert.equal(instances.items.length, 3);
    const old = await client.searchForInstances({
      match: { SOPInstanceUID: sources.map((s) => s.sopInstanceUid) },
    });
    assert.equal(old.items.length, 0, 'no original SOP Instance UID reached the server');
  });
});
