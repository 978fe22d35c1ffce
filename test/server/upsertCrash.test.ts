/**
 * Crash safety of upsert: the server (a child process) is killed with SIGKILL while a
 * batched `PUT /studies` replaces stored instances. After a restart on the same folder every
 * instance is still served, whole, as its old version or its new one (never none, never half),
 * and every replacement the server acknowledged is served as the new version.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DicomWebClient } from '../../src/dicomweb';
import {
  assertNoTemporaryFiles,
  childServers,
  killHard,
  noRetryClient,
  servedInstances,
  storeUntilKilled,
} from './childServer';
import { smallInstance, tempDir } from './helpers';

const COUNT = 300;

/** Writes the old and the new version of COUNT instances (same UIDs, other descriptions). */
async function writeVersions(): Promise<{
  old: string[];
  renewed: string[];
  bytes: Map<string, { old: Buffer; renewed: Buffer }>;
}> {
  const oldDir = tempDir('upsert-crash-old');
  const newDir = tempDir('upsert-crash-new');
  const old: string[] = [];
  const renewed: string[] = [];
  const bytes = new Map<string, { old: Buffer; renewed: Buffer }>();
  for (let i = 0; i < COUNT; i++) {
    const name = `upsert-crash-${i % 3}-${i}`;
    const before = smallInstance(name, { seriesDescription: 'old' });
    const after = smallInstance(name, { seriesDescription: 'new', patientName: 'New^Name' });
    old.push(join(oldDir, `${i}.dcm`));
    renewed.push(join(newDir, `${i}.dcm`));
    await writeFile(old[i]!, before.bytes);
    await writeFile(renewed[i]!, after.bytes);
    bytes.set(before.params.sopInstanceUid, { old: before.bytes, renewed: after.bytes });
  }
  return { old, renewed, bytes };
}

describe('crash safety of upsert (SIGKILL mid-PUT, restart)', () => {
  const start = childServers();

  it(
    'serves every instance whole, old or new, and every acknowledged one new',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir('upsert-crash');
      const { old, renewed, bytes } = await writeVersions();
      let server = await start(dir);
      let client = noRetryClient(server);
      const first = await client.storeInstances(old, { batchSize: 50 });
      assert.equal(first.stored, COUNT, 'the old versions are stored');

      const { summary, acknowledged } = await storeUntilKilled(server, client, renewed, {
        replace: true,
        batchSize: 10,
        concurrency: 3,
        killAfter: 100,
      });
      await client.close();
      assert.ok(
        summary.outcomes.filter((o) => o.status === 'stored').every((o) => o.replaced === true),
        'every acknowledged file is reported replaced (the search before each batch found it)',
      );

      server = await start(dir);
      client = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
      const served = await servedInstances(client);
      assert.equal(served.size, COUNT, 'no instance was lost');
      let newCount = 0;
      for (const [uid, versions] of bytes) {
        const got = served.get(uid)!;
        const isNew = got.equals(versions.renewed);
        assert.ok(isNew || got.equals(versions.old), `${uid} is served whole, old or new`);
        if (isNew) newCount++;
      }
      for (const uid of acknowledged)
        assert.ok(served.get(uid)!.equals(bytes.get(uid)!.renewed), `${uid} was acknowledged: new`);
      assert.ok(newCount >= acknowledged.length);
      await assertNoTemporaryFiles(dir);
      await client.close();
      await killHard(server);
    },
  );
});
