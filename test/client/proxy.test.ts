/**
 * The client behind an HTTP proxy (client option `proxy`), against the real Orthanc: every
 * kind of request passes through the proxy, the download goes through undici (the socket
 * reader connects directly, so it steps aside), a download in a worker thread keeps the
 * proxy, and refused proxy credentials give a typed error that does not show them.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DicomWebClient, DicomWebError } from '../../src/dicomweb';
import { downloadInWorker } from '../../src/dicomweb/transfer/downloadWorker';
import type { RequestLogEntry } from '../../src/dicomweb/transport/http';
import { orthanc, resetOrthanc, tempDir } from '../support/env';
import { startTestProxy, type TestProxy } from '../support/proxy';
import { SEED, SEED_INSTANCES, writeSeedFiles } from '../support/seedData';

const WORKER = join(__dirname, '..', '..', 'src', 'dicomweb', 'transfer', 'downloadWorkerMain.js');

describe('the client through an HTTP proxy, against Orthanc', () => {
  let proxy: TestProxy;
  let client: DicomWebClient;
  const log: RequestLogEntry[] = [];
  const uploaded = new Map<string, Buffer>();
  const credentials = { username: 'proxy-user', password: `pw-${process.pid}` };

  before(async () => {
    await resetOrthanc();
    proxy = await startTestProxy(credentials);
    const proxyUrl = new URL(proxy.url);
    proxyUrl.username = credentials.username;
    proxyUrl.password = credentials.password;
    client = new DicomWebClient({
      baseUrl: orthanc.dicomWebUrl,
      serverKind: 'orthanc',
      serverRoot: orthanc.restUrl,
      proxy: proxyUrl.href,
      onRequest: (entry) => log.push(entry),
    });
    const paths = await writeSeedFiles(tempDir('proxy-src'));
    for (const [index, path] of paths.entries())
      uploaded.set(SEED_INSTANCES[index]!.sopInstanceUid, await readFile(path));
    const summary = await client.storeInstances(paths);
    assert.equal(summary.stored, 3);
  });
  after(async () => {
    await client.close();
    await proxy.close();
  });

  it('stores, searches, reads metadata and downloads through the proxy', async () => {
    const found = await client.searchForInstances({}, { studyInstanceUid: SEED.studyInstanceUid });
    assert.equal(found.items.length, 3);
    const metadata = await client.retrieveStudyMetadata(SEED.studyInstanceUid);
    assert.equal(metadata.length, 3);
    const dir = tempDir('proxy-download');
    const result = await client.downloadToDirectory(
      { studyInstanceUid: SEED.studyInstanceUid },
      dir,
    );
    assert.equal(result.reader, 'undici', 'the socket reader would bypass the proxy');
    for (const [uid, bytes] of uploaded)
      assert.ok((await readFile(join(dir, `${uid}.dcm`))).equals(bytes), `${uid} byte for byte`);
    // Orthanc is http: undici forwards absolute-form requests to the proxy.
    const seen = proxy.forwarded.join('\n');
    assert.match(seen, /^POST \/dicom-web\/studies$/m);
    assert.match(seen, /^GET \/dicom-web\/studies\/[\d.]+\/instances$/m);
    assert.match(seen, /^GET \/dicom-web\/studies\/[\d.]+\/metadata$/m);
    assert.match(
      seen,
      new RegExp(`^GET /dicom-web/studies/${SEED.studyInstanceUid.replace(/\./g, '\\.')}$`, 'm'),
    );
    assert.equal(proxy.refused, 0);
    // The request log names the service, never the proxy or its credentials.
    assert.ok(log.length > 0);
    for (const entry of log)
      assert.ok(
        !JSON.stringify(entry).includes(credentials.password) &&
          !JSON.stringify(entry).includes(proxy.url),
        JSON.stringify(entry),
      );
  });

  it('a download in a worker thread goes through the same proxy', async () => {
    const before = proxy.forwarded.length;
    const dir = tempDir('proxy-worker');
    const result = await downloadInWorker(
      client,
      WORKER,
      { studyInstanceUid: SEED.studyInstanceUid },
      dir,
    );
    assert.equal(result.files.length, 3);
    assert.equal(result.reader, 'undici');
    assert.ok(
      proxy.forwarded
        .slice(before)
        .some((line) => line === `GET /dicom-web/studies/${SEED.studyInstanceUid}`),
      proxy.forwarded.slice(before).join(', '),
    );
  });

  it('wrong proxy credentials: a typed 407 whose message holds no secret', async () => {
    const wrong = new URL(proxy.url);
    wrong.username = credentials.username;
    wrong.password = 'not-the-password';
    const refusedClient = new DicomWebClient({
      baseUrl: orthanc.dicomWebUrl,
      serverKind: 'orthanc',
      proxy: wrong.href,
      retry: { minDelayMs: 1 },
    });
    try {
      await assert.rejects(refusedClient.searchForStudies(), (error: unknown) => {
        assert.ok(error instanceof DicomWebError, String(error));
        assert.equal(error.code, 'NETWORK');
        assert.match(error.message, /proxy asks for credentials .*407/);
        assert.ok(
          !error.message.includes('not-the-password') &&
            !String(error.url).includes('not-the-password'),
          error.message,
        );
        return true;
      });
      assert.equal(proxy.refused, 1, 'a 407 is not retried');
    } finally {
      await refusedClient.close();
    }
  });
});
