/**
 * The "Change Feed" view in the real extension host against the local server (the Azure
 * DICOM service's change feed; no Azure service is reachable here): a store appears as create
 * entries, a delete as a delete entry that turns the older entry's state to "deleted", an
 * entry opens its instance's metadata or says the instance was deleted, "Reveal" selects the
 * instance in the Servers view, the v2 time window narrows the listing, and "Follow" picks up
 * a new store without a refresh, one poll at a time.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DicomWebClient } from '../../src/dicomweb';
import { startLocalServer, type LocalServer } from '../../src/server';
import { writeSmallInstances, type GeneratedInstance } from '../support/bulkData';
import { activateExtension, executeCommand, waitFor } from './helpers';

interface Entry {
  sequence: number;
  action: string;
  state: string;
  sopInstanceUid: string;
}

interface Row {
  id: string;
  entry?: Entry;
  getTreeItem(): vscode.TreeItem;
}

interface FeedRow extends Row {
  connection: { id: string };
  loadedEntries: readonly Entry[];
  latest?: Entry;
  following: boolean;
  active: boolean;
}

interface Api {
  services: {
    changeFeed: { getChildren(node?: Row): Promise<Row[]> };
    changeFeedView: vscode.TreeView<Row>;
    treeView: vscode.TreeView<{ id: string }>;
  };
}

describe('Change Feed view against the local server', function () {
  this.timeout(90_000);
  let api: Api;
  let server: LocalServer;
  let client: DicomWebClient;
  let files: GeneratedInstance[];
  let feed: FeedRow;
  const config = () => vscode.workspace.getConfiguration('dicomweb');

  before(async () => {
    api = (await activateExtension()) as Api;
    server = await startLocalServer({
      dir: mkdtempSync(join(tmpdir(), 'dicomweb-it-feed-')),
      port: 0,
    });
    client = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
    files = await writeSmallInstances(mkdtempSync(join(tmpdir(), 'dicomweb-it-feed-files-')), 3, {
      seed: 'it-feed',
    });
    const connection = await executeCommand<{ id: string }>('dicomweb.server.add', {
      name: 'Feed test',
      url: `${server.url}/v2`,
      kind: 'local',
    });
    const rows = (await api.services.changeFeed.getChildren()) as FeedRow[];
    feed = rows.find((row) => row.connection?.id === connection.id)!;
    assert.ok(feed, 'a local server connection has a change feed row');
  });

  after(async () => {
    if (feed?.following) await executeCommand('dicomweb.changeFeed.unfollow', feed);
    await config().update('servers', [], vscode.ConfigurationTarget.Global);
    await config().update(
      'changeFeed.followIntervalSeconds',
      undefined,
      vscode.ConfigurationTarget.Global,
    );
    await client.close();
    await server.close();
  });

  const entries = async (): Promise<Entry[]> =>
    (await api.services.changeFeed.getChildren(feed)).flatMap((row) =>
      row.entry ? [row.entry] : [],
    );

  it('lists a store as create entries and a delete as a delete entry with states', async () => {
    assert.deepEqual(
      (await api.services.changeFeed.getChildren(feed)).map((row) => row.getTreeItem().label),
      ['No changes'],
    );
    assert.equal((await client.storeInstances(files.slice(0, 2).map((f) => f.path))).stored, 2);
    await executeCommand('dicomweb.changeFeed.refresh', feed);
    assert.deepEqual(
      (await entries()).map((e) => [e.sequence, e.action, e.state]),
      [
        [1, 'create', 'current'],
        [2, 'create', 'current'],
      ],
    );
    const [oldest] = await entries();
    const first = files.find((f) => f.sopInstanceUid === oldest!.sopInstanceUid)!;
    await client.deleteResource({
      studyInstanceUid: first.studyInstanceUid,
      seriesInstanceUid: first.seriesInstanceUid,
      sopInstanceUid: first.sopInstanceUid,
    });
    await executeCommand('dicomweb.changeFeed.refresh', feed);
    assert.deepEqual(
      (await entries()).map((e) => [e.sequence, e.action, e.state]),
      [
        [1, 'create', 'deleted'],
        [2, 'create', 'current'],
        [3, 'delete', 'deleted'],
      ],
    );
    assert.match(String(feed.getTreeItem().description), /latest #3/);
    const rows = await api.services.changeFeed.getChildren(feed);
    assert.match(String(rows[0]!.getTreeItem().contextValue), /^dicomweb:changeFeedEntry deleted/);
    assert.equal((rows[0]!.getTreeItem().iconPath as vscode.ThemeIcon).id, 'diff-added');
    assert.equal((rows[2]!.getTreeItem().iconPath as vscode.ThemeIcon).id, 'diff-removed');
  });

  it('opens a current entry metadata, says a deleted one is gone, reveals the instance', async () => {
    const rows = await api.services.changeFeed.getChildren(feed);
    assert.equal(await executeCommand('dicomweb.changeFeed.openEntry', rows[0]), 'deleted');
    const editor = await executeCommand<vscode.TextEditor>(
      'dicomweb.changeFeed.openEntry',
      rows[1],
    );
    assert.ok(editor.document.getText().includes(rows[1]!.entry!.sopInstanceUid), 'the metadata');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    const result = await executeCommand<{ revealed?: { id: string } }>(
      'dicomweb.changeFeed.reveal',
      rows[1],
    );
    assert.ok(result.revealed?.id.endsWith(`/instance/${rows[1]!.entry!.sopInstanceUid}`));
    await waitFor(
      () => api.services.treeView.selection.some((node) => node.id === result.revealed!.id),
      { description: 'the instance selected in the Servers view' },
    );
  });

  it('narrows the listing to a v2 time window', async () => {
    const future = new Date(Date.now() + 86_400_000);
    await executeCommand('dicomweb.changeFeed.pickWindow', feed, { startTime: future });
    assert.deepEqual(await entries(), []);
    assert.match(String(feed.getTreeItem().description), /–/);
    await executeCommand('dicomweb.changeFeed.pickWindow', feed, {});
    assert.equal((await entries()).length, 3);
  });

  it('follows: a new store appears without a refresh, while the row is expanded', async () => {
    await config().update('changeFeed.followIntervalSeconds', 1, vscode.ConfigurationTarget.Global);
    await executeCommand('dicomweb.changeFeed.focus');
    await api.services.changeFeedView.reveal(feed, { expand: true });
    await executeCommand('dicomweb.changeFeed.follow', feed);
    assert.match(String(feed.getTreeItem().contextValue), /\bfollowing\b/);
    await waitFor(() => feed.active, { description: 'the followed row expanded and visible' });
    assert.equal((await client.storeInstances([files[2]!.path])).stored, 1);
    await waitFor(
      () => feed.loadedEntries.some((e) => e.sopInstanceUid === files[2]!.sopInstanceUid),
      {
        timeoutMs: 15_000,
        description: 'the new create entry, without a refresh',
      },
    );
    assert.equal(feed.latest?.sequence, 4);
    assert.match(String(feed.getTreeItem().description), /latest #4 · following/);
    // Collapsed, or the view hidden: the row keeps following but polls nothing.
    await vscode.commands.executeCommand(
      'workbench.actions.treeView.dicomweb.changeFeed.collapseAll',
    );
    await waitFor(() => !feed.active, { description: 'no polling while collapsed' });
    assert.ok(feed.following);
    await api.services.changeFeedView.reveal(feed, { expand: true });
    await waitFor(() => feed.active, { description: 'polling again once expanded' });
    await vscode.commands.executeCommand('workbench.view.explorer');
    await waitFor(() => !feed.active, { description: 'no polling while the view is hidden' });
    await executeCommand('dicomweb.changeFeed.focus');
    await waitFor(() => feed.active, { description: 'polling again once the view shows' });
    await executeCommand('dicomweb.changeFeed.unfollow', feed);
    assert.equal(feed.active, false, 'unfollowed: no more polls');
  });
});
