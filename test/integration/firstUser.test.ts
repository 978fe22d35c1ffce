/**
 * What a first user tripped over (issue 11, item 8), in the real extension host against the
 * real local server: a refused token, counts after a delete, the upload report and its
 * reasons, and the upload entry chosen on files that are not DICOM.
 */
import * as assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { bearerAuth, DicomWebClient } from '../../src/dicomweb';
import { startLocalServer, type LocalServer } from '../../src/server';
import { openReport } from '../../src/commands/upload';
import { writeSmallInstances } from '../support/bulkData';
import { SEED, writeSeedFiles } from '../support/seedData';
import { activateExtension, executeCommand, waitFor } from './helpers';

interface Node {
  id: string;
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
      askSecret(title: string, prompt: string): Promise<string | undefined>;
    };
    extensionContext: vscode.ExtensionContext;
  };
}

interface UploadResult {
  outcomes: Array<{
    file: string;
    status: 'stored' | 'warning' | 'failed' | 'skipped';
    reasonCode?: number;
    reasonText?: string;
    message?: string;
    httpStatus?: number;
    sopInstanceUid?: string;
  }>;
  stored: number;
  warnings: number;
  failed: number;
  skipped: number;
  serverWarnings: string[];
  notDicom: string[];
  target: string;
  message?: string;
}

const labelOf = (node: Node): string => {
  const label = node.getTreeItem().label;
  return typeof label === 'string' ? label : (label?.label ?? '');
};
const descriptionOf = (node: Node): string => String(node.getTreeItem().description ?? '');

function readLogs(folder: string): string {
  let text = '';
  const visit = (path: string): void => {
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) return;
    if (info.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else if (path.endsWith('.log')) text += readFileSync(path, 'utf8');
  };
  visit(folder);
  return text;
}

describe('First user: what tripped a new user up', function () {
  this.timeout(60_000);
  let api: Api;
  let savedPrompts: Api['services']['prompts'];
  const asked: string[] = [];
  let secretAnswer: string | undefined;
  const servers: LocalServer[] = [];

  const setServers = (value: unknown[]) =>
    vscode.workspace
      .getConfiguration('dicomweb')
      .update('servers', value, vscode.ConfigurationTarget.Global);

  before(async () => {
    api = (await activateExtension()) as Api;
    savedPrompts = api.services.prompts;
    api.services.prompts = {
      confirm: async () => true,
      askSecret: async (_title, prompt) => {
        asked.push(prompt);
        return secretAnswer;
      },
    };
    await setServers([]);
  });

  after(async () => {
    api.services.prompts = savedPrompts;
    await setServers([]);
    for (const server of servers) await server.close();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  async function rootOf(connectionId: string): Promise<Node> {
    const node = (await api.services.tree.getChildren()).find(
      (root) => root.connection?.id === connectionId,
    );
    assert.ok(node, 'the connection is a root of the tree');
    return node;
  }

  /** A local server with the seed study, added to the extension. */
  async function seededServer(
    name: string,
    options: { token?: string; secret?: string } = {},
  ): Promise<{ server: LocalServer; root: Node; url: string }> {
    const server = await startLocalServer({
      dir: mkdtempSync(join(tmpdir(), 'dicomweb-it-first-')),
      port: 0,
      token: options.token,
    });
    servers.push(server);
    const url = `${server.url}/v2`;
    const client = new DicomWebClient({
      baseUrl: url,
      serverKind: 'local',
      auth: options.token ? bearerAuth(async () => options.token) : undefined,
    });
    try {
      assert.equal(
        (
          await client.storeInstances(
            await writeSeedFiles(mkdtempSync(join(tmpdir(), 'dicomweb-it-first-seed-'))),
          )
        ).stored,
        3,
      );
    } finally {
      await client.close();
    }
    const input = options.token
      ? { name, url, kind: 'local', auth: 'bearer', secret: options.secret }
      : { name, url, kind: 'local' };
    const connection = await executeCommand<{ id: string }>('dicomweb.server.add', input);
    return { server, root: await rootOf(connection.id), url };
  }

  it('a wrong token reads "refused" with a retry that asks again, and the log names the connection', async () => {
    secretAnswer = undefined;
    asked.length = 0;
    const { root } = await seededServer('Token test', {
      token: 'the-right-token',
      secret: 'a-wrong-token',
    });
    const rows = await api.services.tree.getChildren(root);
    assert.equal(rows.length, 1);
    assert.equal(
      labelOf(rows[0]),
      'Not authorized (401): "Token test" refused the bearer token; click to enter it again',
    );
    assert.ok(
      asked.some((prompt) => /refused/.test(prompt)),
      `the token was asked for again: ${asked.join(' | ')}`,
    );
    const line = '[Token test] could not list studies (the server refused the bearer token)';
    await waitFor(() => readLogs(api.services.extensionContext.logUri.fsPath).includes(line), {
      description: `"${line}" in the log`,
    });
    // Retrying the row with the right token entered lists the study.
    secretAnswer = 'the-right-token';
    api.services.tree.refresh(root);
    const listed = await api.services.tree.getChildren(root);
    assert.deepEqual(
      listed.map((node) => node.studyInstanceUid),
      [SEED.studyInstanceUid],
    );
  });

  it('after deleting an instance, then a series, the rows above show the counts that are left', async () => {
    await setServers([]);
    const { root } = await seededServer('Counts test');
    const [study] = await api.services.tree.getChildren(root);
    assert.match(descriptionOf(study), /2 series, 3 instances/);
    const series = await api.services.tree.getChildren(study);
    assert.equal(descriptionOf(series[0]), '2 instances');
    const [green] = await api.services.tree.getChildren(series[0]);
    await executeCommand('dicomweb.node.delete', green);
    assert.equal(descriptionOf(series[0]), '1 instance');
    assert.match(descriptionOf(study), /2 series, 2 instances/);
    await executeCommand('dicomweb.node.delete', series[1]);
    assert.match(descriptionOf(study), /1 series, 1 instance\b/);
  });

  it('the upload report is a read-only document; a duplicate says why it failed here; a stored file has no reason', async () => {
    await setServers([]);
    const { root } = await seededServer('Report test');
    const dir = mkdtempSync(join(tmpdir(), 'dicomweb-it-report-'));
    const [fresh] = await writeSmallInstances(join(dir, 'new'), 1, { seed: 'it-first-report' });
    const duplicate = join(dir, 'again.dcm');
    copyFileSync(join(await seedDir(), SEED.redTriangle.fileName), duplicate);
    const result = await executeCommand<UploadResult>('dicomweb.node.uploadHere', root, [
      vscode.Uri.file(fresh.path),
      vscode.Uri.file(duplicate),
    ]);
    const byFile = new Map(result.outcomes.map((outcome) => [outcome.file, outcome]));
    assert.equal(byFile.get(fresh.path)?.status, 'stored');
    assert.equal(byFile.get(duplicate)?.status, 'failed');
    const document = await openReport(api.services, result as never);
    assert.equal(document.uri.scheme, 'dicomweb-upload-report');
    assert.equal(document.isUntitled, false, 'not an untitled document that asks to be saved');
    assert.equal(document.isDirty, false);
    assert.equal(document.languageId, 'markdown');
    const text = document.getText();
    const rowOf = (file: string) =>
      text.split('\n').find((line) => line.includes(`| ${file} |`)) ?? '';
    assert.match(
      rowOf(duplicate),
      /^\| failed \|.*\(45070, 0xB00E\): this server keeps the copy it has and refuses a second one.*Orthanc accepts it/,
    );
    assert.match(
      rowOf(fresh.path),
      /^\| stored \| .* \| {2}\|$/,
      `a stored file has an empty reason: ${rowOf(fresh.path)}`,
    );
    assert.doesNotMatch(text, /HTTP (\d+) — HTTP \1/);
  });

  it('the upload entry on files that are not DICOM says so once, without asking for a server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomweb-it-notdicom-'));
    const license = join(dir, 'LICENSE');
    const makefile = join(dir, 'Makefile');
    writeFileSync(license, 'MIT License\n');
    writeFileSync(makefile, 'all:\n\techo hi\n');
    // Nothing is sent, so no server is picked either: the files are looked at first.
    const one = await executeCommand<UploadResult>(
      'dicomweb.upload.fromExplorer',
      vscode.Uri.file(license),
      [vscode.Uri.file(license)],
    );
    assert.equal(
      one.message,
      'LICENSE is not a DICOM file (no DICM preamble, PS3.10 §7.1); nothing was sent.',
    );
    assert.equal(one.stored + one.failed, 0);
    const both = await executeCommand<UploadResult>(
      'dicomweb.upload.fromExplorer',
      vscode.Uri.file(license),
      [vscode.Uri.file(license), vscode.Uri.file(makefile)],
    );
    assert.equal(
      both.message,
      '2 files (LICENSE, Makefile) are not DICOM files (no DICM preamble, PS3.10 §7.1); nothing was sent.',
    );
    assert.deepEqual(both.notDicom, [license, makefile]);
  });
});

let seedFolder: string | undefined;
async function seedDir(): Promise<string> {
  if (!seedFolder) {
    seedFolder = mkdtempSync(join(tmpdir(), 'dicomweb-it-first-files-'));
    await writeSeedFiles(seedFolder);
  }
  return seedFolder;
}
