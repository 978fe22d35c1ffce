/**
 * Upsert (`PUT /studies`, `PUT /studies/{study}`) of the local server, as the Azure DICOM
 * service's conformance statement v2 describes it: STOW's body and answer, an existing
 * instance replaced instead of refused with 45070, and no PUT at all under `/v1`.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Storage } from '../../src/server/storage';
import { handleStow } from '../../src/server/stow';
import type { StoredInstance } from '../../src/server/upsert';
import type { LocalServer } from '../../src/server';
import {
  multipart,
  rawRequest,
  smallInstance,
  startTestServer,
  stowOutcome,
  stringOf,
  tempDir,
} from './helpers';

const DICOM = { 'content-type': 'application/dicom', accept: 'application/dicom+json' };

/** The same instance (same UIDs) with another series description: a "corrected" copy. */
function versions(name: string) {
  const first = smallInstance(name, { seriesDescription: 'first' });
  const second = smallInstance(name, { seriesDescription: 'second', patientName: 'Roe^Rick' });
  return { first, second };
}

async function metadataOf(server: LocalServer, params: ReturnType<typeof smallInstance>['params']) {
  const response = await rawRequest(
    server,
    'GET',
    `/v2/studies/${params.studyUid}/series/${params.seriesUid}/instances/${params.sopInstanceUid}/metadata`,
    { accept: 'application/dicom+json' },
  );
  assert.equal(response.status, 200, response.text);
  return (response.json() as Array<Record<string, { Value?: unknown[] }>>)[0]!;
}

/** The .dcm files below the served folder (the server's own state folder left out). */
async function dicomFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((name) => name.endsWith('.dcm') && !name.startsWith('.dicomweb'));
}

describe('upsert (PUT /studies) on the local server', () => {
  let server: LocalServer;
  let dir: string;
  const log: string[] = [];

  before(async () => {
    dir = tempDir('upsert');
    server = await startTestServer({ dir, log: (line) => log.push(line) });
  });
  after(() => server.close());

  it('stores a new instance with the same answer as STOW-RS (200, ReferencedSOPSequence)', async () => {
    const { first } = versions('upsert-new');
    const response = await rawRequest(server, 'PUT', '/v2/studies', DICOM, first.bytes);
    assert.equal(response.status, 200, response.text);
    const outcome = stowOutcome(response.json());
    assert.deepEqual(outcome.stored, [first.params.sopInstanceUid]);
    assert.deepEqual(outcome.failed, []);
    assert.equal(outcome.retrieveUrl, `${server.url}/v2/studies/${first.params.studyUid}`);
  });

  it('replaces a stored instance that POST refuses with 45070, in place on disk', async () => {
    const { first, second } = versions('upsert-replace');
    assert.equal((await rawRequest(server, 'POST', '/v2/studies', DICOM, first.bytes)).status, 200);
    const again = await rawRequest(server, 'POST', '/v2/studies', DICOM, second.bytes);
    assert.equal(again.status, 409);
    assert.deepEqual(stowOutcome(again.json()).failed, [
      { uid: first.params.sopInstanceUid, reason: 45070 },
    ]);
    const filesBefore = await dicomFiles(dir);

    const put = await rawRequest(server, 'PUT', '/v2/studies', DICOM, second.bytes);
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(stowOutcome(put.json()).stored, [first.params.sopInstanceUid]);

    const metadata = await metadataOf(server, first.params);
    assert.equal(stringOf(metadata, '0008103E'), 'second');
    const retrieved = await rawRequest(
      server,
      'GET',
      `/v2/studies/${first.params.studyUid}/series/${first.params.seriesUid}/instances/${first.params.sopInstanceUid}`,
      { accept: 'application/dicom; transfer-syntax=*' },
    );
    assert.equal(Buffer.compare(retrieved.body, second.bytes), 0, 'the new bytes are served');
    assert.deepEqual(await dicomFiles(dir), filesBefore, 'the old file was replaced, not kept');
    const search = await rawRequest(
      server,
      'GET',
      `/v2/instances?SOPInstanceUID=${first.params.sopInstanceUid}&includefield=00100010`,
      { accept: 'application/dicom+json' },
    );
    const found = search.json() as Array<
      Record<string, { Value?: Array<{ Alphabetic?: string }> }>
    >;
    assert.equal(found.length, 1, 'one instance, not two');
    assert.equal(
      found[0]!['00100010']?.Value?.[0]?.Alphabetic,
      'Roe^Rick',
      'QIDO sees the new value',
    );
    assert.ok(log.some((line) => /^Upsert 1 part\(s\): 1 stored \(1 replaced\)/.test(line)));
  });

  it('PUT /studies/{study} refuses an instance of another study (43265), as STOW does', async () => {
    const { first } = versions('upsert-mismatch');
    const response = await rawRequest(server, 'PUT', '/v2/studies/1.2.3.4.5', DICOM, first.bytes);
    assert.equal(response.status, 409);
    assert.deepEqual(stowOutcome(response.json()).failed, [
      { uid: first.params.sopInstanceUid, reason: 43265 },
    ]);
  });

  it('replaces under PUT /studies/{study} in a multipart body, old and new instances mixed', async () => {
    const a = versions('upsert-multi-a');
    const b = smallInstance('upsert-multi-b', { studyUid: a.first.params.studyUid });
    await rawRequest(server, 'POST', '/v2/studies', DICOM, a.first.bytes);
    const body = multipart('upsb', [{ body: a.second.bytes }, { body: b.bytes }]);
    const response = await rawRequest(
      server,
      'PUT',
      `/v2/studies/${a.first.params.studyUid}`,
      {
        'content-type': 'multipart/related; type="application/dicom"; boundary=upsb',
        accept: 'application/dicom+json',
      },
      body,
    );
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(
      stowOutcome(response.json()).stored.sort(),
      [a.first.params.sopInstanceUid, b.params.sopInstanceUid].sort(),
    );
    assert.equal(stringOf(await metadataOf(server, a.first.params), '0008103E'), 'second');
  });

  it('moves an instance whose new version names another series: the old series is gone', async () => {
    const first = smallInstance('upsert-move');
    const moved = smallInstance('upsert-move', {
      seriesUid: `${first.params.seriesUid}.9`,
      seriesDescription: 'moved',
    });
    await rawRequest(server, 'POST', '/v2/studies', DICOM, first.bytes);
    const put = await rawRequest(server, 'PUT', '/v2/studies', DICOM, moved.bytes);
    assert.equal(put.status, 200, put.text);
    const oldSeries = await rawRequest(
      server,
      'GET',
      `/v2/studies/${first.params.studyUid}/series/${first.params.seriesUid}/instances`,
      { accept: 'application/dicom+json' },
    );
    assert.equal(oldSeries.status, 204, 'the old series holds nothing any more');
    assert.equal(stringOf(await metadataOf(server, moved.params), '0008103E'), 'moved');
    const files = await dicomFiles(dir);
    const named = files.filter((f) => f.includes(first.params.sopInstanceUid));
    assert.equal(named.length, 1, `one file of the instance remains: ${named.join(', ')}`);
  });

  it('answers PUT under /v1 with 405 and an Allow header, and stores nothing', async () => {
    const { first, second } = versions('upsert-v1');
    await rawRequest(server, 'POST', '/v1/studies', DICOM, first.bytes);
    const put = await rawRequest(server, 'PUT', '/v1/studies', DICOM, second.bytes);
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, POST');
    const study = await rawRequest(
      server,
      'PUT',
      `/v1/studies/${first.params.studyUid}`,
      DICOM,
      second.bytes,
    );
    assert.equal(study.status, 405);
    assert.equal(study.headers.allow, 'GET, POST, DELETE');
    assert.equal(stringOf(await metadataOf(server, first.params), '0008103E'), 'first');
  });

  it('names PUT in the CORS preflight answer', async () => {
    const response = await rawRequest(server, 'OPTIONS', '/v2/studies', {});
    assert.match(String(response.headers.allow), /\bPUT\b/);
  });
});

describe("the body limits of PUT are STOW's", () => {
  let server: LocalServer;
  before(async () => {
    server = await startTestServer({
      limits: { maxStowBodyBytes: 256 * 1024, maxOtherBodyBytes: 1024 },
    });
  });
  after(() => server.close());

  it('stores a body larger than the small limit of other requests', async () => {
    const big = smallInstance('upsert-limit', {
      rows: 128,
      columns: 128,
      pixelData: new Uint8Array(128 * 128).fill(3),
    });
    assert.ok(big.bytes.length > 1024);
    const response = await rawRequest(server, 'PUT', '/v2/studies', DICOM, big.bytes);
    assert.equal(response.status, 200, response.text);
  });

  it('answers 413 past the STOW limit, from the declared length', async () => {
    const response = await rawRequest(server, 'PUT', '/v2/studies', {
      ...DICOM,
      'content-length': String(256 * 1024 + 1),
    });
    assert.equal(response.status, 413);
  });
});

describe('upsert in a data partition', () => {
  let server: LocalServer;
  before(async () => {
    server = await startTestServer({ partitions: true });
  });
  after(() => server.close());

  it('replaces under /v2/partitions/{name}, and is 405 under /v1/partitions/{name}', async () => {
    const { first, second } = versions('upsert-partition');
    const base = '/v2/partitions/upsert-p';
    assert.equal(
      (await rawRequest(server, 'PUT', `${base}/studies`, DICOM, first.bytes)).status,
      200,
    );
    const put = await rawRequest(server, 'PUT', `${base}/studies`, DICOM, second.bytes);
    assert.equal(put.status, 200, put.text);
    const metadata = await rawRequest(
      server,
      'GET',
      `${base}/studies/${first.params.studyUid}/metadata`,
      { accept: 'application/dicom+json' },
    );
    const [dataset] = metadata.json() as Array<Record<string, { Value?: unknown[] }>>;
    assert.equal(stringOf(dataset!, '0008103E'), 'second');
    const v1 = await rawRequest(
      server,
      'PUT',
      '/v1/partitions/upsert-p/studies',
      DICOM,
      first.bytes,
    );
    assert.equal(v1.status, 405, 'v1 has no upsert, in a partition too');
  });
});

describe('the store result: each instance new or replaced', () => {
  let storage: Storage;
  let http: Server;
  let url: string;
  /** What handleStow returned for each request, in the order the requests came. */
  const stores: Array<Promise<StoredInstance[]>> = [];

  before(async () => {
    storage = new Storage({ dir: tempDir('upsert-feed'), log: () => undefined, saveDelayMs: 20 });
    await storage.open({ scan: true });
    http = createServer((req, res) => {
      stores.push(
        handleStow(req, res, {
          storage,
          baseUrl: 'http://local',
          reserved: new Set(),
          log: () => undefined,
          upsert: req.method === 'PUT',
        }),
      );
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    http.close();
    await storage.close();
  });

  it('says replaced: false for a new instance and replaced: true for a replaced one', async () => {
    const { first, second } = versions('upsert-feed');
    const port = { port: Number(url) };
    await rawRequest(port, 'POST', '/studies', DICOM, first.bytes);
    await rawRequest(port, 'PUT', '/studies', DICOM, second.bytes);
    const ids = {
      studyUid: first.params.studyUid,
      seriesUid: first.params.seriesUid,
      sopUid: first.params.sopInstanceUid,
    };
    // Awaited, not read as they stand: the answer is sent before handleStow returns.
    assert.deepEqual(await Promise.all(stores), [
      [{ ...ids, replaced: false }],
      [{ ...ids, replaced: true }],
    ]);
    const node = storage.catalog.instancesByUid.get(first.params.sopInstanceUid)!;
    assert.equal(
      Buffer.compare(await readFile(join(storage.dir, node.file)), second.bytes),
      0,
      'the index points at the new bytes',
    );
  });
});
