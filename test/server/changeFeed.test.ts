/**
 * The local server's change feed, black-box over HTTP: the Azure DICOM service's fields,
 * both API versions' paging (v1 by sequence, v2 by time window), its limits and 400s, states
 * that follow later deletes, persistence across restarts and index rebuilds, settlement of
 * intents a crash left open, and the log's size limit.
 */
import assert from 'node:assert/strict';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { STATE_DIR, type LocalServer } from '../../src/server';
import { CHANGE_FEED_FILE, fileIdentity } from '../../src/server/changeFeed';
import {
  multipart,
  rawRequest,
  smallInstance,
  startTestServer,
  stowOutcome,
  tempDir,
} from './helpers';

interface Entry {
  Sequence: number;
  PartitionName?: string;
  StudyInstanceUid: string;
  SeriesInstanceUid: string;
  SopInstanceUid: string;
  Action: string;
  Timestamp: string;
  State: string;
  Metadata?: Record<string, { Value?: unknown[] }>;
}

async function store(server: LocalServer, names: string[]): Promise<string[]> {
  const instances = names.map((name) => smallInstance(name));
  const body = multipart(
    'feedb',
    instances.map((i) => ({ body: i.bytes })),
  );
  const res = await rawRequest(
    server,
    'POST',
    '/v2/studies',
    { 'content-type': 'multipart/related; type="application/dicom"; boundary=feedb' },
    body,
  );
  const outcome = stowOutcome(res.json());
  assert.equal(res.status, 200, res.text);
  return outcome.stored;
}

async function feed(server: LocalServer, path: string): Promise<Entry[]> {
  const res = await rawRequest(server, 'GET', path);
  assert.equal(res.status, 200, `${path}: ${res.text}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  return res.json() as Entry[];
}

function deleteInstance(server: LocalServer, name: string) {
  const { params } = smallInstance(name);
  return rawRequest(
    server,
    'DELETE',
    `/v2/studies/${params.studyUid}/series/${params.seriesUid}/instances/${params.sopInstanceUid}`,
  );
}

describe('change feed of the local server (Azure /changefeed)', () => {
  it('records STOW and DELETE with Azure fields, states and metadata', async () => {
    const server = await startTestServer();
    try {
      const empty = await rawRequest(server, 'GET', '/v2/changefeed/latest');
      assert.equal(empty.status, 204, 'an empty feed has no latest entry');
      assert.deepEqual(await feed(server, '/v2/changefeed'), []);

      await store(server, ['cf-a', 'cf-b']);
      assert.equal((await deleteInstance(server, 'cf-a')).status, 204);
      const entries = await feed(server, '/v2/changefeed');
      const a = smallInstance('cf-a').params;
      assert.deepEqual(
        entries.map((e) => [e.Sequence, e.Action, e.SopInstanceUid, e.State]),
        [
          [1, 'create', a.sopInstanceUid, 'deleted'],
          [2, 'create', smallInstance('cf-b').params.sopInstanceUid, 'current'],
          [3, 'delete', a.sopInstanceUid, 'deleted'],
        ],
      );
      assert.equal(entries[0]!.StudyInstanceUid, a.studyUid);
      assert.equal(entries[0]!.SeriesInstanceUid, a.seriesUid);
      for (const entry of entries) assert.ok(!Number.isNaN(Date.parse(entry.Timestamp)));
      assert.equal(entries[0]!.Metadata, undefined, 'no metadata for a deleted instance');
      assert.equal(
        entries[1]!.Metadata?.['00080018']?.Value?.[0],
        smallInstance('cf-b').params.sopInstanceUid,
        'metadata (included by default) is the instance DICOM JSON',
      );
      const bare = await feed(server, '/v2/changefeed?includeMetadata=false');
      assert.ok(bare.every((e) => !('Metadata' in e)));
      const latest = (await rawRequest(server, 'GET', '/v2/changefeed/latest')).json() as Entry;
      assert.equal(latest.Sequence, 3);
      assert.equal(latest.Action, 'delete');
    } finally {
      await server.close();
    }
  });

  it('pages v1 by sequence and v2 by offset within a time window, with Azure limits', async () => {
    const server = await startTestServer();
    try {
      const names = Array.from({ length: 12 }, (_, n) => `cf-page-${n}`);
      await store(server, names.slice(0, 6));
      const middle = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store(server, names.slice(6));
      const v1Default = await feed(server, '/v1/changefeed?includeMetadata=false');
      assert.deepEqual(
        v1Default.map((e) => e.Sequence),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        'v1: 10 by default',
      );
      const v1 = await feed(server, '/v1/changefeed?offset=4&limit=3');
      assert.deepEqual(
        v1.map((e) => e.Sequence),
        [5, 6, 7],
        'v1: offset is the exclusive starting sequence',
      );
      const v2 = await feed(server, '/v2/changefeed?offset=4&limit=3&includemetadata=false');
      assert.deepEqual(
        v2.map((e) => e.Sequence),
        [5, 6, 7],
        'v2: offset skips entries',
      );
      const windowed = await feed(
        server,
        `/v2/changefeed?startTime=${new Date(middle + 1).toISOString()}&includeMetadata=false`,
      );
      assert.deepEqual(
        windowed.map((e) => e.Sequence),
        [7, 8, 9, 10, 11, 12],
      );
      const before = await feed(
        server,
        `/v2/changefeed?endTime=${new Date(middle + 1).toISOString()}&offset=2&includeMetadata=false`,
      );
      assert.deepEqual(
        before.map((e) => e.Sequence),
        [3, 4, 5, 6],
        'endTime is exclusive',
      );

      for (const [path, why] of [
        ['/v1/changefeed?limit=101', 'v1 limit above 100'],
        ['/v2/changefeed?limit=201', 'v2 limit above 200'],
        ['/v2/changefeed?limit=0', 'limit below 1'],
        ['/v2/changefeed?offset=-1', 'negative offset'],
        ['/v2/changefeed?offset=abc', 'offset not a number'],
        ['/v2/changefeed?includeMetadata=maybe', 'includeMetadata not a boolean'],
        ['/v2/changefeed?startTime=yesterday', 'startTime not ISO 8601'],
        ['/v2/changefeed?startTime=2030-01-02&endTime=2030-01-01', 'window ends before it starts'],
      ]) {
        const res = await rawRequest(server, 'GET', path!);
        assert.equal(res.status, 400, `${why}: ${res.text}`);
      }
      assert.equal((await feed(server, '/v2/changefeed?limit=200')).length, 12, 'v2 max is 200');
      assert.equal((await rawRequest(server, 'POST', '/v2/changefeed')).status, 405);
      assert.equal((await rawRequest(server, 'GET', '/v2/changefeed/nope')).status, 404);
    } finally {
      await server.close();
    }
  });

  it('keeps the feed across a restart and an index rebuild', async () => {
    const dir = tempDir('feed-restart');
    let server = await startTestServer({ dir });
    await store(server, ['cf-r1', 'cf-r2']);
    await deleteInstance(server, 'cf-r1');
    await server.close();
    await rm(join(dir, STATE_DIR, 'index.json'));
    server = await startTestServer({ dir });
    try {
      const entries = await feed(server, '/v2/changefeed?includeMetadata=false');
      assert.deepEqual(
        entries.map((e) => [e.Sequence, e.Action, e.State]),
        [
          [1, 'create', 'deleted'],
          [2, 'create', 'current'],
          [3, 'delete', 'deleted'],
        ],
      );
      await store(server, ['cf-r3']);
      const latest = (await rawRequest(server, 'GET', '/v2/changefeed/latest')).json() as Entry;
      assert.equal(latest.Sequence, 4, 'sequences continue after the restart');
    } finally {
      await server.close();
    }
  });

  it('settles intents left open by a crash against the files', async () => {
    const dir = tempDir('feed-intents');
    let server = await startTestServer({ dir });
    const [stored] = await store(server, ['cf-i1']);
    await server.close();
    const { params } = smallInstance('cf-i1');
    const log = join(dir, STATE_DIR, CHANGE_FEED_FILE);
    const intent = (q: number, a: string, sop: string, f: string) =>
      `${JSON.stringify({ t: 'i', q, ts: Date.now(), a, s: params.studyUid, x: params.seriesUid, i: sop, f })}\n`;
    const file = (await readFile(log, 'utf8')).match(/"f":"([^"]+)"/)![1]!;
    // 2: a create whose rename never happened; 3: a delete whose unlink never happened;
    // then a torn line (a crash mid-append).
    await appendFile(
      log,
      intent(2, 'create', '1.2.3.999', 'nowhere/1.2.3.999.dcm') +
        intent(3, 'delete', stored!, file) +
        '{"t":"i","q":4,"ts":1',
    );
    server = await startTestServer({ dir });
    try {
      const entries = await feed(server, '/v2/changefeed?includeMetadata=false');
      assert.deepEqual(
        entries.map((e) => [e.Sequence, e.Action, e.State]),
        [[1, 'create', 'current']],
        'both interrupted changes were aborted; the instance is still served',
      );
      assert.equal((await deleteInstance(server, 'cf-i1')).status, 204);
      const after = await feed(server, '/v2/changefeed?includeMetadata=false');
      assert.deepEqual(
        after.map((e) => [e.Sequence, e.Action]),
        [
          [1, 'create'],
          [4, 'delete'],
        ],
        'the torn line was cut off; aborted sequences stay gaps',
      );
    } finally {
      await server.close();
    }
  });

  it('settles an interrupted update by the identity of its new file, not by the path', async () => {
    // An update (upsert) renames its new file over the old one: the path exists before and
    // after, so only the identity the intent recorded (the written file's device and inode,
    // which the rename keeps) tells whether the rename happened.
    const dir = tempDir('feed-update-intents');
    let server = await startTestServer({ dir });
    await store(server, ['cf-u1']);
    await server.close();
    const log = join(dir, STATE_DIR, CHANGE_FEED_FILE);
    const created = JSON.parse((await readFile(log, 'utf8')).split('\n')[0]!) as {
      f: string;
      n?: string;
      s: string;
      x: string;
      i: string;
    };
    const current = await fileIdentity(join(dir, created.f));
    assert.ok(current, 'the stored file has an identity');
    assert.equal(created.n, current, "a STOW's intent records the identity of the file it stores");
    // A written file that was never renamed into place (the crash came first).
    const orphan = join(dir, STATE_DIR, 'never-renamed.part');
    await writeFile(orphan, 'new version');
    const orphanIdentity = await fileIdentity(orphan);
    const update = (q: number, n: string | undefined) =>
      `${JSON.stringify({ t: 'i', q, ts: Date.now(), a: 'update', s: created.s, x: created.x, i: created.i, f: created.f, n })}\n`;
    // 2: its rename never happened; 3: it happened, but the commit line was lost.
    await appendFile(log, update(2, orphanIdentity) + update(3, current));
    server = await startTestServer({ dir });
    try {
      const entries = await feed(server, '/v2/changefeed?includeMetadata=false');
      assert.deepEqual(
        entries.map((e) => [e.Sequence, e.Action, e.State]),
        [
          [1, 'create', 'replaced'],
          [3, 'update', 'current'],
        ],
        'the update whose rename never happened is aborted (a gap); the other is committed',
      );
    } finally {
      await server.close();
    }
  });

  it("keeps one feed for the service with partitions on, each entry naming its partition (as Azure's)", async () => {
    // dicom-server routes /changefeed at the base URI only (ChangeFeedController's
    // VersionedRoute) and its ChangeFeedEntry carries PartitionName.
    const dir = tempDir('feed-partitions');
    let server = await startTestServer({ dir, partitions: true });
    const stowInto = async (partition: string, name: string) => {
      const body = multipart('feedb', [{ body: smallInstance(name).bytes }]);
      const res = await rawRequest(
        server,
        'POST',
        `/v2/partitions/${partition}/studies`,
        { 'content-type': 'multipart/related; type="application/dicom"; boundary=feedb' },
        body,
      );
      assert.equal(res.status, 200, res.text);
    };
    const sop = (name: string) => smallInstance(name).params.sopInstanceUid;
    try {
      await stowInto('feedpart', 'cf-part');
      await stowInto('Microsoft.Default', 'cf-default');
      // The same UIDs in another partition: another instance, with a lineage of its own.
      await stowInto('other', 'cf-part');
      const entries = await feed(server, '/v2/changefeed');
      assert.deepEqual(
        entries.map((e) => [e.Sequence, e.PartitionName, e.Action, e.State, e.SopInstanceUid]),
        [
          [1, 'feedpart', 'create', 'current', sop('cf-part')],
          [2, 'Microsoft.Default', 'create', 'current', sop('cf-default')],
          [3, 'other', 'create', 'current', sop('cf-part')],
        ],
      );
      for (const entry of entries)
        assert.equal(entry.Metadata?.['00080018']?.Value?.[0], entry.SopInstanceUid, 'metadata');
      const notPartitioned = await rawRequest(server, 'GET', '/v2/partitions/feedpart/changefeed');
      assert.equal(notPartitioned.status, 404, "the feed is the service's, not a partition's");
      const { params } = smallInstance('cf-part');
      const removed = await rawRequest(
        server,
        'DELETE',
        `/v2/partitions/feedpart/studies/${params.studyUid}/series/${params.seriesUid}/instances/${params.sopInstanceUid}`,
      );
      assert.equal(removed.status, 204);
      await server.close();
      server = await startTestServer({ dir, partitions: true });
      const after = await feed(server, '/v2/changefeed?includeMetadata=false');
      assert.deepEqual(
        after.map((e) => [e.Sequence, e.PartitionName, e.Action, e.State]),
        [
          [1, 'feedpart', 'create', 'deleted'],
          [2, 'Microsoft.Default', 'create', 'current'],
          [3, 'other', 'create', 'current'],
          [4, 'feedpart', 'delete', 'deleted'],
        ],
        'after a restart: the delete in one partition leaves the copy in the other current',
      );
    } finally {
      await server.close();
    }
  });

  it('refuses a change the full log cannot record, and changes nothing (507)', async () => {
    const server = await startTestServer({ limits: { maxChangeFeedEntries: 2 } });
    try {
      await store(server, ['cf-full-1', 'cf-full-2']);
      const body = multipart('feedb', [{ body: smallInstance('cf-full-3').bytes }]);
      const refused = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        { 'content-type': 'multipart/related; type="application/dicom"; boundary=feedb' },
        body,
      );
      assert.equal(refused.status, 409, 'the STOW stores nothing');
      assert.match(JSON.stringify(refused.json()), /change feed is full/);
      const del = await deleteInstance(server, 'cf-full-1');
      assert.equal(del.status, 507, del.text);
      assert.match(del.text, /change feed is full/);
      assert.equal(server.stats().instances, 2, 'the refused delete removed nothing');
      const entries = await feed(server, '/v2/changefeed?includeMetadata=false');
      assert.deepEqual(
        entries.map((e) => e.State),
        ['current', 'current'],
      );
    } finally {
      await server.close();
    }
  });
});
