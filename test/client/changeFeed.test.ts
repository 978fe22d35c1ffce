/**
 * The client's change feed: typed entries from the real local server over v1 (by sequence)
 * and v2 (by time window), requests checked before they are sent, and a hostile server's
 * malformed answers turned into typed `MALFORMED_RESPONSE` errors (never a half-typed entry).
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DicomWebClient, type DicomWebError, changeFeedApiVersion } from '../../src/dicomweb';
import { startLocalServer, type LocalServer } from '../../src/server';
import { createHostileServer, type SeenRequest } from '../support/hostileHttp';
import { listenOnLoopback } from '../support/loopback';
import { writeSmallInstances } from '../support/bulkData';
import { makeTempDir } from '../support/tempDirs';

describe('client change feed against the local server', () => {
  let server: LocalServer;
  before(async () => {
    server = await startLocalServer({ dir: makeTempDir('dicomweb-feed-client-'), port: 0 });
  });
  after(() => server.close());

  it('reads typed entries with v1 sequence paging and a v2 window', async () => {
    const v2 = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
    const v1 = new DicomWebClient({ baseUrl: `${server.url}/v1`, serverKind: 'local' });
    try {
      assert.equal(await v2.changeFeedLatest(), undefined, 'an empty feed has no latest');
      const files = await writeSmallInstances(makeTempDir('dicomweb-feed-files-'), 5, {
        seed: 'feed-client',
      });
      const before = new Date();
      await v2.storeInstances(files.map((f) => f.path));
      const all = await v2.changeFeed();
      assert.equal(all.length, 5);
      assert.ok(all.every((e) => e.action === 'create' && e.state === 'current'));
      assert.ok(all[0]!.metadata, 'metadata by default');
      assert.ok(all[0]!.time >= before.getTime() - 1000);
      assert.deepEqual(
        (await v1.changeFeed({ offset: 2, limit: 2 })).map((e) => e.sequence),
        [3, 4],
      );
      const windowed = await v2.changeFeed({
        startTime: new Date(all[0]!.time),
        endTime: new Date(all[4]!.time + 1),
        offset: 1,
        limit: 2,
        includeMetadata: false,
      });
      assert.deepEqual(
        windowed.map((e) => [e.sequence, e.metadata]),
        [
          [2, undefined],
          [3, undefined],
        ],
      );
      const latest = await v2.changeFeedLatest({ includeMetadata: false });
      assert.equal(latest?.sequence, 5);
      assert.equal(latest?.sopInstanceUid, all[4]!.sopInstanceUid);
    } finally {
      await v1.close();
      await v2.close();
    }
  });

  it('refuses requests the version does not allow, before sending them', async () => {
    const v1 = new DicomWebClient({ baseUrl: `${server.url}/v1`, serverKind: 'local' });
    try {
      for (const query of [
        { limit: 101 },
        { limit: 0 },
        { offset: -1 },
        { offset: 1.5 },
        { startTime: new Date() },
      ]) {
        await assert.rejects(v1.changeFeed(query), (error: DicomWebError) => {
          assert.equal(error.code, 'INVALID_REQUEST', JSON.stringify(query));
          return true;
        });
      }
      assert.equal(changeFeedApiVersion('https://x.dicom.azurehealthcareapis.com/v1'), 1);
      assert.equal(changeFeedApiVersion('https://x/v1.0-prerelease'), 1);
      assert.equal(changeFeedApiVersion('https://x/v2'), 2);
    } finally {
      await v1.close();
    }
  });
});

describe('client change feed against a hostile server', () => {
  let answer = '';
  let origin = '';
  let close: () => Promise<void>;
  before(async () => {
    const server = createHostileServer((socket: Socket, _request: SeenRequest) => {
      socket.end(answer);
    });
    const listening = await listenOnLoopback(server);
    origin = `http://127.0.0.1:${listening.port}`;
    close = listening.close;
  });
  after(() => close());

  const reply = (status: string, body: string) =>
    `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
  const good = {
    Sequence: 1,
    StudyInstanceUid: '1.2.3',
    SeriesInstanceUid: '1.2.3.4',
    SopInstanceUid: '1.2.3.4.5',
    Action: 'create',
    Timestamp: '2020-03-04T01:03:08.4834Z',
    State: 'current',
  };

  it('turns every malformed answer into a typed error', async () => {
    const client = new DicomWebClient({ baseUrl: `${origin}/v2`, retry: { retries: 0 } });
    try {
      const cases: Array<[string, string]> = [
        ['not JSON', '<html>hello</html>'],
        ['an object, not a list', JSON.stringify(good)],
        ['a string entry', JSON.stringify(['x'])],
        ['Sequence as text', JSON.stringify([{ ...good, Sequence: '1' }])],
        ['negative Sequence', JSON.stringify([{ ...good, Sequence: -4 }])],
        ['unknown Action', JSON.stringify([{ ...good, Action: 'explode' }])],
        ['unknown State', JSON.stringify([{ ...good, State: 'limbo' }])],
        ['missing UID', JSON.stringify([{ ...good, SopInstanceUid: undefined }])],
        ['bad Timestamp', JSON.stringify([{ ...good, Timestamp: 'yesterday' }])],
        ['Metadata as a list', JSON.stringify([{ ...good, Metadata: [1] }])],
        // It becomes part of a URL (the partition's metadata): a path is not a name.
        ['PartitionName a path', JSON.stringify([{ ...good, PartitionName: '../x' }])],
        ['PartitionName a number', JSON.stringify([{ ...good, PartitionName: 7 }])],
      ];
      for (const [why, body] of cases) {
        answer = reply('200 OK', body);
        await assert.rejects(client.changeFeed(), (error: DicomWebError) => {
          assert.equal(error.code, 'MALFORMED_RESPONSE', why);
          assert.match(error.message, /changefeed/, `${why}: the message names the request`);
          return true;
        });
      }
      answer = reply('200 OK', JSON.stringify([{ ...good, action: 'delete', state: 'deleted' }]));
      const [camel] = await client.changeFeed();
      assert.equal(camel?.action, 'delete', 'camelCase field names are read too');
      answer = reply('200 OK', JSON.stringify([{ ...good, PartitionName: 'site-a' }]));
      const [named] = await client.changeFeed();
      assert.equal(named?.partitionName, 'site-a', "an entry names its partition (Azure's field)");
      answer = reply('200 OK', JSON.stringify(good));
      assert.equal((await client.changeFeedLatest())?.timestamp, good.Timestamp);
      answer = reply('200 OK', 'null');
      assert.equal(await client.changeFeedLatest(), undefined);
      answer = reply('204 No Content', '');
      assert.equal(await client.changeFeedLatest(), undefined);
      answer = reply('400 Bad Request', '"The limit must be between 1 and 200."');
      await assert.rejects(client.changeFeed({ limit: 5 }), (error: DicomWebError) => {
        assert.equal(error.code, 'HTTP_STATUS');
        assert.equal(error.status, 400);
        return true;
      });
    } finally {
      await client.close();
    }
  });
});
