/**
 * Data partitions of the local server, black-box over HTTP, as the Azure DICOM service has them
 * (microsoft/dicom-server docs/concepts/data-partitions.md; src/server/partitions.ts): off by
 * default, `/partitions` and `/partitions/{name}/…` when on, data apart per partition, names
 * validated, the list kept across restarts, and a limit on their number.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DEFAULT_LIMITS,
  DEFAULT_PARTITION,
  MAX_PARTITIONS,
  PARTITIONS_DIR,
  PartitionMessages,
  type LocalServer,
  type PartitionEntry,
} from '../../src/server';
import { PARTITION_DIFFERENCES_FROM_AZURE } from '../support/targets';
import { rawRequest, smallInstance, startTestServer, stowOutcome, tempDir } from './helpers';

const DICOM_JSON = { accept: 'application/dicom+json' };

/** Single-part STOW (the Azure service accepts `Content-Type: application/dicom`). */
function stow(server: LocalServer, path: string, bytes: Buffer) {
  return rawRequest(
    server,
    'POST',
    path,
    { 'content-type': 'application/dicom', ...DICOM_JSON },
    bytes,
  );
}

function listPartitions(server: LocalServer): Promise<PartitionEntry[]> {
  return rawRequest(server, 'GET', '/v2/partitions', { accept: 'application/json' }).then((res) => {
    assert.equal(res.status, 200, res.text);
    return res.json() as PartitionEntry[];
  });
}

function studyUidsOf(text: string): string[] {
  if (!text) return [];
  const items = JSON.parse(text) as Array<Record<string, { Value?: string[] }>>;
  return items.map((item) => item['0020000D']!.Value![0]!);
}

describe('data partitions of the local server', () => {
  const servers: LocalServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });
  async function start(options: Parameters<typeof startTestServer>[0] = {}): Promise<LocalServer> {
    const server = await startTestServer(options);
    servers.push(server);
    return server;
  }

  describe('off (the default, as the service)', () => {
    it('answers every /partitions request 400 "feature disabled" and serves /studies as before', async () => {
      const server = await start();
      for (const path of ['/v2/partitions', '/partitions', '/v1/partitions/a/studies']) {
        const res = await rawRequest(server, 'GET', path, DICOM_JSON);
        assert.equal(res.status, 400, path);
        assert.match(res.text, /Data partitions feature is disabled/);
      }
      const { bytes } = smallInstance('off-a');
      assert.equal((await stow(server, '/v2/partitions/a/studies', bytes)).status, 400);
      assert.equal(existsSync(join(server.dir, PARTITIONS_DIR)), false, 'nothing made on disk');
      assert.equal((await stow(server, '/v2/studies', bytes)).status, 200);
      assert.equal((await rawRequest(server, 'GET', '/v2/studies', DICOM_JSON)).status, 200);
    });
  });

  describe('on', () => {
    it('lists Microsoft.Default (key 1) with partitionKey, partitionName and createdDate', async () => {
      const server = await start({ partitions: true });
      const res = await rawRequest(server, 'GET', '/v2/partitions', { accept: 'application/json' });
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const list = res.json() as PartitionEntry[];
      assert.deepEqual(
        list.map(({ partitionKey, partitionName }) => ({ partitionKey, partitionName })),
        [{ partitionKey: 1, partitionName: DEFAULT_PARTITION }],
      );
      assert.ok(!Number.isNaN(Date.parse(list[0]!.createdDate)), list[0]!.createdDate);
      const post = await rawRequest(server, 'POST', '/v2/partitions');
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET');
    });

    it('refuses STOW, WADO, QIDO and DELETE without a partition (400), as the service', async () => {
      const server = await start({ partitions: true });
      const { bytes, params } = smallInstance('missing');
      const requests: Array<[string, string]> = [
        ['GET', '/v2/studies'],
        ['GET', '/series'],
        ['GET', '/v1/instances'],
        ['GET', `/v2/studies/${params.studyUid}/metadata`],
        ['DELETE', `/v2/studies/${params.studyUid}`],
      ];
      for (const [method, path] of requests) {
        const res = await rawRequest(server, method, path, DICOM_JSON);
        assert.equal(res.status, 400, `${method} ${path}`);
        assert.equal((res.json() as { message: string }).message, PartitionMessages.missing);
      }
      assert.equal((await stow(server, '/v2/studies', bytes)).status, 400);
      // Other resources (change feed, extended query tags, operations) stay at the base URI.
      const other = await rawRequest(server, 'GET', '/v2/changefeed', {
        accept: 'application/json',
      });
      assert.ok(!other.text.includes(PartitionMessages.missing), other.text);
    });

    it('keeps the data of each partition apart: the same UIDs twice, search, retrieve and delete in one only', async () => {
      const server = await start({ partitions: true });
      const { bytes, params } = smallInstance('apart');
      const only = smallInstance('only-in-a');
      for (const name of ['site-a', 'site-b']) {
        const res = await stow(server, `/v2/partitions/${name}/studies`, bytes);
        assert.equal(res.status, 200, res.text);
        const outcome = stowOutcome(res.json());
        assert.deepEqual(outcome.stored, [params.sopInstanceUid]);
      }
      const stowA = await stow(
        server,
        `/v2/partitions/site-a/studies/${only.params.studyUid}`,
        only.bytes,
      );
      // The service answers a RetrieveURL that includes the partition path.
      assert.equal(
        stowOutcome(stowA.json()).retrieveUrl,
        `${server.url}/v2/partitions/site-a/studies/${only.params.studyUid}`,
      );
      const searchA = await rawRequest(server, 'GET', '/v2/partitions/site-a/studies', DICOM_JSON);
      const searchB = await rawRequest(server, 'GET', '/v2/partitions/site-b/studies', DICOM_JSON);
      assert.deepEqual(
        studyUidsOf(searchA.text).sort(),
        [params.studyUid, only.params.studyUid].sort(),
      );
      assert.deepEqual(studyUidsOf(searchB.text), [params.studyUid]);
      const inDefault = await rawRequest(
        server,
        'GET',
        `/v2/partitions/${DEFAULT_PARTITION}/studies`,
        DICOM_JSON,
      );
      assert.equal(inDefault.status, 204, 'nothing was stored in Microsoft.Default');
      const onlyInB = await rawRequest(
        server,
        'GET',
        `/v2/partitions/site-b/studies/${only.params.studyUid}/metadata`,
        DICOM_JSON,
      );
      assert.equal(onlyInB.status, 404);

      const instancePath = `/studies/${params.studyUid}/series/${params.seriesUid}/instances/${params.sopInstanceUid}`;
      const retrieved = await rawRequest(server, 'GET', `/v2/partitions/site-b${instancePath}`, {
        accept: 'application/dicom; transfer-syntax=*',
      });
      assert.equal(retrieved.status, 200);
      assert.deepEqual(retrieved.body, bytes);
      const frames = await rawRequest(
        server,
        'GET',
        `/v2/partitions/site-b${instancePath}/frames/1`,
        {
          accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*',
        },
      );
      assert.equal(frames.status, 200);

      const deleted = await rawRequest(
        server,
        'DELETE',
        `/v2/partitions/site-a/studies/${params.studyUid}`,
      );
      assert.equal(deleted.status, 204);
      const goneInA = await rawRequest(
        server,
        'GET',
        `/v2/partitions/site-a${instancePath}/metadata`,
        DICOM_JSON,
      );
      assert.equal(goneInA.status, 404);
      const keptInB = await rawRequest(
        server,
        'GET',
        `/v2/partitions/site-b${instancePath}/metadata`,
        DICOM_JSON,
      );
      assert.equal(keptInB.status, 200);
      assert.deepEqual(
        (await listPartitions(server)).map((p) => [p.partitionKey, p.partitionName]),
        [
          [1, DEFAULT_PARTITION],
          [2, 'site-a'],
          [3, 'site-b'],
        ],
      );
    });

    it('answers 400 "does not exist" to anything but a store in an unknown partition, and creates nothing', async () => {
      const server = await start({ partitions: true });
      for (const [method, path] of [
        ['GET', '/v2/partitions/nobody/studies'],
        ['GET', '/v2/partitions/nobody/studies/1.2.3/metadata'],
        ['DELETE', '/v2/partitions/nobody/studies/1.2.3'],
      ] as const) {
        const res = await rawRequest(server, method, path, DICOM_JSON);
        assert.equal(res.status, 400, `${method} ${path}`);
        assert.equal(
          (res.json() as { message: string }).message,
          PartitionMessages.notFound('nobody'),
        );
      }
      assert.equal((await listPartitions(server)).length, 1);
    });

    // Dots only: PARTITION_DIFFERENCES_FROM_AZURE.dotsOnlyNames.
    it('refuses names the service refuses, and names that would not stay one path segment', async () => {
      const server = await start({ partitions: true });
      const { bytes } = smallInstance('names');
      const refused = [
        'x'.repeat(65),
        'a%20b',
        'a@b',
        'a%2Fb',
        '..%2F..%2Fescape',
        '%2E%2E',
        '.',
        'caf%C3%A9',
        'a%5Cb',
      ];
      for (const name of refused) {
        const res = await stow(server, `/v2/partitions/${name}/studies`, bytes);
        assert.equal(res.status, 400, `${name}: ${res.text}`);
      }
      // A raw `..` segment (clients remove it; a raw request keeps it) is refused the same way.
      const dots = await stow(server, '/v2/partitions/../studies', bytes);
      assert.equal(dots.status, 400, dots.text);
      assert.equal((await listPartitions(server)).length, 1);
      assert.deepEqual(await readdir(join(server.dir, PARTITIONS_DIR)), ['partitions.json']);
      // 64 characters of every allowed kind: accepted.
      const longest = `A-z_0.9${'x'.repeat(57)}`;
      assert.equal(longest.length, 64);
      const res = await stow(server, `/v2/partitions/${longest}/studies`, bytes);
      assert.equal(res.status, 200, res.text);
    });

    it('finds a partition whatever the case of its name (the service: a case-insensitive unique name)', async () => {
      const server = await start({ partitions: true });
      const { bytes, params } = smallInstance('case');
      assert.equal((await stow(server, '/v2/partitions/Clinic.One/studies', bytes)).status, 200);
      const again = await stow(server, '/v2/partitions/CLINIC.ONE/studies', bytes);
      assert.deepEqual(stowOutcome(again.json()).failed, [
        { uid: params.sopInstanceUid, reason: 45070 },
      ]);
      const found = await rawRequest(
        server,
        'GET',
        '/v2/partitions/clinic.one/studies',
        DICOM_JSON,
      );
      assert.deepEqual(studyUidsOf(found.text), [params.studyUid]);
      assert.deepEqual(
        (await listPartitions(server)).map((p) => p.partitionName),
        [DEFAULT_PARTITION, 'Clinic.One'],
      );
    });

    it('creates a new partition once when several first stores race for it', async () => {
      const server = await start({ partitions: true });
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          stow(server, '/v2/partitions/racing/studies', smallInstance(`race-${i}`).bytes),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(6).fill(200),
      );
      const list = await listPartitions(server);
      assert.deepEqual(
        list.map((p) => p.partitionName),
        [DEFAULT_PARTITION, 'racing'],
      );
      const found = await rawRequest(server, 'GET', '/v2/partitions/racing/studies', DICOM_JSON);
      assert.equal(studyUidsOf(found.text).length, 6);
    });

    it('stops creating partitions at maxPartitions (Microsoft.Default counted) with a 400 that says so', async () => {
      const server = await start({ partitions: true, limits: { maxPartitions: 3 } });
      const { bytes } = smallInstance('limit');
      for (const name of ['p1', 'p2']) {
        assert.equal((await stow(server, `/partitions/${name}/studies`, bytes)).status, 200);
      }
      const refused = await stow(server, '/partitions/p3/studies', bytes);
      assert.equal(refused.status, 400);
      assert.match(refused.text, /at most 3 partitions/);
      assert.equal((await listPartitions(server)).length, 3);
      // The default, as targets.ts states it.
      assert.equal(DEFAULT_LIMITS.maxPartitions, MAX_PARTITIONS);
      assert.ok(PARTITION_DIFFERENCES_FROM_AZURE.maxPartitions.includes(`${MAX_PARTITIONS}`));
      // The existing ones still take data.
      const more = smallInstance('limit-more').bytes;
      assert.equal((await stow(server, '/partitions/p2/studies', more)).status, 200);
    });
  });

  describe('on disk', () => {
    it('serves the folder as Microsoft.Default, keeps partitions across a restart, and hides them when off', async () => {
      const dir = tempDir('partitions-restart');
      const before = smallInstance('dropped-in');
      await writeFile(join(dir, 'dropped.dcm'), before.bytes);
      const first = await start({ dir, partitions: true });
      const inDefault = await rawRequest(
        first,
        'GET',
        `/v2/partitions/${DEFAULT_PARTITION}/studies`,
        DICOM_JSON,
      );
      assert.deepEqual(studyUidsOf(inDefault.text), [before.params.studyUid]);
      const kept = smallInstance('kept');
      assert.equal((await stow(first, '/v2/partitions/kept/studies', kept.bytes)).status, 200);
      const listed = await listPartitions(first);
      await first.close();

      const second = await start({ dir, partitions: true });
      assert.deepEqual(await listPartitions(second), listed);
      const found = await rawRequest(second, 'GET', '/v2/partitions/kept/studies', DICOM_JSON);
      assert.deepEqual(studyUidsOf(found.text), [kept.params.studyUid]);
      await second.close();

      const off = await start({ dir });
      const all = await rawRequest(off, 'GET', '/v2/studies', DICOM_JSON);
      assert.deepEqual(
        studyUidsOf(all.text),
        [before.params.studyUid],
        "another partition's data is not served",
      );
      await off.close();
    });

    it('rebuilds the list from the partition folders when partitions.json is lost', async () => {
      const dir = tempDir('partitions-lost-list');
      const first = await start({ dir, partitions: true });
      const { bytes, params } = smallInstance('lost-list');
      assert.equal((await stow(first, '/v2/partitions/north/studies', bytes)).status, 200);
      await first.close();
      await writeFile(join(dir, PARTITIONS_DIR, 'partitions.json'), '{ not json');
      const second = await start({ dir, partitions: true });
      assert.deepEqual(
        (await listPartitions(second)).map((p) => [p.partitionKey, p.partitionName]),
        [
          [1, DEFAULT_PARTITION],
          [2, 'north'],
        ],
      );
      const found = await rawRequest(second, 'GET', '/v2/partitions/north/studies', DICOM_JSON);
      assert.deepEqual(studyUidsOf(found.text), [params.studyUid]);
    });
  });
});
