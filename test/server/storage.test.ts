/**
 * The local server's storage: the persisted index is used on restart, rebuilt when missing
 * or damaged; files dropped into the watched folder appear, removed ones disappear;
 * uncompressed files in other encodings are served as stored; concurrent STOW, QIDO and
 * DELETE stay consistent.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { STATE_DIR, type LocalServer } from '../../src/server';
import {
  encapsulatedPixelData,
  makeImageInstance,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from '../support/dicomWriter';
import { SEED, writeSeedFiles } from '../support/seedData';
import {
  multipart,
  rawRequest,
  smallInstance,
  startTestServer,
  stowOutcome,
  tempDir,
} from './helpers';

const JSON_ACCEPT = { accept: 'application/dicom+json' };

async function instanceCount(server: LocalServer): Promise<number> {
  const response = await rawRequest(server, 'GET', '/v2/instances?limit=200', JSON_ACCEPT);
  return response.status === 204 ? 0 : (response.json() as unknown[]).length;
}

async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('the persisted index', () => {
  const servers: LocalServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });

  it('is written, used on restart, and rebuilt from the files when deleted or corrupted', async () => {
    const dir = tempDir('index');
    await writeSeedFiles(join(dir, 'seed'));
    let logs: string[] = [];
    const log = (line: string) => logs.push(line);
    let server = await startTestServer({ dir, log });
    servers.push(server);
    assert.equal(server.stats().instances, 3);
    assert.ok(logs.some((l) => /rebuilt from the files/.test(l)));
    await server.close();
    const indexPath = join(dir, STATE_DIR, 'index.json');
    assert.match(await readFile(indexPath, 'utf8'), /dicomweb-explorer\/local-index/);

    logs = [];
    server = await startTestServer({ dir, log });
    servers.push(server);
    assert.equal(server.stats().instances, 3);
    assert.ok(!logs.some((l) => /rebuilt/.test(l)), 'the persisted index was used');
    await server.close();

    await rm(indexPath);
    server = await startTestServer({ dir, log });
    servers.push(server);
    assert.equal(await instanceCount(server), 3, 'rebuilt after the index was deleted');
    await server.close();

    for (const damage of [
      '{"format":"dicomweb-explorer/local-index","version":1,"count":3,"stud',
      'not json at all',
      '{"format":"other"}',
    ]) {
      await writeFile(indexPath, damage);
      logs = [];
      server = await startTestServer({ dir, log });
      servers.push(server);
      assert.equal(
        await instanceCount(server),
        3,
        `rebuilt after damage ${JSON.stringify(damage.slice(0, 20))}`,
      );
      assert.ok(logs.some((l) => /rebuilding/.test(l)));
      await server.close();
    }
  });

  it('notices files added and removed while the server was stopped', async () => {
    const dir = tempDir('index-offline');
    await writeSeedFiles(join(dir, 'seed'));
    let server = await startTestServer({ dir, watch: false });
    servers.push(server);
    await server.close();
    await rm(join(dir, 'seed', SEED.blueCircle.fileName));
    const extra = smallInstance('offline-extra');
    await writeFile(join(dir, 'extra.dcm'), extra.bytes);
    server = await startTestServer({ dir, watch: false });
    servers.push(server);
    assert.equal(server.stats().instances, 3);
    const gone = await rawRequest(
      server,
      'GET',
      `/v2/instances?SOPInstanceUID=${SEED.blueCircle.sopInstanceUid}`,
      JSON_ACCEPT,
    );
    assert.equal(gone.status, 204);
    await server.close();
  });

  it('ignores what is in .dicomweb/tmp after a crash and empties it', async () => {
    const dir = tempDir('index-tmp');
    await mkdir(join(dir, STATE_DIR, 'tmp'), { recursive: true });
    const half = smallInstance('half-written');
    await writeFile(join(dir, STATE_DIR, 'tmp', 'left-over.part'), half.bytes.subarray(0, 100));
    const server = await startTestServer({ dir });
    servers.push(server);
    assert.equal(server.stats().instances, 0);
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual(await readdir(join(dir, STATE_DIR, 'tmp')), []);
    await server.close();
  });
});

describe('the watched folder', () => {
  let server: LocalServer | undefined;
  after(() => server?.close());

  it('serves files dropped in (also in new sub-folders and without .dcm), forgets removed ones, waits for half-copied ones', async () => {
    const dir = tempDir('watch');
    server = await startTestServer({ dir });
    assert.equal(await instanceCount(server), 0);

    await writeSeedFiles(join(dir, 'dropped', 'shapes'));
    await waitFor(
      async () => (await instanceCount(server!)) === 3,
      'the three seed files to appear',
    );

    const noExtension = smallInstance('watch-no-extension');
    await writeFile(join(dir, 'IM0001'), noExtension.bytes);
    await writeFile(join(dir, 'notes.txt'), 'not DICOM');
    await waitFor(
      async () => (await instanceCount(server!)) === 4,
      'a file without extension to appear',
    );

    // A file copied in slowly: not served while incomplete, served once complete.
    const slow = smallInstance('watch-slow');
    const handle = await open(join(dir, 'slow.dcm'), 'w');
    await handle.write(slow.bytes.subarray(0, 300));
    await handle.sync();
    await sleep(400);
    assert.equal(await instanceCount(server), 4, 'a half-copied file is not served');
    await handle.write(slow.bytes.subarray(300));
    await handle.close();
    await waitFor(async () => (await instanceCount(server!)) === 5, 'the completed file to appear');

    await rm(join(dir, 'dropped'), { recursive: true });
    await waitFor(async () => (await instanceCount(server!)) === 2, 'removed files to disappear');

    // A copy of a served instance under another name is the same instance: served once.
    await copyFile(join(dir, 'IM0001'), join(dir, 'IM0001-copy'));
    await sleep(400);
    assert.equal(await instanceCount(server), 2);
  });
});

describe('encodings and concurrency', () => {
  let server: LocalServer | undefined;
  after(() => server?.close());

  it('serves an Implicit VR file as stored (transfer-syntax=*), converted for Explicit VR LE (as Azure does), its frames in Explicit VR LE', async () => {
    server = await startTestServer();
    const implicit = smallInstance('implicit', { transferSyntaxUid: IMPLICIT_VR_LITTLE_ENDIAN });
    const stored = await rawRequest(
      server,
      'POST',
      '/v2/studies',
      { 'content-type': 'application/dicom', ...JSON_ACCEPT },
      implicit.bytes,
    );
    // Stored with WarningReason 45063, as the Azure service stores Implicit VR files.
    assert.equal(stored.status, 202, stored.text);
    const [referenced] = (
      stored.json() as Record<string, { Value: Array<Record<string, { Value: unknown[] }>> }>
    )['00081199']!.Value;
    assert.deepEqual(referenced!['00081196']!.Value, [45063]);
    const { studyUid, seriesUid, sopInstanceUid } = implicit.params;
    const base = `/v2/studies/${studyUid}/series/${seriesUid}/instances/${sopInstanceUid}`;
    const asStored = await rawRequest(server, 'GET', base, {
      accept: 'application/dicom; transfer-syntax=*',
    });
    assert.equal(asStored.status, 200);
    assert.match(
      String(asStored.headers['content-type']),
      /transfer-syntax=1\.2\.840\.10008\.1\.2$/,
    );
    assert.deepEqual(asStored.body, implicit.bytes);
    const ele = await rawRequest(server, 'GET', base, {
      accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1',
    });
    assert.equal(ele.status, 200, ele.text);
    assert.match(
      ele.text,
      /Content-Type: application\/dicom; transfer-syntax=1\.2\.840\.10008\.1\.2\.1\r\n/,
    );
    assert.ok(!ele.body.includes(implicit.bytes), 'not the stored bytes');
    const frame = await rawRequest(server, 'GET', `${base}/frames/1`, {
      accept:
        'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1',
    });
    assert.equal(frame.status, 200);
    assert.ok(
      frame.body.includes(Buffer.from(new Uint8Array(64).map((_, i) => i))),
      'the native pixels',
    );
    const metadata = await rawRequest(server, 'GET', `${base}/metadata`, JSON_ACCEPT);
    const [dataset] = metadata.json() as Array<Record<string, { vr: string; Value?: unknown[] }>>;
    assert.equal(dataset!['00100010']?.vr, 'PN', 'VRs of implicit files come from the dictionary');
  });

  it('serves JPEG frames as image/jpeg with transfer-syntax=* and 406 without', async () => {
    const jpegLike = [
      Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]),
      Buffer.from([0xff, 0xd8, 9, 9, 0xff, 0xd9]),
    ];
    const { params } = smallInstance('jpeg');
    const header = makeImageInstance({
      ...params,
      pixelData: undefined,
      numberOfFrames: 2,
      transferSyntaxUid: '1.2.840.10008.1.2.4.50',
    });
    const bytes = Buffer.concat([header, encapsulatedPixelData(jpegLike)]);
    const stored = await rawRequest(
      server!,
      'POST',
      '/v2/studies',
      { 'content-type': 'application/dicom', ...JSON_ACCEPT },
      bytes,
    );
    assert.equal(stored.status, 200, stored.text);
    const base = `/v2/studies/${params.studyUid}/series/${params.seriesUid}/instances/${params.sopInstanceUid}`;
    const frames = await rawRequest(server!, 'GET', `${base}/frames/2,1`, {
      accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*',
    });
    assert.equal(frames.status, 200, frames.text);
    assert.match(
      frames.text,
      /Content-Type: image\/jpeg; transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.50/,
    );
    assert.ok(
      frames.body.indexOf(jpegLike[1]!) < frames.body.indexOf(jpegLike[0]!),
      'frames in the order asked',
    );
    const refused = await rawRequest(server!, 'GET', `${base}/frames/1`, {
      accept: 'multipart/related; type="application/octet-stream"',
    });
    assert.equal(refused.status, 406);
  });

  it('stores one instance sent by 8 requests at once exactly once; QIDO and DELETE in between stay consistent', async () => {
    const same = smallInstance('concurrent-same');
    const body = multipart('cc', [{ body: same.bytes }]);
    const headers = {
      'content-type': 'multipart/related; type="application/dicom"; boundary=cc',
      ...JSON_ACCEPT,
    };
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => rawRequest(server!, 'POST', '/v2/studies', headers, body)),
    );
    assert.equal(
      answers.filter((a) => a.status === 200).length,
      1,
      answers.map((a) => a.status).join(','),
    );
    for (const refused of answers.filter((a) => a.status !== 200)) {
      assert.equal(refused.status, 409);
      assert.ok([45070, 45071].includes(stowOutcome(refused.json()).failed[0]!.reason!));
    }

    const many = Array.from({ length: 40 }, (_, i) =>
      smallInstance(`concurrent-${i}`, {
        studyUid: same.params.studyUid,
        seriesUid: same.params.seriesUid,
      }),
    );
    const stores = many.map((m) =>
      rawRequest(server!, 'POST', '/v2/studies', headers, multipart('cc', [{ body: m.bytes }])),
    );
    const searches = Array.from({ length: 20 }, () =>
      rawRequest(
        server!,
        'GET',
        `/v2/studies/${same.params.studyUid}/instances?limit=200`,
        JSON_ACCEPT,
      ),
    );
    const results = await Promise.all([...stores, ...searches]);
    for (const result of results.slice(40)) {
      const items =
        result.status === 204
          ? []
          : (result.json() as Array<Record<string, { Value?: unknown[] }>>);
      assert.equal(
        new Set(items.map((i) => i['00080018']?.Value?.[0])).size,
        items.length,
        'no instance twice in one answer',
      );
    }
    assert.ok(results.slice(0, 40).every((r) => r.status === 200));
    const [deleted, during] = await Promise.all([
      rawRequest(server!, 'DELETE', `/v2/studies/${same.params.studyUid}`),
      rawRequest(
        server!,
        'GET',
        `/v2/studies/${same.params.studyUid}/instances?limit=200`,
        JSON_ACCEPT,
      ),
    ]);
    assert.equal(deleted.status, 204);
    assert.ok(
      during.status === 204 || (during.json() as unknown[]).length === 41,
      'a search sees all or nothing of the deleted study',
    );
    const afterDelete = await rawRequest(
      server!,
      'GET',
      `/v2/studies/${same.params.studyUid}/instances`,
      JSON_ACCEPT,
    );
    assert.equal(afterDelete.status, 204);
  });
});
