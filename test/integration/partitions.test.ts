/**
 * Data partitions in the real extension host, against the local server started with
 * `dicomweb.localServer.partitions` on (the Azure DICOM service's "Enable data partitions"):
 * the connection lists its partitions, each a branch with its own studies; an upload to a new
 * partition creates it, an upload to a partition row lands there only, a delete in one
 * partition leaves the other's copy, Find by UID finds the partition that holds a UID, and
 * Copy as cURL carries `/partitions/{name}`.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DicomWebClient } from '../../src/dicomweb';
import { writeSmallInstances, type GeneratedInstance } from '../support/bulkData';
import { SEED, writeSeedFiles } from '../support/seedData';
import { activateExtension, executeCommand } from './helpers';

interface Node {
  getTreeItem(): vscode.TreeItem;
  studyInstanceUid?: string;
  partitionName?: string;
  connection?: { id: string };
}

interface FeedRow {
  connection?: { id: string };
  entry?: { partitionName?: string; sopInstanceUid: string; action: string; state: string };
  getTreeItem(): vscode.TreeItem;
}

interface Api {
  services: {
    tree: { getChildren(node?: unknown): Promise<Node[]>; refresh(node?: unknown): void };
    changeFeed: { getChildren(node?: FeedRow): Promise<FeedRow[]> };
    prompts: {
      confirm(message: string, detail: string, action: string): Promise<boolean>;
      askSecret(): Promise<string | undefined>;
    };
  };
}

describe('Data partitions of the local server in VS Code', function () {
  this.timeout(60_000);
  let api: Api;
  let url: string;
  let client: DicomWebClient;
  let shared: GeneratedInstance[];
  let onlyA: GeneratedInstance[];

  before(async () => {
    api = (await activateExtension()) as Api;
    api.services.prompts = { confirm: async () => true, askSecret: async () => undefined };
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('localServer.partitions', true, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('dicomweb.localServer.stop');
    const folder = mkdtempSync(join(tmpdir(), 'dicomweb-it-partitions-'));
    await writeSeedFiles(folder);
    url = await executeCommand<string>('dicomweb.localServer.start', folder);
    client = new DicomWebClient({ baseUrl: url, serverKind: 'local' });
    const files = mkdtempSync(join(tmpdir(), 'dicomweb-it-partitions-files-'));
    shared = await writeSmallInstances(files, 2, { seed: 'it-partitions-shared' });
    onlyA = await writeSmallInstances(files, 1, {
      seed: 'it-partitions-only-a',
      filePrefix: 'a',
    });
  });

  after(async () => {
    await client?.close();
    await vscode.commands.executeCommand('dicomweb.localServer.stop');
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('localServer.partitions', undefined, vscode.ConfigurationTarget.Global);
  });

  async function serverNode(): Promise<Node> {
    const roots = await api.services.tree.getChildren();
    const node = roots.find((root) => root.connection?.id === 'local-dicomweb-server');
    assert.ok(node, 'the local server is a root of the tree');
    return node;
  }

  async function partitionRows(): Promise<Node[]> {
    const server = await serverNode();
    api.services.tree.refresh(server);
    return api.services.tree.getChildren(server);
  }

  async function partition(name: string): Promise<Node> {
    const row = (await partitionRows()).find((node) => node.partitionName === name);
    assert.ok(row, `partition ${name} is listed`);
    return row;
  }

  const uris = (instances: GeneratedInstance[]) => instances.map((i) => vscode.Uri.file(i.path));

  it('lists the partitions under the connection, the served folder as Microsoft.Default', async () => {
    const rows = await partitionRows();
    assert.deepEqual(
      rows.map((row) => row.partitionName),
      ['Microsoft.Default'],
    );
    assert.match(String(rows[0]!.getTreeItem().contextValue), /^dicomweb:partition\b/);
    const server = await serverNode();
    assert.match(String(server.getTreeItem().contextValue), /\bpartitioned\b/);
    const studies = await api.services.tree.getChildren(rows[0]);
    assert.deepEqual(
      studies.map((study) => study.studyInstanceUid),
      [SEED.studyInstanceUid],
    );
  });

  it('uploads to new partitions: the same UIDs in two partitions, data apart', async () => {
    const server = await serverNode();
    for (const name of ['site-a', 'site-b']) {
      const result = await executeCommand<{ stored: number }>(
        'dicomweb.partition.uploadToNew',
        server,
        name,
        uris(shared),
      );
      assert.equal(result.stored, 2, name);
    }
    assert.deepEqual(
      (await partitionRows()).map((row) => row.partitionName),
      ['Microsoft.Default', 'site-a', 'site-b'],
    );
    const inA = await api.services.tree.getChildren(await partition('site-a'));
    assert.deepEqual(
      inA.map((study) => study.studyInstanceUid),
      [shared[0]!.studyInstanceUid],
    );
    const inDefault = await api.services.tree.getChildren(await partition('Microsoft.Default'));
    assert.deepEqual(
      inDefault.map((study) => study.studyInstanceUid),
      [SEED.studyInstanceUid],
    );
  });

  it('uploads to a partition row into that partition only', async () => {
    const result = await executeCommand<{ stored: number; target: string }>(
      'dicomweb.node.uploadHere',
      await partition('site-a'),
      uris(onlyA),
    );
    assert.equal(result.stored, 1);
    assert.match(result.target, /\/ site-a$/);
    const inA = await client.forPartition('site-a').searchForStudies();
    const inB = await client.forPartition('site-b').searchForStudies();
    assert.equal(inA.items.length, 2);
    assert.equal(inB.items.length, 1);
  });

  it('deletes a study in one partition and leaves the copy in the other', async () => {
    const rowA = await partition('site-a');
    const studies = await api.services.tree.getChildren(rowA);
    const study = studies.find((s) => s.studyInstanceUid === shared[0]!.studyInstanceUid);
    assert.ok(study);
    await executeCommand('dicomweb.node.delete', study);
    const match = { StudyInstanceUID: shared[0]!.studyInstanceUid };
    const leftA = await client.forPartition('site-a').searchForStudies({ match });
    const leftB = await client.forPartition('site-b').searchForStudies({ match });
    assert.equal(leftA.items.length, 0, 'gone from site-a');
    assert.equal(leftB.items.length, 1, 'kept in site-b');
  });

  it('finds a UID in the partition that holds it (Find by UID)', async () => {
    const wanted = onlyA[0]!.sopInstanceUid;
    const result = await executeCommand<{
      found: Array<{ node: { id: string; target: { sopInstanceUid?: string } } }>;
    }>('dicomweb.findByUid', await serverNode(), wanted);
    assert.equal(result.found.length, 1);
    assert.match(result.found[0]!.node.id, /\/partition\/site-a\/study\//);
    assert.equal(result.found[0]!.node.target.sopInstanceUid, wanted);
  });

  it("opens a study's metadata in a partition from the partition's URL", async () => {
    const [study] = await api.services.tree.getChildren(await partition('site-b'));
    assert.equal(study?.studyInstanceUid, shared[0]!.studyInstanceUid);
    // The service's own /studies/{study}/metadata is 400 with partitions on (no partition).
    const [editor] = await executeCommand<vscode.TextEditor[]>('dicomweb.node.openMetadata', study);
    assert.ok(editor, 'a metadata editor opened');
    const text = editor.document.getText();
    assert.ok(text.includes(shared[0]!.sopInstanceUid), text.slice(0, 300));
    assert.match(editor.document.uri.query, /(^|&)partition=site-b(&|$)/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it("lists every partition's changes in the connection's one change feed, and opens them there", async () => {
    const feed = (await api.services.changeFeed.getChildren()).find(
      (row) => row.connection?.id === 'local-dicomweb-server',
    );
    assert.ok(feed, 'the partitioned local server has a Change Feed row');
    await executeCommand('dicomweb.changeFeed.refresh', feed);
    const rows = await api.services.changeFeed.getChildren(feed);
    const entries = rows.map((row) => row.entry).filter((entry) => entry !== undefined);
    // Uploads above: 2 to site-a, 2 to site-b, 1 more to site-a; then a delete in site-a.
    assert.deepEqual([...new Set(entries.map((entry) => entry.partitionName))].sort(), [
      'site-a',
      'site-b',
    ]);
    const onlyInA = rows.find((row) => row.entry?.sopInstanceUid === onlyA[0]!.sopInstanceUid);
    assert.equal(onlyInA?.entry?.partitionName, 'site-a');
    assert.match(String(onlyInA.getTreeItem().description), /site-a/);
    const editor = await executeCommand<vscode.TextEditor>(
      'dicomweb.changeFeed.openEntry',
      onlyInA,
    );
    assert.ok(editor.document.getText().includes(onlyA[0]!.sopInstanceUid), 'its metadata');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('compares a local file with the instance in the partition that holds it', async () => {
    const file = onlyA[0]!;
    const result = await executeCommand<{ right: vscode.Uri }>(
      'dicomweb.file.compareWithServer',
      vscode.Uri.file(file.path),
      'local-dicomweb-server',
    );
    assert.match(result.right.query, /(^|&)partition=site-a(&|$)/);
    const server = await vscode.workspace.openTextDocument(result.right);
    assert.ok(server.getText().includes(file.sopInstanceUid), server.getText().slice(0, 300));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it("copies cURL commands with the partition's URL", async () => {
    const rowB = await partition('site-b');
    const onPartition = await executeCommand<string>('dicomweb.node.copyCurl', rowB, undefined, 0);
    assert.ok(onPartition.includes(`${url}/partitions/site-b/studies`), onPartition);
    const [study] = await api.services.tree.getChildren(rowB);
    assert.ok(study?.studyInstanceUid);
    const onStudy = await executeCommand<string>('dicomweb.node.copyCurl', study, undefined, 0);
    assert.ok(
      onStudy.includes(`${url}/partitions/site-b/studies/${study.studyInstanceUid}`),
      onStudy,
    );
    const onServer = await executeCommand<string>(
      'dicomweb.node.copyCurl',
      await serverNode(),
      undefined,
      0,
    );
    // The server row's first request lists the partitions (its own /studies would be 400).
    assert.ok(onServer.includes(`${url}/partitions`) && !onServer.includes('/studies'), onServer);
  });
});
