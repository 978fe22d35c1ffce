/**
 * The change feed after `kill -9`: the server runs as a child process and is killed while
 * batched STOW requests are in flight, then again while DELETE requests are. After each
 * restart the feed and the files agree: an instance is served exactly when the feed's last
 * entry for it is a create (State `current`), every acknowledged STOW has its create entry,
 * every acknowledged DELETE its delete entry, and no entry is left unsettled.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DicomWebClient } from '../../src/dicomweb';
import { STATE_DIR } from '../../src/server';
import { CHANGE_FEED_FILE } from '../../src/server/changeFeed';
import { writeSmallInstances, type GeneratedInstance } from '../support/bulkData';
import { childServers, killHard, noRetryClient, storeUntilKilled, type Child } from './childServer';
import { tempDir } from './helpers';

interface Entry {
  Sequence: number;
  SopInstanceUid: string;
  Action: string;
  State: string;
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return res.json();
}

/** The whole feed, page by page (v2, 200 a page). */
async function wholeFeed(base: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for (;;) {
    const page = (await getJson(
      `${base}/v2/changefeed?offset=${out.length}&limit=200&includeMetadata=false`,
    )) as Entry[];
    out.push(...page);
    if (page.length < 200) return out;
  }
}

async function servedUids(client: DicomWebClient): Promise<Set<string>> {
  const served = new Set<string>();
  for await (const page of client.searchAll('instances', {}, {}, { pageSize: 200 }))
    for (const item of page.items) served.add(String(item['00080018']?.Value?.[0]));
  return served;
}

/** Asserts the feed and the served instances agree; returns the feed. */
async function assertConsistent(child: Child): Promise<Entry[]> {
  const client = new DicomWebClient({ baseUrl: `${child.url}/v2`, serverKind: 'local' });
  try {
    const entries = await wholeFeed(child.url);
    const served = await servedUids(client);
    const alive = new Map<string, boolean>();
    for (const entry of entries) alive.set(entry.SopInstanceUid, entry.Action !== 'delete');
    for (const [uid, isAlive] of alive)
      assert.equal(served.has(uid), isAlive, `${uid}: served exactly when the feed says it exists`);
    for (const uid of served) assert.ok(alive.get(uid), `${uid} is served and has a create entry`);
    for (const entry of entries) {
      const expected = alive.get(entry.SopInstanceUid) ? 'current' : 'deleted';
      assert.equal(entry.State, expected, `entry ${entry.Sequence}'s state`);
    }
    const sequences = entries.map((e) => e.Sequence);
    assert.deepEqual(
      sequences,
      [...sequences].sort((a, b) => a - b),
      'entries in sequence order',
    );
    return entries;
  } finally {
    await client.close();
  }
}

/** Intents the kill left without a commit or abort line (reported, not asserted: timing). */
async function openIntents(dir: string): Promise<number> {
  const lines = (await readFile(join(dir, STATE_DIR, CHANGE_FEED_FILE), 'utf8')).split('\n');
  const settled = new Set<number>();
  const intents: number[] = [];
  for (const line of lines) {
    const parsed = /^\{"t":"(i|c|a)","q":(\d+)/.exec(line);
    if (!parsed) continue;
    if (parsed[1] === 'i') intents.push(Number(parsed[2]));
    else settled.add(Number(parsed[2]));
  }
  return intents.filter((q) => !settled.has(q)).length;
}

/** Deletes instances 6 at a time until the server dies; the acknowledged SOP Instance UIDs. */
async function deleteUntilKilled(child: Child, files: GeneratedInstance[]): Promise<string[]> {
  const acknowledged: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++]!;
      const url = `${child.url}/v2/studies/${file.studyInstanceUid}/series/${file.seriesInstanceUid}/instances/${file.sopInstanceUid}`;
      const res = await fetch(url, { method: 'DELETE' }).catch(() => undefined);
      if (!res) return;
      if (res.status === 204) acknowledged.push(file.sopInstanceUid);
      if (acknowledged.length === 40) child.process.kill('SIGKILL');
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return acknowledged;
}

describe('change feed after kill -9 during STOW and DELETE', () => {
  const start = childServers();

  it('keeps the feed and the files in agreement', { timeout: 180_000 }, async (t) => {
    const dir = tempDir('feed-crash');
    const files = await writeSmallInstances(tempDir('feed-crash-files'), 240, {
      studies: 4,
      seed: 'feed-crash',
    });

    // 1. Killed while batched STOW requests are in flight.
    let server = await start(dir);
    const client = noRetryClient(server);
    const { acknowledged: stored } = await storeUntilKilled(
      server,
      client,
      files.map((f) => f.path),
      { batchSize: 5, concurrency: 4, killAfter: 80 },
    );
    await client.close();

    t.diagnostic(`open intents after the STOW kill: ${await openIntents(dir)}`);
    server = await start(dir);
    const afterStow = await assertConsistent(server);
    const created = new Set(
      afterStow.filter((e) => e.Action === 'create').map((e) => e.SopInstanceUid),
    );
    for (const uid of stored)
      assert.ok(created.has(uid), `acknowledged STOW of ${uid} has its entry`);

    // 2. Killed while DELETE requests are in flight.
    const present = files.filter((f) => created.has(f.sopInstanceUid));
    const deleted = await deleteUntilKilled(server, present);
    await killHard(server);
    assert.ok(
      deleted.length >= 40 && deleted.length < present.length,
      `killed mid-DELETE (${deleted.length})`,
    );

    t.diagnostic(`open intents after the DELETE kill: ${await openIntents(dir)}`);
    server = await start(dir);
    const afterDelete = await assertConsistent(server);
    const deleteEntries = new Set(
      afterDelete.filter((e) => e.Action === 'delete').map((e) => e.SopInstanceUid),
    );
    for (const uid of deleted)
      assert.ok(deleteEntries.has(uid), `acknowledged DELETE of ${uid} has its entry`);
    await killHard(server);
  });
});
