/**
 * The local DICOMweb server inside the real extension host: started by its command over a
 * folder, shown in the tree and the status bar, browsed, uploaded to and deleted from with
 * the same commands as any server, then stopped.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DicomWebClient } from '../../src/dicomweb';
import { SEED, writeSeedFiles } from '../support/seedData';
import { writeSmallInstances } from '../support/bulkData';
import { activateExtension, executeCommand, waitFor } from './helpers';

interface Node {
  getTreeItem(): vscode.TreeItem;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  connection?: { id: string; url: string; kind?: string };
}

interface Api {
  services: {
    tree: { getChildren(node?: unknown): Promise<Node[]>; refresh(node?: unknown): void };
    prompts: {
      confirm(message: string, detail: string, action: string): Promise<boolean>;
      askSecret(): Promise<string | undefined>;
    };
    localServer: { running?: { url: string; dir: string; pid?: number } };
  };
}

describe('The local DICOMweb server in VS Code', function () {
  this.timeout(60_000);
  let api: Api;
  let folder: string;
  let url: string;

  before(async () => {
    api = (await activateExtension()) as Api;
    api.services.prompts = { confirm: async () => true, askSecret: async () => undefined };
    folder = mkdtempSync(join(tmpdir(), 'dicomweb-it-local-'));
    // A folder that already holds DICOM files: they are served from the start.
    await writeSeedFiles(folder);
  });

  after(async () => {
    await vscode.commands.executeCommand('dicomweb.localServer.stop');
  });

  async function localNode(): Promise<Node> {
    const roots = await api.services.tree.getChildren();
    const node = roots.find((root) => root.connection?.id === 'local-dicomweb-server');
    assert.ok(node, 'the local server is a root of the tree while it runs');
    return node;
  }

  it('starts over a folder, appears in the tree with a /v2 URL, and serves the files already there', async () => {
    url = await executeCommand<string>('dicomweb.localServer.start', folder);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v2$/);
    assert.equal(api.services.localServer.running?.dir, folder);
    const node = await localNode();
    assert.equal(node.connection?.kind, 'local');
    const studies = await api.services.tree.getChildren(node);
    assert.deepEqual(
      studies.map((study) => study.studyInstanceUid),
      [SEED.studyInstanceUid],
    );
    const series = await api.services.tree.getChildren(studies[0]);
    assert.equal(series.length, 2);
  });

  it("answers the seed tutorial's single-part STOW that Orthanc refuses (an Azure form)", async () => {
    const client = new DicomWebClient({ baseUrl: url, serverKind: 'local' });
    const dir = mkdtempSync(join(tmpdir(), 'dicomweb-it-local-single-'));
    const [file] = (await writeSmallInstances(dir, 1, { seed: 'it-local-single' })).map(
      (entry) => entry.path,
    );
    const summary = await client.storeInstances([file], { mode: 'single' });
    assert.equal(summary.stored, 1, JSON.stringify(summary.outcomes));
    await client.close();
  });

  it('uploads through the Explorer command and reports a duplicate as Azure does (45070)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomweb-it-local-up-'));
    const fresh = await writeSmallInstances(dir, 3, { seed: 'it-local-upload' });
    const node = await localNode();
    const result = await executeCommand<{
      outcomes: Array<{ status: string; reasonCode?: number }>;
      stored: number;
    }>('dicomweb.node.uploadHere', node, [
      ...fresh.map((entry) => vscode.Uri.file(entry.path)),
      vscode.Uri.file(join(folder, SEED.redTriangle.fileName)),
    ]);
    assert.equal(result.stored, 3);
    const duplicate = result.outcomes[3];
    assert.equal(duplicate.status, 'failed');
    assert.equal(duplicate.reasonCode, 45070);
    // Stored instances are files in the served folder (written, then renamed into place).
    const client = new DicomWebClient({ baseUrl: url, serverKind: 'local' });
    const found = await client.searchForInstances({
      match: { SOPInstanceUID: fresh.map((entry) => entry.sopInstanceUid) },
    });
    assert.equal(found.items.length, 3);
    await client.close();
  });

  it('deletes a study through the tree; it is gone from the server and its folder', async () => {
    const node = await localNode();
    api.services.tree.refresh(node);
    const studies = await api.services.tree.getChildren(node);
    const seed = studies.find((study) => study.studyInstanceUid === SEED.studyInstanceUid);
    assert.ok(seed);
    await executeCommand('dicomweb.node.delete', seed);
    const client = new DicomWebClient({ baseUrl: url, serverKind: 'local' });
    const left = await client.searchForStudies({
      match: { StudyInstanceUID: SEED.studyInstanceUid },
    });
    assert.equal(left.items.length, 0);
    await client.close();
    await waitFor(
      () =>
        !readdirSync(folder).some(
          (name) => name.endsWith('.dcm') && existsSync(join(folder, name)),
        ),
      { description: 'the seed files to leave the folder' },
    );
  });

  it('can demand a bearer token like Azure: the tree sends it from secret storage, others get 401', async () => {
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('localServer.requireToken', true, vscode.ConfigurationTarget.Global);
    try {
      url = await executeCommand<string>('dicomweb.localServer.restart');
      const anonymous = new DicomWebClient({
        baseUrl: url,
        serverKind: 'local',
        retry: { retries: 0 },
      });
      await assert.rejects(
        anonymous.searchForStudies(),
        (error: unknown) => (error as { status?: number }).status === 401,
      );
      await anonymous.close();
      const node = await localNode();
      const rows = await api.services.tree.getChildren(node);
      assert.ok(
        rows.length > 0 &&
          rows.every((row) => !String(row.getTreeItem().contextValue).includes('error')),
        'the tree lists studies with the token',
      );
      const settings = JSON.stringify(
        vscode.workspace.getConfiguration('dicomweb').inspect('localServer')?.globalValue ?? {},
      );
      const copied = await executeCommand<boolean>('dicomweb.localServer.copyToken');
      assert.equal(copied, true);
      const token = await vscode.env.clipboard.readText();
      assert.ok(token.length >= 24);
      assert.equal(settings.includes(token), false, 'the token is not in settings');
    } finally {
      await vscode.workspace
        .getConfiguration('dicomweb')
        .update('localServer.requireToken', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('stops: the connection leaves the tree and the port closes', async () => {
    const stopped = await executeCommand<boolean>('dicomweb.localServer.stop');
    assert.equal(stopped, true);
    assert.equal(api.services.localServer.running, undefined);
    const roots = await api.services.tree.getChildren();
    assert.equal(
      roots.some((root) => root.connection?.id === 'local-dicomweb-server'),
      false,
    );
    await assert.rejects(fetch(`${url}/studies`));
  });
});
