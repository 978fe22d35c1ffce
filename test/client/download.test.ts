/**
 * WADO-RS retrieve streamed to disk (downloadToDirectory) against Orthanc: one file per
 * instance named by its SOPInstanceUID, byte-equal to what was uploaded.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DicomWebError, DicomWebHttpError, type DicomWebClient } from '../../src/dicomweb';
import { writeLargeStudy } from '../support/bulkData';
import { orthancClient, resetOrthanc, tempDir } from '../support/env';
import { SEED, SEED_INSTANCES, writeSeedFiles } from '../support/seedData';

const STUDY = SEED.studyInstanceUid;

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) =>
      relative(
        dir,
        join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name),
      ),
    )
    .sort();
}

describe('downloadToDirectory against Orthanc', () => {
  let client: DicomWebClient;
  const uploaded = new Map<string, Buffer>();

  before(async () => {
    await resetOrthanc();
    client = orthancClient();
    const dir = tempDir('download-src');
    const paths = await writeSeedFiles(dir);
    const summary = await client.storeInstances(paths);
    assert.equal(summary.stored, 3);
    for (const [index, path] of paths.entries())
      uploaded.set(SEED_INSTANCES[index]!.sopInstanceUid, await readFile(path));
  });
  after(() => client.close());

  it('the seed study: three files named {SOPInstanceUID}.dcm, byte-equal to the uploaded ones', async () => {
    const dir = tempDir('download-flat');
    const progress: Array<{ files: number; bytes: number }> = [];
    const result = await client.downloadToDirectory({ studyInstanceUid: STUDY }, dir, {
      onProgress: (p) => progress.push(p),
    });
    assert.deepEqual(
      await listFiles(dir),
      SEED_INSTANCES.map((i) => `${i.sopInstanceUid}.dcm`).sort(),
    );
    for (const [uid, bytes] of uploaded) {
      assert.equal(
        Buffer.compare(await readFile(join(dir, `${uid}.dcm`)), bytes),
        0,
        `${uid} comes back byte for byte`,
      );
    }
    assert.equal(result.files.length, 3);
    assert.equal(
      result.bytes,
      [...uploaded.values()].reduce((sum, b) => sum + b.length, 0),
    );
    for (const file of result.files) {
      assert.equal(file.mediaType, 'application/dicom');
      assert.equal(file.path, join(dir, `${file.sopInstanceUid}.dcm`));
      assert.equal(file.bytes, uploaded.get(file.sopInstanceUid!)?.length);
    }
    assert.deepEqual(
      progress.map((p) => p.files),
      [1, 2, 3],
    );
    assert.equal(progress.at(-1)?.bytes, result.bytes);
    // Orthanc on http: read straight from the socket (download.ts), not through undici.
    assert.equal(result.reader, 'socket');
  });

  it("layout 'tree': {study}/{series}/{SOPInstanceUID}.dcm", async () => {
    const dir = tempDir('download-tree');
    await client.downloadToDirectory({ studyInstanceUid: STUDY }, dir, { layout: 'tree' });
    const expected = SEED_INSTANCES.map((i) =>
      join(i.studyInstanceUid, i.seriesInstanceUid, `${i.sopInstanceUid}.dcm`),
    ).sort();
    assert.deepEqual(await listFiles(dir), expected);
    for (const instance of SEED_INSTANCES) {
      const bytes = await readFile(
        join(
          dir,
          instance.studyInstanceUid,
          instance.seriesInstanceUid,
          `${instance.sopInstanceUid}.dcm`,
        ),
      );
      assert.equal(Buffer.compare(bytes, uploaded.get(instance.sopInstanceUid)!), 0);
    }
  });

  it('a series and a single instance', async () => {
    const seriesDir = tempDir('download-series');
    await client.downloadToDirectory(
      { studyInstanceUid: STUDY, seriesInstanceUid: SEED.redTriangle.seriesInstanceUid },
      seriesDir,
    );
    assert.deepEqual(
      await listFiles(seriesDir),
      [SEED.greenSquare.sopInstanceUid, SEED.redTriangle.sopInstanceUid]
        .map((uid) => `${uid}.dcm`)
        .sort(),
    );
    const instanceDir = tempDir('download-instance');
    const target = {
      studyInstanceUid: STUDY,
      seriesInstanceUid: SEED.blueCircle.seriesInstanceUid,
      sopInstanceUid: SEED.blueCircle.sopInstanceUid,
    };
    const result = await client.downloadToDirectory(target, instanceDir);
    assert.deepEqual(await listFiles(instanceDir), [`${SEED.blueCircle.sopInstanceUid}.dcm`]);
    assert.equal(result.files[0]?.transferSyntaxUid, '1.2.840.10008.1.2.1');
  });

  it('an unknown study is a 404 and leaves no file behind', async () => {
    const dir = tempDir('download-missing');
    await assert.rejects(
      client.downloadToDirectory({ studyInstanceUid: '1.2.3.4.5.6.7.8.9.404' }, dir),
      (error: unknown) => error instanceof DicomWebHttpError && error.status === 404,
    );
    assert.deepEqual(await listFiles(dir), []);
  });

  it('a cancelled download rejects with CANCELLED and leaves no temporary file', async () => {
    const dir = tempDir('download-cancel');
    const controller = new AbortController();
    const download = client.downloadToDirectory({ studyInstanceUid: STUDY }, dir, {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await assert.rejects(
      download,
      (error: unknown) => error instanceof DicomWebError && error.code === 'CANCELLED',
    );
    const left = await listFiles(dir);
    assert.ok(
      left.every((name) => name.endsWith('.dcm')),
      `only finished files stay: ${left.join(', ')}`,
    );
    assert.ok(left.length < 3);
  });

  it('downloads running at once into one folder keep their files apart', async () => {
    // Each call's first temporary file used to be named by pid, millisecond and part number:
    // calls started in the same millisecond renamed each other's file away (ENOENT).
    const dir = tempDir('download-concurrent');
    // Each instance three times over: nine calls at once, the same instance landing on the same
    // name.
    const targets = [...SEED_INSTANCES, ...SEED_INSTANCES, ...SEED_INSTANCES];
    const results = await Promise.all(
      targets.map((i) =>
        client.downloadToDirectory(
          {
            studyInstanceUid: i.studyInstanceUid,
            seriesInstanceUid: i.seriesInstanceUid,
            sopInstanceUid: i.sopInstanceUid,
          },
          dir,
        ),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.files.length),
      targets.map(() => 1),
    );
    assert.deepEqual(
      await listFiles(dir),
      SEED_INSTANCES.map((i) => `${i.sopInstanceUid}.dcm`).sort(),
    );
    for (const [uid, bytes] of uploaded)
      assert.equal(Buffer.compare(await readFile(join(dir, `${uid}.dcm`)), bytes), 0);
  });

  it('writes each file the same way with either reader in all three write modes: synchronous, synchronous until a slow write, thread pool', async () => {
    // Two instances of ~3 MiB: about ten batches of 256–320 KiB each, so the switch happens
    // mid-file.
    const source = tempDir('download-modes-src');
    const study = await writeLargeStudy(source, 6 * 1024 * 1024, 3 * 1024 * 1024, {
      seed: 'download-modes',
    });
    assert.equal(
      (await client.storeInstances(study.instances.map((i) => i.path))).stored,
      study.instances.length,
    );
    const expected = new Map<string, Buffer>();
    for (const instance of study.instances)
      expected.set(instance.sopInstanceUid, await readFile(instance.path));

    const check = async (
      dir: string,
      result: Awaited<ReturnType<DicomWebClient['downloadToDirectory']>>,
    ): Promise<void> => {
      assert.deepEqual(
        await listFiles(dir),
        [...expected.keys()].map((uid) => `${uid}.dcm`).sort(),
      );
      for (const [uid, bytes] of expected)
        assert.equal(
          Buffer.compare(await readFile(join(dir, `${uid}.dcm`)), bytes),
          0,
          `${uid} byte for byte`,
        );
      assert.equal(result.bytes, study.totalBytes);
    };
    const target = { studyInstanceUid: study.studyInstanceUid };

    // Both readers: straight from the socket (the default on http:) and undici.
    for (const reader of ['socket', 'undici'] as const) {
      const socketRead = reader === 'socket';
      // Default: page-cache writes are far below the threshold, so all stay synchronous.
      const syncDir = tempDir(`download-modes-sync-${reader}`);
      const sync = await client.downloadToDirectory(target, syncDir, { socketRead });
      await check(syncDir, sync);
      assert.equal(sync.reader, reader);
      assert.ok(sync.writes.sync >= 16, `sync batches: ${JSON.stringify(sync.writes)}`);
      assert.equal(sync.writes.async, 0);

      // Every synchronous write counts as slow: the first one switches the download for good.
      const switchedDir = tempDir(`download-modes-switch-${reader}`);
      const switched = await client.downloadToDirectory(target, switchedDir, {
        slowWriteMs: -1,
        socketRead,
      });
      await check(switchedDir, switched);
      assert.equal(switched.reader, reader);
      assert.equal(switched.writes.sync, 1);
      assert.ok(switched.writes.async >= 15, `async batches: ${JSON.stringify(switched.writes)}`);

      const poolDir = tempDir(`download-modes-pool-${reader}`);
      const pool = await client.downloadToDirectory(target, poolDir, {
        syncWrites: false,
        socketRead,
      });
      await check(poolDir, pool);
      assert.equal(pool.reader, reader);
      assert.equal(pool.writes.sync, 0);
      assert.ok(pool.writes.async >= 16, `async batches: ${JSON.stringify(pool.writes)}`);
    }
  });
});
