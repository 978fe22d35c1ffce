/**
 * Crash safety of upsert: the server (a child process) is killed with SIGKILL while a
 * batched `PUT /studies` replaces stored instances. After a restart on the same folder every
 * instance is still served, whole, as its old version or its new one (never none, never half),
 * and every replacement the server acknowledged is served as the new version.
 */
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DicomWebClient } from '../../src/dicomweb';
import { STATE_DIR } from '../../src/server';
import { killHard, servedInstances, startChild, type Child } from './childServer';
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
  const children: Child[] = [];
  after(async () => {
    for (const child of children) await killHard(child);
  });

  it(
    'serves every instance whole, old or new, and every acknowledged one new',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir('upsert-crash');
      const { old, renewed, bytes } = await writeVersions();
      let server = await startChild(dir);
      children.push(server);
      let client = new DicomWebClient({
        baseUrl: `${server.url}/v2`,
        serverKind: 'local',
        retry: { retries: 0 },
      });
      const first = await client.storeInstances(old, { batchSize: 50 });
      assert.equal(first.stored, COUNT, 'the old versions are stored');

      const killed = server;
      const summary = await client.storeInstances(renewed, {
        replace: true,
        batchSize: 10,
        concurrency: 3,
        verifyAmbiguous: false,
        onProgress: (progress) => {
          if (progress.filesDone >= 100) killed.process.kill('SIGKILL');
        },
      });
      await killHard(killed);
      await client.close();
      const acknowledged = summary.outcomes
        .filter((o) => o.status === 'stored')
        .map((o) => o.sopInstanceUid!);
      assert.ok(acknowledged.length >= 100, `replaced before the kill: ${acknowledged.length}`);
      assert.ok(acknowledged.length < COUNT, `killed mid-upsert: ${acknowledged.length}/${COUNT}`);
      assert.ok(
        summary.outcomes.filter((o) => o.status === 'stored').every((o) => o.replaced === true),
        'every acknowledged file is reported replaced (the search before each batch found it)',
      );

      server = await startChild(dir);
      children.push(server);
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
      assert.deepEqual(await readdir(join(dir, STATE_DIR, 'tmp')), [], 'no temporary file is left');
      await client.close();
      await killHard(server);
    },
  );
});
