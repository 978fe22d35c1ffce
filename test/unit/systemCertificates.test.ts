/**
 * VS Code's `http.systemCertificates` and `http.proxyStrictSSL` for the DICOMweb client
 * (src/config/certificates.ts): which CAs a connection trusts, and a TLS server on
 * 127.0.0.1 whose CA is trusted only through the operating system's store — reached by
 * both readers of the client (undici for QIDO, the socket reader for a retrieve to disk).
 *
 * The OS store is not touched: on Linux Node reads it through OpenSSL's default locations,
 * which SSL_CERT_FILE / SSL_CERT_DIR override, so a child Node started with them pointing
 * at the test CA reads a "system store" that holds only that CA.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import {
  decideTrust,
  nodeCertificateSources,
  type CertificateSources,
  type NetworkTrustSettings,
} from '../../src/config/certificates';
import { DicomWebClient } from '../../src/dicomweb/client';
import { DicomWebError } from '../../src/dicomweb/transport/errors';
import { listenOnLoopback } from '../support/loopback';
import { SEED_INSTANCES, writeSeedFiles } from '../support/seedData';

const TLS_DIR = join(__dirname, '..', '..', '..', 'test', 'support', 'tls');
const CERT_PATH = join(TLS_DIR, 'localhost-cert.pem');
const CERT = readFileSync(CERT_PATH);
const KEY = readFileSync(join(TLS_DIR, 'localhost-key.pem'));
const CERTIFICATES_MODULE = join(__dirname, '..', '..', 'src', 'config', 'certificates.js');

const ON: NetworkTrustSettings = { systemCertificates: true, proxyStrictSSL: true };
const fingerprint = (pem: string | Buffer) => new X509Certificate(pem).fingerprint256;

function sources(
  system: readonly string[] | undefined,
  defaults: readonly string[] = ['ROOT-A', 'ROOT-B'],
): CertificateSources & { reads: number } {
  const counted = { reads: 0, defaults: () => defaults, system: () => (counted.reads++, system) };
  return counted;
}

describe('which CAs a connection trusts (decideTrust)', () => {
  const connection = { name: 'PACS' };

  it("http.systemCertificates on: Node's roots + the OS store + the CA file, each once", () => {
    const caFile = Buffer.from('CA-FILE');
    const decision = decideTrust(connection, caFile, ON, sources(['SYS-1', 'ROOT-A', 'SYS-1']));
    assert.deepEqual(decision.ca, ['ROOT-A', 'ROOT-B', 'SYS-1', caFile]);
    assert.equal(decision.rejectUnauthorized, true);
    assert.deepEqual(decision.warnings, []);
    assert.equal(decision.storeUnreadable, undefined);
  });

  it("off: the CA file alone (as before), or Node's default store; the OS store is not read", () => {
    const off = { ...ON, systemCertificates: false };
    const store = sources(['SYS-1']);
    assert.deepEqual(decideTrust(connection, Buffer.from('CA-FILE'), off, store).ca, [
      Buffer.from('CA-FILE'),
    ]);
    assert.equal(decideTrust(connection, undefined, off, store).ca, undefined);
    assert.equal(store.reads, 0);
  });

  it("a Node that cannot read the OS store: Node's roots (ca undefined) and a note to log once", () => {
    const decision = decideTrust(connection, undefined, ON, sources(undefined));
    assert.equal(decision.ca, undefined);
    assert.equal(decision.rejectUnauthorized, true);
    assert.match(
      decision.storeUnreadable ?? '',
      /cannot read the operating system's certificate store/,
    );
  });

  it('http.proxyStrictSSL off: no verification, and a warning naming the setting; the connection\'s own "false" also turns it off', () => {
    const relaxed = decideTrust(
      connection,
      undefined,
      { ...ON, proxyStrictSSL: false },
      sources([]),
    );
    assert.equal(relaxed.rejectUnauthorized, false);
    assert.match(relaxed.warnings.join('\n'), /"PACS".*http\.proxyStrictSSL is off/);
    assert.equal(
      decideTrust({ name: 'PACS', rejectUnauthorized: false }, undefined, ON, sources([]))
        .rejectUnauthorized,
      false,
    );
    assert.equal(
      decideTrust({ name: 'PACS', rejectUnauthorized: true }, undefined, ON, sources([]))
        .rejectUnauthorized,
      true,
    );
  });

  it('the real OS store is read once per process, however many clients ask', () => {
    const first = nodeCertificateSources.system();
    assert.ok(first === undefined || Array.isArray(first));
    assert.equal(nodeCertificateSources.system(), first, 'the same list, not a second read');
    assert.ok(nodeCertificateSources.defaults().length > 100, "Node's bundled Mozilla roots");
  });
});

/**
 * The OS store as Node reads it in a process started with SSL_CERT_FILE = the test CA and
 * an empty SSL_CERT_DIR (Linux: OpenSSL's default locations). Elsewhere (macOS keychain,
 * Windows store) those variables do not apply: the list is the test CA itself.
 */
function systemStoreHoldingOnlyTheTestCa(): string[] {
  if (process.platform !== 'linux') return [CERT.toString()];
  const script = `process.stdout.write(JSON.stringify(require(${JSON.stringify(CERTIFICATES_MODULE)}).nodeCertificateSources.system() ?? null))`;
  const env = {
    ...process.env,
    SSL_CERT_FILE: CERT_PATH,
    SSL_CERT_DIR: mkdtempSync(join(tmpdir(), 'dicomweb-empty-certdir-')),
  };
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }),
  ) as string[];
}

describe('a TLS server whose CA only the OS store trusts', () => {
  /** QIDO answers `[]`; anything else is a multipart/related retrieve of `files`. */
  async function httpsServer(
    files: Buffer[],
  ): Promise<{ origin: string; close: () => Promise<void> }> {
    const server = createHttpsServer({ key: KEY, cert: CERT }, (request, response) => {
      if (request.url?.endsWith('/studies')) {
        response.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
        return;
      }
      response.writeHead(200, {
        'content-type': 'multipart/related; type="application/dicom"; boundary=b',
      });
      for (const file of files)
        response.write(
          Buffer.concat([
            Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'),
            file,
            Buffer.from('\r\n'),
          ]),
        );
      response.end('--b--\r\n');
    });
    const { port, close } = await listenOnLoopback(server);
    return { origin: `https://127.0.0.1:${port}`, close };
  }

  it("the child's OS store is exactly the test CA", () => {
    const store = systemStoreHoldingOnlyTheTestCa();
    assert.deepEqual(store.map(fingerprint), [fingerprint(CERT)]);
  });

  it("trusted with http.systemCertificates on (QIDO through undici, a retrieve through the socket reader); refused with it off and by this machine's own store", async () => {
    const files = (await writeSeedFiles(mkdtempSync(join(tmpdir(), 'dicomweb-syscert-src-')))).map(
      (path) => readFileSync(path),
    );
    const server = await httpsServer(files);
    const store: CertificateSources = {
      defaults: nodeCertificateSources.defaults,
      system: systemStoreHoldingOnlyTheTestCa,
    };
    const clientWith = (settings: NetworkTrustSettings, certificates: CertificateSources) => {
      const { ca, rejectUnauthorized } = decideTrust(
        { name: 'TLS test' },
        undefined,
        settings,
        certificates,
      );
      return new DicomWebClient({
        baseUrl: `${server.origin}/dicom-web`,
        serverKind: 'generic',
        tls: { ca, rejectUnauthorized },
        retry: { retries: 0 },
      });
    };
    const trusting = clientWith(ON, store);
    const distrusting = [
      clientWith({ ...ON, systemCertificates: false }, store),
      clientWith(ON, nodeCertificateSources),
    ];
    const study = { studyInstanceUid: SEED_INSTANCES[0]!.studyInstanceUid };
    try {
      assert.deepEqual((await trusting.searchForStudies()).items, []);
      const dir = mkdtempSync(join(tmpdir(), 'dicomweb-syscert-download-'));
      const result = await trusting.downloadToDirectory(study, dir);
      assert.equal(
        result.reader,
        'socket',
        'the socket reader used the same CAs (it falls back to undici when TLS fails)',
      );
      assert.equal(result.files.length, files.length);
      for (const client of distrusting) {
        await assert.rejects(client.searchForStudies(), (error: unknown) => {
          assert.ok(error instanceof DicomWebError, String(error));
          assert.equal(error.code, 'NETWORK');
          assert.match(error.message, /self-signed|certificate/i);
          return true;
        });
      }
    } finally {
      await Promise.all([trusting, ...distrusting].map((client) => client.close()));
      await server.close();
    }
  });
});
