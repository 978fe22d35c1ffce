/**
 * Extended query tags in the real extension host against the real local server (the Azure
 * DICOM service's emulator): "Add Extended Query Tag…" follows the reindex operation to
 * success, the connection then shows the tag, the tree's filter finds the right study by
 * it, "Show Operation Status…" reads the operation again, and Delete takes the tag away.
 */
import * as assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DicomWebClient } from '../../src/dicomweb';
import { startLocalServer, type LocalServer } from '../../src/server';
import { smallInstance } from '../server/helpers';
import { activateExtension, executeCommand } from './helpers';

interface TreeNode {
  id: string;
  connection?: { id: string };
  studyInstanceUid?: string;
  getTreeItem(): vscode.TreeItem;
}

interface Api {
  services: {
    tree: { getChildren(node?: TreeNode): Promise<TreeNode[]> };
    prompts: {
      confirm(message: string, detail: string, action: string): Promise<boolean>;
      askSecret(title: string, prompt: string): Promise<string | undefined>;
    };
  };
}

const TAGS_ROW = /\/extendedQueryTags$/;

describe('Extended query tags on the local server', function () {
  this.timeout(60_000);
  let server: LocalServer;
  let client: DicomWebClient;
  let api: Api;
  const heavy = smallInstance('it-eqt-heavy', {
    extraElements: [{ tag: '00101030', vr: 'DS', value: '72.5' }],
  });
  const light = smallInstance('it-eqt-light', {
    extraElements: [{ tag: '00101030', vr: 'DS', value: '51' }],
  });

  before(async () => {
    api = (await activateExtension()) as Api;
    const dir = await mkdtemp(join(tmpdir(), 'dicomweb-it-eqt-'));
    await writeFile(join(dir, 'heavy.dcm'), heavy.bytes);
    await writeFile(join(dir, 'light.dcm'), light.bytes);
    server = await startLocalServer({ dir, port: 0 });
    client = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('servers', [], vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    // The other suites start from a tree without connections.
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('servers', [], vscode.ConfigurationTarget.Global);
    await client.close();
    await server.close();
  });

  it('adds a tag, follows its reindex, filters by it, and deletes it', async () => {
    const connection = await executeCommand<{ id: string }>('dicomweb.server.add', {
      name: 'Local server (extended query tags test)',
      url: `${server.url}/v2`,
      kind: 'local',
    });
    const root = (await api.services.tree.getChildren()).find(
      (node) => node.connection?.id === connection.id,
    );
    assert.ok(root, 'the server is a root of the tree');
    const before = await api.services.tree.getChildren(root);
    assert.equal(before.filter((row) => TAGS_ROW.test(row.id)).length, 0, 'no tag, no row');
    assert.match(String(root.getTreeItem().contextValue), /\bextendedQueryTags\b/);

    const added = await executeCommand<{
      operationId: string;
      operation?: { status: string; percentComplete: number };
    }>('dicomweb.extendedQueryTag.add', root, { path: 'PatientWeight', level: 'Study' });
    assert.equal(added.operation?.status, 'succeeded');
    assert.equal(added.operation?.percentComplete, 100);

    const rows = await api.services.tree.getChildren(root);
    const tagsRow = rows.find((row) => TAGS_ROW.test(row.id));
    assert.ok(tagsRow, `an Extended Query Tags row: ${rows.map((r) => r.id).join(', ')}`);
    const [tagRow] = await api.services.tree.getChildren(tagsRow);
    const item = tagRow!.getTreeItem();
    assert.equal(item.label, 'PatientWeight');
    assert.equal(item.description, 'Study · DS · Ready');
    assert.match(String(item.contextValue), /^dicomweb:extendedQueryTag\b.*\benabled\b/);

    // The tree's filter takes the ready tag as a key (QIDO matches it on the server).
    await executeCommand('dicomweb.server.setFilter', root, {
      attributes: { PatientWeight: '72.5' },
    });
    const filtered = await api.services.tree.getChildren(root);
    assert.deepEqual(
      filtered.filter((row) => row.studyInstanceUid).map((row) => row.studyInstanceUid),
      [heavy.params.studyUid],
    );
    await executeCommand('dicomweb.server.clearFilter', root);

    const state = await executeCommand<{ status: string }>(
      'dicomweb.operation.show',
      added.operationId,
    );
    assert.equal(state.status, 'succeeded');

    const saved = api.services.prompts;
    const asked: string[] = [];
    api.services.prompts = {
      ...saved,
      confirm: async (message) => {
        asked.push(message);
        return true;
      },
    };
    try {
      assert.equal(await executeCommand('dicomweb.extendedQueryTag.delete', tagRow), true);
    } finally {
      api.services.prompts = saved;
    }
    assert.match(asked[0] ?? '', /PatientWeight \(0010,1030\)/, 'the confirm names the tag');
    assert.deepEqual(await client.listExtendedQueryTags(), []);
    const after = await api.services.tree.getChildren(root);
    assert.equal(after.filter((row) => TAGS_ROW.test(row.id)).length, 0);
  });
});
