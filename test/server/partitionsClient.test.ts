/**
 * The client's data partitions (src/dicomweb/partitions.ts) against the local server started
 * with partitions on and off: listing, the probe, and a client per partition whose every
 * request (store, search, metadata, delete, printed cURL) carries `/partitions/{name}` and
 * whose credentials follow the same origin rule as the service's (transport/origins.ts).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DEFAULT_PARTITION,
  DicomWebClient,
  DicomWebError,
  DicomWebHttpError,
  MAX_LISTED_PARTITIONS,
  TOKEN_PLACEHOLDER,
  bearerAuth,
  searchRequest,
  type RequestLogEntry,
} from '../../src/dicomweb';
import type { LocalServer } from '../../src/server';
import { smallInstance, startTestServer, tempDir } from './helpers';

const TOKEN = 'partition-token-Qx81';

async function instanceFile(name: string): Promise<{ path: string; studyUid: string }> {
  const { bytes, params } = smallInstance(name);
  const path = join(tempDir('partition-files'), `${name}.dcm`);
  await writeFile(path, bytes);
  return { path, studyUid: params.studyUid };
}

describe('the client and data partitions', () => {
  let on: LocalServer;
  let off: LocalServer;
  let client: DicomWebClient;
  const log: RequestLogEntry[] = [];

  before(async () => {
    on = await startTestServer({ partitions: true, token: TOKEN });
    off = await startTestServer({ token: TOKEN });
    client = new DicomWebClient({
      baseUrl: `${on.url}/v2`,
      serverKind: 'local',
      auth: bearerAuth(async () => TOKEN),
      onRequest: (entry) => log.push(entry),
    });
  });
  after(async () => {
    await client.close();
    await on.close();
    await off.close();
  });

  it('lists the partitions of a service that has them, and probes undefined where it has not', async () => {
    assert.deepEqual(
      (await client.probePartitions())?.map((p) => p.partitionName),
      [DEFAULT_PARTITION],
    );
    const offClient = new DicomWebClient({
      baseUrl: `${off.url}/v2`,
      serverKind: 'local',
      auth: bearerAuth(async () => TOKEN),
    });
    try {
      assert.equal(await offClient.probePartitions(), undefined);
      await assert.rejects(
        offClient.listPartitions(),
        (error: unknown) => error instanceof DicomWebHttpError && error.status === 400,
      );
    } finally {
      await offClient.close();
    }
  });

  it('stores, searches, reads and deletes inside one partition, every URL carrying it', async () => {
    const north = client.forPartition('north');
    const south = client.forPartition('south');
    assert.equal(north.baseUrl, `${on.url}/v2/partitions/north`);
    assert.equal(client.forPartition('north'), north, 'one client per partition');
    const file = await instanceFile('client-north');
    const stored = await north.storeInstances([file.path]);
    assert.equal(stored.stored, 1, JSON.stringify(stored.outcomes));
    assert.match(stored.outcomes[0]!.retrieveUrl ?? '', /\/v2\/partitions\/north\/studies\//);
    assert.equal((await south.storeInstances([file.path])).stored, 1, 'the same UIDs elsewhere');
    const other = await instanceFile('client-north-only');
    assert.equal((await north.storeInstances([other.path])).stored, 1);

    const inNorth = await north.searchForStudies();
    const inSouth = await south.searchForStudies();
    assert.equal(inNorth.items.length, 2);
    assert.equal(inSouth.items.length, 1);
    const metadata = await south.retrieveStudyMetadata(file.studyUid);
    assert.equal(metadata.length, 1);

    await north.deleteStudy(file.studyUid);
    assert.equal((await north.searchForStudies()).items.length, 1);
    assert.equal((await south.searchForStudies()).items.length, 1, 'the other partition keeps it');

    assert.deepEqual(
      (await client.listPartitions()).map((p) => p.partitionName),
      [DEFAULT_PARTITION, 'north', 'south'],
    );
    const partitionRequests = log.filter((entry) => entry.url.includes('/partitions/'));
    assert.ok(partitionRequests.length >= 6);
    for (const entry of log) {
      if (/\/(studies|series|instances)\b/.test(entry.url))
        assert.match(entry.url, /\/v2\/partitions\/(north|south)\//, entry.url);
    }
  });

  it('prints cURL and delete requests with the partition and the credential as a placeholder', () => {
    const north = client.forPartition('north');
    const curl = north.curlOf(searchRequest('studies', {}, { limit: 5 }));
    assert.ok(curl.includes(`${on.url}/v2/partitions/north/studies?limit=5`), curl);
    assert.ok(curl.includes(TOKEN_PLACEHOLDER) && !curl.includes(TOKEN), curl);
    const deletes = north.deleteRequests({ studyInstanceUid: '1.2.3' });
    assert.deepEqual(
      deletes.map((spec) => north.urlOf(spec)),
      [`${on.url}/v2/partitions/north/studies/1.2.3`],
    );
  });

  it('builds a partition client from a base URL that already names a partition', () => {
    const named = new DicomWebClient({ baseUrl: `${on.url}/v2/partitions/north` });
    try {
      assert.equal(named.serviceRoot, `${on.url}/v2`);
      assert.equal(named.forPartition('south').baseUrl, `${on.url}/v2/partitions/south`);
      assert.equal(named.forPartition('Site.1_a-b').baseUrl, `${on.url}/v2/partitions/Site.1_a-b`);
    } finally {
      void named.close();
    }
  });

  it('refuses a name the service would refuse before sending anything', () => {
    for (const name of ['', 'a b', 'a/b', '..', 'x'.repeat(65), 'café']) {
      assert.throws(
        () => client.forPartition(name),
        (error: unknown) => error instanceof DicomWebError && error.code === 'INVALID_REQUEST',
        name,
      );
    }
  });

  it("sends a partition client's credentials to the service's origin only", async () => {
    const north = client.forPartition('north');
    // Another server (another port: another origin) that wants the same token.
    const elsewhere = `${off.url}/v2/studies`;
    const answer = await north.transport.sendForBytes({
      method: 'GET',
      url: elsewhere,
      headers: { accept: 'application/dicom+json' },
      acceptStatus: () => true,
    });
    assert.equal(answer.response.status, 401, 'no credential crossed to another origin');
    const own = await north.transport.sendForBytes({
      method: 'GET',
      url: `${north.baseUrl}/studies`,
      headers: { accept: 'application/dicom+json' },
      acceptStatus: () => true,
    });
    assert.equal(own.response.status, 200);
  });

  it('keeps at most MAX_LISTED_PARTITIONS entries of a list, drops malformed ones, and refuses a non-list', async () => {
    // Not a DICOMweb server: a few lines that answer /partitions with what no service should.
    let answer = '';
    const hostile = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    const port = (hostile.address() as AddressInfo).port;
    const probe = new DicomWebClient({ baseUrl: `http://127.0.0.1:${port}/v2` });
    try {
      const many = Array.from({ length: MAX_LISTED_PARTITIONS + 5 }, (_, i) => ({
        partitionKey: i + 1,
        partitionName: `p${i + 1}`,
      }));
      answer = JSON.stringify([
        { partitionKey: 'x', partitionName: 'bad-key' },
        { partitionKey: 7, partitionName: '../escape' },
        { PartitionKey: 3, PartitionName: 'Pascal' },
        ...many,
      ]);
      const listed = await probe.listPartitions();
      assert.equal(listed.length, MAX_LISTED_PARTITIONS - 2, 'the first 10,000 entries, 2 dropped');
      assert.ok(
        listed.every((p) => p.partitionName !== '../escape' && p.partitionName !== 'bad-key'),
      );
      assert.ok(listed.some((p) => p.partitionName === 'Pascal'));
      assert.deepEqual(
        listed.map((p) => p.partitionKey),
        [...listed.map((p) => p.partitionKey)].sort((a, b) => a - b),
      );
      answer = '{"partitionName":"not a list"}';
      await assert.rejects(
        probe.listPartitions(),
        (error: unknown) => error instanceof DicomWebError && error.code === 'MALFORMED_RESPONSE',
      );
    } finally {
      await probe.close();
      hostile.close();
    }
  });
});
