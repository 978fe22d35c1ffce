/**
 * downloadInWorker against Orthanc: the download runs in a worker thread (the compiled
 * src/dicomweb/transfer/downloadWorkerMain.ts) and comes back as the same result, progress, typed
 * errors and cancellation as client.downloadToDirectory; credentials are asked of this
 * thread for every request and the worker's requests reach this thread's request log.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  basicAuth,
  DicomWebClient,
  DicomWebError,
  DicomWebHttpError,
  downloadInWorker,
  type AuthProvider,
  type RequestLogEntry,
} from '../../src/dicomweb';
import { makeImageInstance } from '../support/dicomWriter';
import { clearOrthanc } from '../support/orthanc';
import { orthancClient, resetOrthanc, securedOrthanc, tempDir } from '../support/env';
import { SEED, SEED_INSTANCES, writeSeedFiles } from '../support/seedData';

/**
 * The worker's entry as tsc compiles it next to this test's sources (out/src/dicomweb/transfer/).
 */
const WORKER = join(__dirname, '..', '..', 'src', 'dicomweb', 'transfer', 'downloadWorkerMain.js');
const STUDY = SEED.studyInstanceUid;

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
}

const CANCEL_STUDY_SIZE = 40;

/** Stores a study of `count` 128×128 16-bit instances (about 32 KiB each); its UID. */
async function storeStudyOf(count: number): Promise<string> {
  const studyUid = `2.25.${BigInt('0x' + randomUUID().replace(/-/g, '')).toString()}`;
  const seriesUid = `${studyUid}.1`;
  const dir = tempDir('worker-cancel-src');
  const paths: string[] = [];
  for (let i = 1; i <= count; i++) {
    const path = join(dir, `${i}.dcm`);
    const bytes = makeImageInstance({
      studyUid,
      seriesUid,
      sopInstanceUid: `${seriesUid}.${i}`,
      patientName: 'Cancel^Test',
      patientId: 'CANCEL',
      studyDate: '20260101',
      modality: 'OT',
      rows: 128,
      columns: 128,
      samplesPerPixel: 1,
      photometric: 'MONOCHROME2',
      bitsAllocated: 16,
      pixelData: new Uint16Array(128 * 128).fill(i),
      instanceNumber: i,
      seriesNumber: 1,
      studyDescription: 'cancel',
      seriesDescription: 'cancel',
      accessionNumber: 'CANCEL',
    });
    await writeFile(path, bytes);
    paths.push(path);
  }
  const store = orthancClient();
  try {
    assert.equal((await store.storeInstances(paths)).stored, count);
  } finally {
    store.close();
  }
  return studyUid;
}

describe('downloadInWorker against Orthanc', () => {
  const uploaded = new Map<string, Buffer>();
  let client: DicomWebClient;

  before(async () => {
    await resetOrthanc();
    client = orthancClient();
    const paths = await writeSeedFiles(tempDir('worker-src'));
    assert.equal((await client.storeInstances(paths)).stored, 3);
    for (const [index, path] of paths.entries())
      uploaded.set(SEED_INSTANCES[index]!.sopInstanceUid, await readFile(path));
  });
  after(() => client.close());

  it('downloads the seed study in a worker thread: the same files, progress and result as in this thread', async () => {
    const log: RequestLogEntry[] = [];
    const logged = orthancClient({ onRequest: (entry) => log.push(entry) });
    const dir = tempDir('worker-flat');
    const progress: Array<{ files: number; bytes: number }> = [];
    try {
      const result = await downloadInWorker(logged, WORKER, { studyInstanceUid: STUDY }, dir, {
        onProgress: (p) => progress.push(p),
      });
      assert.deepEqual(
        await filesIn(dir),
        SEED_INSTANCES.map((i) => `${i.sopInstanceUid}.dcm`).sort(),
      );
      for (const [uid, bytes] of uploaded)
        assert.equal(
          Buffer.compare(await readFile(join(dir, `${uid}.dcm`)), bytes),
          0,
          `${uid} byte for byte`,
        );
      assert.equal(result.files.length, 3);
      assert.equal(
        result.bytes,
        [...uploaded.values()].reduce((sum, b) => sum + b.length, 0),
      );
      assert.ok(result.writes.sync >= 3, JSON.stringify(result.writes));
      assert.deepEqual(
        progress.map((p) => p.files),
        [1, 2, 3],
      );
      // The worker's request reached this thread's log.
      assert.ok(
        log.some(
          (entry) =>
            entry.method === 'GET' &&
            entry.url.endsWith(`/studies/${STUDY}`) &&
            entry.status === 200,
        ),
        JSON.stringify(log),
      );
    } finally {
      await logged.close();
    }
  });

  it("layout 'tree' and a single instance, as the extension's download command asks", async () => {
    const dir = tempDir('worker-tree');
    const i = SEED.blueCircle;
    const result = await downloadInWorker(
      client,
      WORKER,
      {
        studyInstanceUid: i.studyInstanceUid,
        seriesInstanceUid: i.seriesInstanceUid,
        sopInstanceUid: i.sopInstanceUid,
      },
      dir,
      { layout: 'tree' },
    );
    assert.equal(
      result.files[0]?.path,
      join(dir, i.studyInstanceUid, i.seriesInstanceUid, `${i.sopInstanceUid}.dcm`),
    );
    assert.equal(
      Buffer.compare(await readFile(result.files[0]!.path), uploaded.get(i.sopInstanceUid)!),
      0,
    );
  });

  it('a 404 comes back as the same DicomWebHttpError', async () => {
    const dir = tempDir('worker-missing');
    await assert.rejects(
      downloadInWorker(client, WORKER, { studyInstanceUid: '1.2.3.4.5.6.7.8.9.404' }, dir),
      (error: unknown) => {
        assert.ok(error instanceof DicomWebHttpError, String(error));
        assert.equal(error.status, 404);
        assert.equal(error.method, 'GET');
        assert.match(error.message, /404/);
        return true;
      },
    );
    assert.deepEqual(await filesIn(dir), []);
  });

  it('cancelling rejects with CANCELLED and leaves only finished files', async () => {
    // A study of CANCEL_STUDY_SIZE instances, not the seed's 3: on a loaded machine the worker
    // could write 3 small files before the cancel reached it, and the run then (rightly)
    // resolved. Many files in one multipart stream keep the cancel inside the download.
    const study = await storeStudyOf(CANCEL_STUDY_SIZE);
    const dir = tempDir('worker-cancel');
    const controller = new AbortController();
    const download = downloadInWorker(client, WORKER, { studyInstanceUid: study }, dir, {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await assert.rejects(
      download,
      (error: unknown) => error instanceof DicomWebError && error.code === 'CANCELLED',
    );
    const left = await filesIn(dir);
    assert.ok(
      left.every((name) => name.endsWith('.dcm')),
      left.join(', '),
    );
    assert.ok(left.length < CANCEL_STUDY_SIZE, `${left.length} of ${CANCEL_STUDY_SIZE} files left`);
  });

  it('against the basic-auth Orthanc: the worker asks this thread for the credentials, and a wrong password is a 401', async () => {
    const password = securedOrthanc.password;
    await clearOrthanc({
      restUrl: securedOrthanc.restUrl,
      basicAuth: { username: securedOrthanc.username, password },
    });
    let asked = 0;
    const provider = basicAuth(securedOrthanc.username, async () => {
      asked++;
      return password;
    });
    const counting: AuthProvider = {
      kind: provider.kind,
      authorization: () => provider.authorization(),
    };
    const secured = new DicomWebClient({
      baseUrl: securedOrthanc.dicomWebUrl,
      serverKind: 'orthanc',
      serverRoot: securedOrthanc.restUrl,
      auth: counting,
    });
    const wrong = new DicomWebClient({
      baseUrl: securedOrthanc.dicomWebUrl,
      serverKind: 'orthanc',
      serverRoot: securedOrthanc.restUrl,
      auth: basicAuth(securedOrthanc.username, 'not-the-password'),
    });
    try {
      assert.equal(
        (await secured.storeInstances(await writeSeedFiles(tempDir('worker-auth-src')))).stored,
        3,
      );
      const before = asked;
      const dir = tempDir('worker-auth');
      const result = await downloadInWorker(secured, WORKER, { studyInstanceUid: STUDY }, dir);
      assert.equal(result.files.length, 3);
      assert.ok(asked > before, 'the credentials came from this thread');
      await assert.rejects(
        downloadInWorker(wrong, WORKER, { studyInstanceUid: STUDY }, tempDir('worker-auth-wrong')),
        (error: unknown) => error instanceof DicomWebHttpError && error.status === 401,
      );
    } finally {
      await clearOrthanc({
        restUrl: securedOrthanc.restUrl,
        basicAuth: { username: securedOrthanc.username, password },
      });
      await secured.close();
      await wrong.close();
    }
  });

  it('a worker that cannot start is a WORKER_FAILED error, not a hang', async () => {
    await assert.rejects(
      downloadInWorker(
        client,
        join(tempDir('worker-none'), 'missing.js'),
        { studyInstanceUid: STUDY },
        tempDir('worker-none-out'),
      ),
      (error: unknown) => {
        assert.ok(error instanceof DicomWebError && error.code === 'WORKER_FAILED', String(error));
        return true;
      },
    );
  });
});
