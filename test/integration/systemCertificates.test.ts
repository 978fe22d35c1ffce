/**
 * VS Code's `http.systemCertificates` and `http.proxyStrictSSL` in the real extension host
 * (issue 11, item 6): Orthanc behind a TLS front whose certificate only the operating
 * system's store trusts. test/vscode/runIntegration.ts puts the test CA into that store
 * for the extension host (SSL_CERT_FILE, Linux; /etc/ssl untouched) and names it in
 * DICOMWEB_TEST_SYSTEM_CA; where it cannot (desktop VS Code off Linux), there is no such
 * store to test and the suite is marked skipped there; in code-server on Linux (CI) a
 * missing variable fails.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join, dirname } from 'node:path';
import { createServer, type Server } from 'node:tls';
import * as vscode from 'vscode';
import { activateExtension, testServerUrl } from './helpers';

interface Client {
  searchForStudies(query?: { limit?: number }): Promise<{ items: unknown[] }>;
}

interface Api {
  services: {
    clients: { get(connection: { id: string; name: string; url: string; kind?: string }): Client };
  };
}

const systemCa = process.env.DICOMWEB_TEST_SYSTEM_CA;
const orthanc = testServerUrl();

// In code-server on Linux (CI) runIntegration always sets both: their absence there is a
// broken rig, and fails instead of leaving the suite out unseen.
if (
  !(systemCa && orthanc) &&
  vscode.env.uiKind === vscode.UIKind.Web &&
  process.platform === 'linux'
) {
  describe('A server trusted only through the OS certificate store', () => {
    it('has the test CA and the Orthanc the runner passes in', () => {
      assert.fail(
        `DICOMWEB_TEST_SYSTEM_CA=${systemCa ?? '(unset)'}, DICOMWEB_TEST_URL=${orthanc ?? '(unset)'}: test/vscode/runIntegration.ts sets both in code-server on Linux`,
      );
    });
  });
}

(systemCa && orthanc ? describe : describe.skip.bind(describe))(
  'A server trusted only through the OS certificate store',
  function () {
    this.timeout(60_000);
    let api: Api;
    let front: Server;
    const sockets = new Set<Socket>();
    let url: string;
    const http = () => vscode.workspace.getConfiguration('http');

    before(async () => {
      api = (await activateExtension()) as Api;
      const upstream = new URL(orthanc!);
      // A TLS front for the real Orthanc: bytes pass through unchanged once TLS ends here.
      front = createServer(
        {
          cert: readFileSync(systemCa!),
          key: readFileSync(join(dirname(systemCa!), 'localhost-key.pem')),
        },
        (socket) => {
          const back = connect(Number(upstream.port), upstream.hostname);
          for (const end of [socket, back]) {
            sockets.add(end);
            end.on('error', () => undefined);
            end.on('close', () => sockets.delete(end));
          }
          socket.pipe(back).pipe(socket);
        },
      );
      await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
      url = `https://127.0.0.1:${(front.address() as AddressInfo).port}${upstream.pathname}`;
    });

    after(async () => {
      for (const setting of ['systemCertificates', 'proxyStrictSSL'])
        await http().update(setting, undefined, vscode.ConfigurationTarget.Global);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    });

    /** The extension's own client of a connection to the front (built by its ClientFactory). */
    const search = (id: string) =>
      api.services.clients
        .get({ id, name: `TLS front (${id})`, url, kind: 'generic' })
        .searchForStudies({ limit: 1 });
    const certificateError = (error: unknown) =>
      /self-signed|certificate/i.test(String((error as Error).message));

    it("answers with http.systemCertificates on (VS Code's default), no CA file given", async () => {
      assert.equal(http().inspect('systemCertificates')?.globalValue, undefined, 'the default');
      const answer = await search('syscert-default');
      assert.ok(Array.isArray(answer.items));
    });

    it('is refused with http.systemCertificates off, and reached again with http.proxyStrictSSL off (no verification)', async () => {
      await http().update('systemCertificates', false, vscode.ConfigurationTarget.Global);
      await assert.rejects(search('syscert-off'), certificateError);
      await http().update('proxyStrictSSL', false, vscode.ConfigurationTarget.Global);
      const answer = await search('syscert-off'); // the settings changed: the client is rebuilt
      assert.ok(Array.isArray(answer.items));
    });
  },
);
