/**
 * "Upload and Replace" (PUT /studies, the Azure DICOM service's upsert) in the real
 * extension host against the local server: a file is uploaded, changed, and uploaded again
 * with the command on the server's row; the report calls it replaced (and a file never
 * stored before new), and the instance's metadata document shows the new value.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DicomWebClient } from '../../src/dicomweb';
import { uidFromString } from '../support/bulkData';
import { makeImageInstance, type ImageInstanceParams } from '../support/dicomWriter';
import { activateExtension, executeCommand, readManifest } from './helpers';

interface Node {
  getTreeItem(): vscode.TreeItem;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  connection?: { id: string };
}

interface Api {
  services: {
    tree: { getChildren(node?: unknown): Promise<Node[]>; refresh(node?: unknown): void };
    prompts: {
      confirm(message: string, detail: string, action: string): Promise<boolean>;
      askSecret(): Promise<string | undefined>;
    };
  };
}

interface Result {
  stored: number;
  failed: number;
  outcomes: Array<{ status: string; replaced?: boolean; sopInstanceUid?: string }>;
}

function instance(name: string, seriesDescription: string): ImageInstanceParams {
  return {
    studyUid: uidFromString(`${name}/study`),
    seriesUid: uidFromString(`${name}/series`),
    sopInstanceUid: uidFromString(`${name}/instance`),
    patientName: 'Replace^Test',
    patientId: 'REPLACE-1',
    studyDate: '20240101',
    modality: 'OT',
    rows: 8,
    columns: 8,
    samplesPerPixel: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: 8,
    pixelData: new Uint8Array(64),
    instanceNumber: 1,
    seriesNumber: 1,
    seriesDescription,
    studyDescription: 'Upload and Replace',
    accessionNumber: 'REPLACE1',
  };
}

function write(dir: string, name: string, params: ImageInstanceParams): vscode.Uri {
  const path = join(dir, name);
  writeFileSync(path, makeImageInstance(params));
  return vscode.Uri.file(path);
}

describe('Upload and Replace on the local server', function () {
  this.timeout(60_000);
  let api: Api;
  let url: string;
  const asked: string[] = [];

  before(async () => {
    api = (await activateExtension()) as Api;
    api.services.prompts = {
      confirm: async (message, _detail, action) => {
        asked.push(`${message} [${action}]`);
        return true;
      },
      askSecret: async () => undefined,
    };
    url = await executeCommand<string>(
      'dicomweb.localServer.start',
      mkdtempSync(join(tmpdir(), 'dw-it-up-')),
    );
  });
  after(() => vscode.commands.executeCommand('dicomweb.localServer.stop'));

  async function localNode(): Promise<Node> {
    const roots = await api.services.tree.getChildren();
    const node = roots.find((root) => root.connection?.id === 'local-dicomweb-server');
    assert.ok(node, 'the local server is a root of the tree');
    return node;
  }

  it('offers the command on the local server row (its profile upserts)', async () => {
    const manifest = readManifest() as unknown as {
      contributes: { menus: Record<string, Array<{ command: string; when?: string }>> };
    };
    const entry = manifest.contributes.menus['view/item/context']!.find(
      (item) => item.command === 'dicomweb.node.uploadReplace',
    );
    const pattern = /viewItem =~ \/(.+)\/$/.exec(entry!.when!)![1]!;
    const contextValue = String((await localNode()).getTreeItem().contextValue);
    assert.match(contextValue, new RegExp(pattern));
    assert.doesNotMatch(contextValue.replace(' upsert', ''), new RegExp(pattern));
  });

  it('reports a changed file replaced and a new one new; the metadata shows the new value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-it-replace-'));
    const original = instance('it-replace', 'before the fix');
    const fresh = instance('it-replace-fresh', 'never stored');
    const node = await localNode();
    const first = await executeCommand<Result>('dicomweb.node.uploadHere', node, [
      write(dir, 'original.dcm', original),
    ]);
    assert.equal(first.stored, 1, JSON.stringify(first.outcomes));

    const changed = { ...original, seriesDescription: 'after the fix' };
    const result = await executeCommand<Result>('dicomweb.node.uploadReplace', node, [
      write(dir, 'changed.dcm', changed),
      write(dir, 'fresh.dcm', fresh),
    ]);
    assert.match(asked.at(-1)!, /^Upload and replace 2 files on .*\? \[Upload and Replace\]$/);
    assert.deepEqual(
      result.outcomes.map((o) => [o.status, o.replaced]),
      [
        ['stored', true],
        ['stored', false],
      ],
    );

    api.services.tree.refresh(node);
    const study = (await api.services.tree.getChildren(node)).find(
      (s) => s.studyInstanceUid === original.studyUid,
    );
    const [series] = await api.services.tree.getChildren(study);
    const [row] = await api.services.tree.getChildren(series);
    assert.equal(row?.sopInstanceUid, original.sopInstanceUid, 'one instance, not two');
    const [editor] = await executeCommand<vscode.TextEditor[]>('dicomweb.node.openMetadata', row);
    const text = editor!.document.getText();
    assert.match(text, /after the fix/);
    assert.doesNotMatch(text, /before the fix/);
  });

  it('stops at the modal when the person does not confirm: nothing is sent', async () => {
    api.services.prompts.confirm = async () => false;
    const dir = mkdtempSync(join(tmpdir(), 'dw-it-replace-no-'));
    const original = instance('it-replace', 'not sent');
    const result = await executeCommand('dicomweb.node.uploadReplace', await localNode(), [
      write(dir, 'x.dcm', original),
    ]);
    assert.equal(result, undefined, 'cancelled: no upload result');
    const client = new DicomWebClient({ baseUrl: url, serverKind: 'local' });
    const [metadata] = await client.retrieveInstanceMetadata(
      original.studyUid,
      original.seriesUid,
      original.sopInstanceUid,
    );
    await client.close();
    assert.equal(metadata?.['0008103E']?.Value?.[0], 'after the fix');
  });
});
