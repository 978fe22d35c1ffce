/**
 * Remote windows (issue 11, item 6), in the real extension host. code-server is itself a
 * remote-like host: the workbench runs in the browser, the extension host on the server,
 * and `asExternalUri` answers a forwarded URL (its port proxy, `/proxy/PORT/`) for a
 * loopback one. So:
 * - "Copy Local Server URL" copies what `asExternalUri` gives, not the remote's 127.0.0.1;
 * - files dropped from the person's desktop (paths the extension host cannot open, bytes
 *   in the drop) are uploaded from the drop's data.
 */
import * as assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DicomWebClient } from '../../src/dicomweb';
import { writeSmallInstances } from '../support/bulkData';
import { activateExtension, executeCommand } from './helpers';

interface Node {
  connection?: { id: string };
}

interface Api {
  services: {
    tree: { getChildren(node?: unknown): Promise<Node[]> };
    prompts: {
      confirm(message: string, detail: string, action: string): Promise<boolean>;
      askSecret(): Promise<string | undefined>;
    };
    drop: {
      handleDrop(
        target: unknown,
        data: vscode.DataTransfer,
        token: vscode.CancellationToken,
      ): Promise<void>;
    };
  };
}

/**
 * A file dragged from the desktop: its path is the person's machine's, its bytes come with the
 * drop.
 */
class DesktopFile extends vscode.DataTransferItem {
  constructor(private readonly file: { name: string; uri: vscode.Uri; bytes: Uint8Array }) {
    super('');
  }

  override asFile(): vscode.DataTransferFile {
    return { name: this.file.name, uri: this.file.uri, data: async () => this.file.bytes };
  }
}

const dropFolders = () => readdirSync(tmpdir()).filter((name) => name.startsWith('dicomweb-drop-'));

describe('Remote windows', function () {
  this.timeout(60_000);
  let api: Api;
  let loopbackUrl: string;

  before(async () => {
    api = (await activateExtension()) as Api;
    api.services.prompts = { confirm: async () => true, askSecret: async () => undefined };
    loopbackUrl = await executeCommand<string>(
      'dicomweb.localServer.start',
      mkdtempSync(join(tmpdir(), 'dicomweb-it-remote-')),
    );
  });

  after(async () => {
    await vscode.commands.executeCommand('dicomweb.localServer.stop');
  });

  it('Copy Local Server URL copies the URL asExternalUri answers for the server', async () => {
    const expected = (await vscode.env.asExternalUri(vscode.Uri.parse(loopbackUrl))).toString(true);
    const copied = await executeCommand<string>('dicomweb.localServer.copyUrl');
    assert.equal(copied, expected);
    assert.equal(await vscode.env.clipboard.readText(), expected);
    if (vscode.env.uiKind === vscode.UIKind.Web) {
      // code-server: the browser is elsewhere; the copied URL goes through its port proxy.
      assert.notEqual(
        copied,
        loopbackUrl,
        "a web workbench gets a forwarded URL, not the remote's loopback",
      );
    }
    // The copied URL works: the server was told the forwarded address, so its Host check
    // (421 for any other name) accepts requests that arrive through the port proxy.
    const status = await fetch(`${copied}/studies`, {
      headers: { accept: 'application/dicom+json' },
    }).then(
      (response) => response.status,
      (error: unknown) => String(error),
    );
    console.log(
      `[remote] loopback ${loopbackUrl} → external ${copied}: GET /studies through it answered ${status}`,
    );
    assert.ok(
      status === 200 || status === 204,
      `GET /studies through the copied URL answered ${status}`,
    );
    // Any other name is still refused (DNS rebinding).
    const port = new URL(loopbackUrl).port;
    const foreign = await new Promise<number>((resolve, reject) => {
      const request = httpGet(
        {
          host: '127.0.0.1',
          port: Number(port),
          path: '/v2/studies',
          headers: { host: `evil.example:${port}` },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
    });
    assert.equal(foreign, 421, 'a foreign Host is still refused');
  });

  it("uploads files dropped from the desktop from the drop's bytes, and removes its temporary folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomweb-it-desktop-'));
    const [instance] = await writeSmallInstances(dir, 1, { seed: 'it-remote-desktop-drop' });
    // The path as the person's desktop names it: nothing at that path on the extension host.
    const desktopUri = vscode.Uri.file(join('/', 'Users', 'someone', 'Desktop', 'IM0001'));
    const dropped = new vscode.DataTransfer();
    dropped.set('text/uri-list', new vscode.DataTransferItem(desktopUri.toString()));
    dropped.set(
      'application/octet-stream',
      new DesktopFile({ name: 'IM0001', uri: desktopUri, bytes: readFileSync(instance!.path) }),
    );
    const roots = await api.services.tree.getChildren();
    const local = roots.find((root) => root.connection?.id === 'local-dicomweb-server');
    assert.ok(local, 'the local server is in the tree');
    const before = dropFolders();
    await api.services.drop.handleDrop(local, dropped, new vscode.CancellationTokenSource().token);
    const client = new DicomWebClient({ baseUrl: loopbackUrl, serverKind: 'local' });
    try {
      const found = await client.searchForInstances({
        match: { SOPInstanceUID: instance!.sopInstanceUid },
      });
      assert.equal(found.items.length, 1, 'the dropped instance is on the server');
    } finally {
      await client.close();
    }
    assert.deepEqual(dropFolders(), before, 'the temporary folder is gone');
  });
});
