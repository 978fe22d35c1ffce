/**
 * "Upload and Replace" (PUT /studies, the Azure DICOM service's upsert) in the real
 * extension host against the local server: a file is uploaded, changed, and uploaded again
 * with the command on the server's row; the report calls it replaced (and a file never
 * stored before new), and the instance's metadata document shows the new value.
 *
 * "Upload and Replace into This Study…" (PUT /studies/{study}, the study-targeted form): on
 * a study row of a connection that upserts, a changed file of the study is reported replaced,
 * a new one new, and a file of another study failed with 0xA901 (43265, the reason Azure and
 * the local server give) without reaching the server; the study's other instances keep their
 * data. Under a partition the partition's URL is used. A connection to the same server under
 * /v1 (no upsert there) has no such entry.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Tag } from '../../src/dicom/tags';
import { DicomWebClient } from '../../src/dicomweb';
import { reportMarkdown } from '../../src/dicomweb/transfer/outcomeText';
import type { FileOutcome } from '../../src/dicomweb/transfer/store';
import { uidFromString } from '../support/bulkData';
import { makeImageInstance, type ImageInstanceParams } from '../support/dicomWriter';
import { smallImageParams } from '../support/smallInstance';
import { activateExtension, executeCommand, readManifest } from './helpers';

interface Node {
  getTreeItem(): vscode.TreeItem;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  partitionName?: string;
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
  target: string;
  outcomes: FileOutcome[];
  notDicom: string[];
  skipped: number;
  warnings: number;
  serverWarnings: string[];
}

/** Modal questions answered yes, each kept in `asked` with its action. */
function recordingPrompts(asked: string[]): Api['services']['prompts'] {
  return {
    confirm: async (message, _detail, action) => {
      asked.push(`${message} [${action}]`);
      return true;
    },
    askSecret: async () => undefined,
  };
}

/** One patient and one study description for every instance this suite writes. */
function instance(name: string, seriesDescription: string): ImageInstanceParams {
  return smallImageParams(name, {
    patientName: 'Replace^Test',
    patientId: 'REPLACE-1',
    studyDescription: 'Upload and Replace',
    accessionNumber: 'REPLACE1',
    seriesDescription,
  });
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
    api.services.prompts = recordingPrompts(asked);
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

const COMMAND = 'dicomweb.study.uploadReplace';
const LOCAL_ID = 'local-dicomweb-server';

/** The study's instances (a, b stored first; c new) and one of another study (x). */
function instances(seed: string) {
  const of = (name: string, study: string, number: number): ImageInstanceParams => ({
    ...instance(`${seed}/${study}`, 'before'),
    sopInstanceUid: uidFromString(`${seed}/${name}`),
    instanceNumber: number,
    pixelData: new Uint8Array(64).fill(number),
  });
  return {
    a: of('a', 'study', 1),
    b: of('b', 'study', 2),
    c: of('c', 'study', 3),
    x: of('x', 'other', 4),
  };
}

/** The row pattern of `command`'s entry in the view's context menu whose pattern starts so. */
function menuPattern(command = COMMAND, row = 'dicomweb:study'): RegExp {
  const manifest = readManifest() as unknown as {
    contributes: { menus: Record<string, Array<{ command: string; when?: string }>> };
  };
  const patterns = manifest.contributes.menus['view/item/context']!.filter(
    (item) => item.command === command,
  ).map((item) => /viewItem =~ \/(.+)\/$/.exec(item.when!)![1]!);
  const pattern = patterns.find((source) => source.startsWith(`^${row}`));
  assert.ok(pattern, `${command} is offered on ${row} rows`);
  return new RegExp(pattern);
}

async function seriesDescription(
  client: DicomWebClient,
  params: ImageInstanceParams,
): Promise<unknown> {
  const [metadata] = await client.retrieveInstanceMetadata(
    params.studyUid,
    params.seriesUid,
    params.sopInstanceUid,
  );
  return metadata?.[Tag.SeriesDescription]?.Value?.[0];
}

async function instanceUids(client: DicomWebClient, studyUid: string): Promise<string[]> {
  const found = await client.searchForInstances({ match: { StudyInstanceUID: studyUid } });
  return found.items.map((item) => String(item[Tag.SOPInstanceUID]?.Value?.[0])).sort();
}

/**
 * Replaces into `study`: a changed, c new, x of another study; checks the report and what the
 * server holds afterwards (through `client`, the URL the study lives at).
 */
async function replaceIntoStudy(
  study: Node,
  set: ReturnType<typeof instances>,
  client: DicomWebClient,
  asked: string[],
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-it-replace-study-'));
  const result = await executeCommand<Result>(COMMAND, study, [
    write(dir, 'a-changed.dcm', { ...set.a, seriesDescription: 'after' }),
    write(dir, 'c-new.dcm', set.c),
    write(dir, 'x-other-study.dcm', set.x),
  ]);
  assert.ok(result, 'the upload ran');
  assert.match(
    asked.at(-1)!,
    new RegExp(`^Upload and replace 3 files on study ${set.a.studyUid.replace(/\./g, '\\.')} on `),
  );
  assert.deepEqual(
    result.outcomes.map((o) => [o.file.split('/').pop(), o.status, o.replaced, o.reasonCode]),
    [
      ['a-changed.dcm', 'stored', true, undefined],
      ['c-new.dcm', 'stored', false, undefined],
      ['x-other-study.dcm', 'failed', undefined, 43265],
    ],
  );
  assert.equal(result.stored, 2);
  assert.equal(result.failed, 1);
  const report = reportMarkdown(result);
  const xLine = report.split('\n').find((line) => line.includes('x-other-study.dcm'));
  assert.match(xLine!, /failed/);
  assert.match(xLine!, /43265, 0xA901/);

  // a replaced, b untouched, c joined; nothing of study x anywhere on this URL.
  assert.equal(await seriesDescription(client, set.a), 'after');
  assert.equal(await seriesDescription(client, set.b), 'before');
  assert.deepEqual(
    await instanceUids(client, set.a.studyUid),
    [set.a.sopInstanceUid, set.b.sopInstanceUid, set.c.sopInstanceUid].sort(),
  );
  assert.deepEqual(await instanceUids(client, set.x.studyUid), []);
}

describe('Upload and Replace into a study of the local server', function () {
  this.timeout(60_000);
  let api: Api;
  let url: string;
  let client: DicomWebClient;
  const asked: string[] = [];
  const set = instances('it-replace-study');

  before(async () => {
    api = (await activateExtension()) as Api;
    api.services.prompts = recordingPrompts(asked);
    await vscode.commands.executeCommand('dicomweb.localServer.stop');
    url = await executeCommand<string>(
      'dicomweb.localServer.start',
      mkdtempSync(join(tmpdir(), 'dw-it-replace-study-srv-')),
    );
    client = new DicomWebClient({ baseUrl: url, serverKind: 'local' });
  });

  after(async () => {
    await client?.close();
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('servers', [], vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('dicomweb.localServer.stop');
  });

  async function root(id: string): Promise<Node> {
    const roots = await api.services.tree.getChildren();
    const node = roots.find((row) => row.connection?.id === id);
    assert.ok(node, `${id} is a root of the tree`);
    return node;
  }

  async function studyRow(server: Node, studyUid: string): Promise<Node> {
    api.services.tree.refresh(server);
    const row = (await api.services.tree.getChildren(server)).find(
      (node) => node.studyInstanceUid === studyUid,
    );
    assert.ok(row, `study ${studyUid} is listed`);
    return row;
  }

  it('offers it on the study rows of an upserting connection, not under /v1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-it-replace-study-first-'));
    const server = await root(LOCAL_ID);
    const first = await executeCommand<Result>('dicomweb.node.uploadHere', server, [
      write(dir, 'a.dcm', set.a),
      write(dir, 'b.dcm', set.b),
    ]);
    assert.equal(first.stored, 2, JSON.stringify(first.outcomes));
    const pattern = menuPattern();
    const study = await studyRow(server, set.a.studyUid);
    assert.match(String(study.getTreeItem().contextValue), pattern);

    // The same server as API v1 has no PUT route (405): its rows carry no `upsert` flag.
    const v1 = await executeCommand<{ id: string }>('dicomweb.server.add', {
      name: 'Local as v1',
      url: url.replace(/\/v2\/?$/, '/v1'),
      kind: 'local',
    });
    const v1Server = await root(v1.id);
    assert.doesNotMatch(String(v1Server.getTreeItem().contextValue), /\bupsert\b/);
    const v1Study = await studyRow(v1Server, set.a.studyUid);
    assert.match(String(v1Study.getTreeItem().contextValue), /^dicomweb:study\b/);
    assert.doesNotMatch(String(v1Study.getTreeItem().contextValue), pattern);
  });

  it('reports replaced, new, and the file of another study failed (43265); the rest untouched', async () => {
    const study = await studyRow(await root(LOCAL_ID), set.a.studyUid);
    await replaceIntoStudy(study, set, client, asked);
  });

  it('sends nothing when the modal is not confirmed', async () => {
    api.services.prompts.confirm = async () => false;
    const dir = mkdtempSync(join(tmpdir(), 'dw-it-replace-study-no-'));
    const study = await studyRow(await root(LOCAL_ID), set.a.studyUid);
    const result = await executeCommand(COMMAND, study, [
      write(dir, 'b-changed.dcm', { ...set.b, seriesDescription: 'not sent' }),
    ]);
    assert.equal(result, undefined, 'cancelled: no upload result');
    assert.equal(await seriesDescription(client, set.b), 'before');
  });
});

describe('Upload and Replace into a study of a partition of the local server', function () {
  this.timeout(60_000);
  let api: Api;
  let url: string;
  const asked: string[] = [];
  const set = instances('it-replace-study-partition');
  const partition = 'site-replace';

  before(async () => {
    api = (await activateExtension()) as Api;
    api.services.prompts = recordingPrompts(asked);
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('localServer.partitions', true, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('dicomweb.localServer.stop');
    url = await executeCommand<string>(
      'dicomweb.localServer.start',
      mkdtempSync(join(tmpdir(), 'dw-it-replace-partition-srv-')),
    );
  });

  after(async () => {
    await vscode.commands.executeCommand('dicomweb.localServer.stop');
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('localServer.partitions', undefined, vscode.ConfigurationTarget.Global);
  });

  it("replaces through the partition's URL, and nothing lands in the default partition", async () => {
    const roots = await api.services.tree.getChildren();
    const server = roots.find((row) => row.connection?.id === LOCAL_ID)!;
    const dir = mkdtempSync(join(tmpdir(), 'dw-it-replace-partition-'));
    const first = await executeCommand<Result>(
      'dicomweb.partition.uploadToNew',
      server,
      partition,
      [write(dir, 'a.dcm', set.a), write(dir, 'b.dcm', set.b)],
    );
    assert.equal(first.stored, 2, JSON.stringify(first.outcomes));
    api.services.tree.refresh(server);
    const row = (await api.services.tree.getChildren(server)).find(
      (node) => node.partitionName === partition,
    );
    assert.ok(row, `partition ${partition} is listed`);
    const study = (await api.services.tree.getChildren(row)).find(
      (node) => node.studyInstanceUid === set.a.studyUid,
    );
    assert.ok(study, 'the study is listed in its partition');
    assert.match(String(study.getTreeItem().contextValue), menuPattern());

    const root = new DicomWebClient({ baseUrl: url, serverKind: 'local' });
    const inPartition = root.forPartition(partition);
    try {
      await replaceIntoStudy(study, set, inPartition, asked);
      const inDefault = root.forPartition('Microsoft.Default');
      assert.deepEqual(await instanceUids(inDefault, set.a.studyUid), []);

      // The partition's own row replaces into it too (PUT /partitions/{name}/studies).
      assert.match(
        String(row.getTreeItem().contextValue),
        menuPattern('dicomweb.node.uploadReplace', 'dicomweb:partition'),
      );
      const again = await executeCommand<Result>('dicomweb.node.uploadReplace', row, [
        write(dir, 'b-changed.dcm', { ...set.b, seriesDescription: 'after' }),
      ]);
      assert.match(asked.at(-1)!, new RegExp(`^Upload and replace 1 file on .*${partition}\\?`));
      assert.deepEqual(
        again.outcomes.map((o) => [o.status, o.replaced]),
        [['stored', true]],
      );
      assert.equal(await seriesDescription(inPartition, set.b), 'after');
      assert.deepEqual(await instanceUids(inDefault, set.a.studyUid), []);
    } finally {
      await root.close();
    }
  });
});
