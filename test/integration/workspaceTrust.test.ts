/**
 * Issue 10, finding 4b, in the real extension host: a repository's .vscode/settings.json
 * replaces `dicomweb.servers` with an entry that reuses the id of the user's bearer
 * connection and points at another server. Before: the entry took the user's place, read
 * the user's token from SecretStorage by that id and sent it; saving another server then
 * copied the workspace's list into user settings. Now the workspace entry is a connection
 * of its own, marked in the tree, and gets no credential until the user approves its
 * origin; saving writes the user's own list only.
 *
 * The server is the project's real local DICOMweb server, started here on loopback with a
 * bearer token (PS3.18 §8.10 leaves authentication to the origin; Azure's form): without
 * `Authorization: Bearer <token>` it answers 401, with it 200, so its answers show whether
 * the credential was sent.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { startLocalServer, type LocalServer } from '../../src/server';
import { SEED, writeSeedFiles } from '../support/seedData';
import { activateExtension, executeCommand, waitFor } from './helpers';

interface Node {
  getTreeItem(): vscode.TreeItem;
  studyInstanceUid?: string;
  connection?: { id: string; url: string; source?: string };
}

interface Prompts {
  confirm(message: string, detail: string, action: string): Promise<boolean>;
  askSecret(title: string, prompt: string): Promise<string | undefined>;
}

interface Api {
  services: {
    tree: { getChildren(node?: unknown): Promise<Node[]>; refresh(node?: unknown): void };
    prompts: Prompts;
    connections: { remove(id: string): Promise<void> };
    credentials: { revoke(origins: string[]): Promise<void> };
  };
}

const USER_ID = 'it-trust-user';
const TOKEN = 'the-users-real-token-4b';

describe('Connections from workspace settings (issue 10, finding 4b)', function () {
  this.timeout(60_000);
  let api: Api;
  let server: LocalServer;
  let savedPrompts: Prompts;
  const questions: string[] = [];
  const secretsAsked: string[] = [];
  let allow = false;

  before(async () => {
    api = (await activateExtension()) as Api;
    savedPrompts = api.services.prompts;
    api.services.prompts = {
      confirm: async (message) => (questions.push(message), allow),
      askSecret: async (title) => (secretsAsked.push(title), TOKEN),
    };
    const folder = mkdtempSync(join(tmpdir(), 'dicomweb-it-trust-'));
    await writeSeedFiles(folder);
    server = await startLocalServer({ dir: folder, port: 0, token: TOKEN });
    // The user's own connection, with its token in SecretStorage.
    await executeCommand('dicomweb.server.add', {
      id: USER_ID,
      name: 'My server',
      url: `${server.url}/v2`,
      kind: 'local',
      auth: 'bearer',
      secret: TOKEN,
    });
  });

  after(async () => {
    api.services.prompts = savedPrompts;
    const configuration = vscode.workspace.getConfiguration('dicomweb');
    await configuration.update('servers', undefined, vscode.ConfigurationTarget.Workspace);
    await api.services.connections.remove(USER_ID).catch(() => undefined);
    await api.services.connections.remove('it-trust-second').catch(() => undefined);
    for (const id of ['it-userinfo', 'it-userinfo-added'])
      await api.services.connections.remove(id).catch(() => undefined);
    await api.services.credentials.revoke([new URL(server.url).origin]);
    await server?.close();
  });

  async function roots(): Promise<Node[]> {
    return api.services.tree.getChildren();
  }

  it("a workspace entry reusing the user connection's id is its own connection, marked, and sends no credential until approved", async () => {
    const hostile = {
      id: USER_ID,
      name: 'Planted by the repository',
      url: `${server.url}/v2`,
      kind: 'local',
      auth: 'bearer',
    };
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('servers', [hostile], vscode.ConfigurationTarget.Workspace);
    const workspaceNode = await waitFor(
      async () => (await roots()).find((node) => node.connection?.source === 'workspace'),
      { description: 'the workspace connection in the tree' },
    );
    const userNode = (await roots()).find((node) => node.connection?.id === USER_ID);
    assert.ok(userNode, "the user's own connection stays in the tree");
    assert.notEqual(
      workspaceNode.connection?.id,
      USER_ID,
      "the workspace entry does not take the user connection's id (nor its secret)",
    );
    assert.match(String(workspaceNode.getTreeItem().description), /^workspace settings/);
    assert.match(
      String((workspaceNode.getTreeItem().tooltip as vscode.MarkdownString).value),
      /no credential is sent until you approve/,
    );

    // Refused: the server sees no Authorization and answers 401; no secret is asked for.
    allow = false;
    const refused = await api.services.tree.getChildren(workspaceNode);
    assert.equal(refused.length, 1);
    assert.match(String(refused[0].getTreeItem().label), /Not authorized \(401\)/);
    assert.deepEqual(questions, [
      `This workspace's settings point DICOMweb Explorer at ${new URL(server.url).origin}. Send your credentials there?`,
    ]);
    assert.deepEqual(secretsAsked, [], 'no token asked for an unapproved workspace connection');

    // The user's own connection still works with its token, and is never asked about.
    const studies = await api.services.tree.getChildren(userNode);
    assert.deepEqual(
      studies.map((study) => study.studyInstanceUid),
      [SEED.studyInstanceUid],
    );
    assert.equal(questions.length, 1);
  });

  it('after the user approves the origin, the workspace connection uses a credential of its own', async () => {
    await api.services.credentials.revoke([new URL(server.url).origin]);
    allow = true;
    const workspaceNode = (await roots()).find((node) => node.connection?.source === 'workspace');
    assert.ok(workspaceNode);
    // The error row's retry: the node forgets its error and asks the server again.
    api.services.tree.refresh(workspaceNode);
    const studies = await api.services.tree.getChildren(workspaceNode);
    assert.deepEqual(
      studies.map((study) => study.studyInstanceUid),
      [SEED.studyInstanceUid],
      `rows: ${studies.map((row) => row.getTreeItem().label).join(' | ')}`,
    );
    assert.equal(questions.length, 2, 'asked once more after the revoke');
    assert.equal(secretsAsked.length, 1, "its own token was asked for (the user's was not reused)");
  });

  it("saving a server writes the user's list only: the workspace entry is not copied into user settings", async () => {
    await executeCommand('dicomweb.server.add', {
      id: 'it-trust-second',
      name: 'Second',
      url: `${server.url}/v2`,
      kind: 'local',
      auth: 'none',
    });
    const inspected = vscode.workspace
      .getConfiguration('dicomweb')
      .inspect<Array<{ id: string }>>('servers');
    const userIds = (inspected?.globalValue ?? []).map((entry) => entry.id);
    assert.ok(
      userIds.includes(USER_ID) && userIds.includes('it-trust-second'),
      `user settings: ${userIds.join(', ')}`,
    );
    assert.equal(userIds.filter((id) => id === USER_ID).length, 1);
    const mine = (inspected?.globalValue ?? []).find((entry) => entry.id === USER_ID) as
      { name?: string } | undefined;
    assert.equal(
      mine?.name,
      'My server',
      "the user's entry is the user's, not the workspace's entry of the same id",
    );
    assert.ok(
      !(inspected?.globalValue ?? []).some(
        (entry) =>
          (entry as { source?: string }).source !== undefined ||
          (entry as { auth?: string; id: string }).id.startsWith('workspace:'),
      ),
    );
    // Editing or removing the workspace connection is refused: it lives in the workspace.
    const workspaceNode = (await roots()).find((node) => node.connection?.source === 'workspace');
    await assert.rejects(
      api.services.connections.remove(String(workspaceNode?.connection?.id)),
      /comes from this workspace's settings/,
    );
  });

  it('a URL with user:password@ is used and shown without them; Add Server moves them out of the URL (finding 4c)', async () => {
    const configuration = vscode.workspace.getConfiguration('dicomweb');
    const mine = configuration.inspect<unknown[]>('servers')?.globalValue ?? [];
    const withUserInfo = `http://alice:s3cret-4c@127.0.0.1:${server.port}/v2`;
    await configuration.update(
      'servers',
      [...mine, { id: 'it-userinfo', name: 'With user info', url: withUserInfo, kind: 'local' }],
      vscode.ConfigurationTarget.Global,
    );
    const node = await waitFor(
      async () => (await roots()).find((candidate) => candidate.connection?.id === 'it-userinfo'),
      { description: 'the connection with user info in the tree' },
    );
    assert.equal(node.connection?.url, `${server.url}/v2`);
    const item = node.getTreeItem();
    const shown = `${String(item.description)} ${String((item.tooltip as vscode.MarkdownString).value)}`;
    assert.ok(!shown.includes('s3cret-4c') && !shown.includes('alice:'), shown);
    assert.match(shown, /Authentication: basic/, 'the user info became HTTP basic');

    const added = await executeCommand<{ url: string; auth?: string; username?: string }>(
      'dicomweb.server.add',
      {
        id: 'it-userinfo-added',
        name: 'Added',
        url: `http://bob:pw-4c@127.0.0.1:${server.port}/v2`,
        kind: 'local',
      },
    );
    assert.equal(added.url, `${server.url}/v2`);
    assert.equal(added.auth, 'basic');
    assert.equal(added.username, 'bob');
    const saved = JSON.stringify(
      vscode.workspace.getConfiguration('dicomweb').inspect('servers')?.globalValue,
    );
    assert.ok(!saved.includes('pw-4c'), 'the password is not in the user settings');
  });
});
