/**
 * Where thumbnails come from, against the real local server (src/thumbnails/connection.ts):
 * a rendered endpoint is probed once per connection and remembered; without one, each
 * image is decoded in this process from the stored frame; answers are cached; at most
 * MAX_IN_FLIGHT tasks run at once; a task cancelled while it waits sends nothing. The
 * local server has `/rendered`; started with `rendered: false` it is a server without one,
 * whose JPEG, JPEG-LS and JPEG 2000 frames the thumbnail thread (decodeWorker.ts) draws.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DicomWebClient } from '../../src/dicomweb';
import type { LocalServer } from '../../src/server';
import { ConnectionThumbnails } from '../../src/thumbnails/connection';
import { MAX_IN_FLIGHT, RequestLimiter } from '../../src/thumbnails/limiter';
import { isPng } from '../../src/thumbnails/png';
import type { InstanceTarget } from '../../src/preview/frameSource';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readDataSet } from '../../src/dicom/part10';
import { ParserTag } from '../../src/dicom/tags';
import { ThumbnailThread } from '../../src/thumbnails/decodeWorker';
import { writeSmallInstances } from '../support/bulkData';
import { ensureSampleFiles, type SampleName } from '../support/sampleFiles';
import { localClient, rawRequest, startTestServer, tempDir } from './helpers';

const COUNT = 24;

describe('thumbnail sources against the local server', () => {
  let server: LocalServer;
  let targets: InstanceTarget[];
  let hasRendered: boolean;
  const requests: string[] = [];
  let client: DicomWebClient;

  before(async () => {
    server = await startTestServer();
    const instances = await writeSmallInstances(tempDir('thumbs'), COUNT, {
      seed: 'thumbnail-sources',
    });
    const store = localClient(server);
    assert.equal((await store.storeInstances(instances.map((i) => i.path))).stored, COUNT);
    await store.close();
    targets = instances.map(({ studyInstanceUid, seriesInstanceUid, sopInstanceUid }) => ({
      studyInstanceUid,
      seriesInstanceUid,
      sopInstanceUid,
    }));
    const t = targets[0];
    const probe = await rawRequest(
      server,
      'GET',
      `/v2/studies/${t.studyInstanceUid}/series/${t.seriesInstanceUid}/instances/${t.sopInstanceUid}/rendered`,
      { accept: 'image/png' },
    );
    hasRendered = probe.status === 200;
    // The generic profile allows /rendered: the probe decides.
    client = new DicomWebClient({
      baseUrl: `${server.url}/v2`,
      serverKind: 'generic',
      onRequest: (entry) => requests.push(new URL(entry.url).pathname),
    });
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('probes /rendered once per connection, then uses it or decodes here', async () => {
    const thumbnails = new ConnectionThumbnails(client);
    requests.length = 0;
    const images = await Promise.all(targets.map((t) => thumbnails.image(t)));
    const renderedAsked = requests.filter((path) => path.endsWith('/rendered')).length;
    assert.equal(await thumbnails.endpointState('rendered'), hasRendered ? 'present' : 'absent');
    if (hasRendered) {
      assert.equal(renderedAsked, COUNT);
      assert.ok(images.every((image) => image.source === 'rendered'));
    } else {
      assert.equal(renderedAsked, 1, `asked once, not once per instance: ${renderedAsked}`);
      assert.ok(
        images.every((image) => image.source === 'decoded'),
        images.map((i) => i.source).join(),
      );
      // Each decoded here from its metadata and frame 1 as stored.
      assert.equal(requests.filter((path) => /\/frames\/1$/.test(path)).length, COUNT);
    }
    for (const image of images) {
      assert.equal(image.mediaType, 'image/png');
      assert.ok(isPng(image.bytes));
    }
  });

  it(`never runs more than ${MAX_IN_FLIGHT} tasks at once, and answers again from its cache`, async () => {
    const thumbnails = new ConnectionThumbnails(client);
    await Promise.all(targets.map((t) => thumbnails.image(t)));
    assert.equal(thumbnails.limiter.peak, MAX_IN_FLIGHT, 'the limit is reached and held');
    assert.equal(thumbnails.cache.size, COUNT);
    requests.length = 0;
    await Promise.all(targets.map((t) => thumbnails.image(t)));
    assert.deepEqual(requests, [], 'no request for a cached thumbnail');
  });

  it('a task cancelled while it waits for a slot sends no request', async () => {
    const thumbnails = new ConnectionThumbnails(client, { limiter: new RequestLimiter(1) });
    requests.length = 0;
    const controllers = targets.slice(0, 5).map(() => new AbortController());
    const tasks = targets.slice(0, 5).map((t, i) => thumbnails.image(t, controllers[i].signal));
    for (const controller of controllers.slice(1)) controller.abort();
    const settled = await Promise.allSettled(tasks);
    assert.equal(settled[0].status, 'fulfilled');
    assert.deepEqual(
      settled.slice(1).map((s) => s.status),
      ['rejected', 'rejected', 'rejected', 'rejected'],
    );
    const asked = new Set(
      requests.map((path) => /instances\/([\d.]+)/.exec(path)?.[1]).filter(Boolean),
    );
    assert.deepEqual(
      [...asked],
      [targets[0].sopInstanceUid],
      'only the first instance was asked for',
    );
  });

  it('the grid gets frames to decode when the server renders none', async () => {
    const thumbnails = new ConnectionThumbnails(client);
    const tile = await thumbnails.tile(targets[0]);
    if (hasRendered) assert.equal(tile.kind, 'image');
    else {
      assert.equal(tile.kind, 'frame');
      if (tile.kind === 'frame') {
        assert.equal(tile.path, 'stored');
        assert.equal(tile.info.rows, 64);
        assert.equal(tile.bytes.byteLength, 64 * 64 * 3);
      }
    }
  });
});

describe('thumbnails of compressed instances on a server without /rendered (the thumbnail thread)', () => {
  let server: LocalServer;
  let client: DicomWebClient;
  let thread: ThumbnailThread;
  const requests: string[] = [];
  const stored: { name: SampleName; target: InstanceTarget; syntax: string }[] = [];

  before(async () => {
    // `rendered: false`: /rendered and /thumbnail answer 404, as a server without them.
    server = await startTestServer({ rendered: false });
    const catalog = await ensureSampleFiles();
    const store = localClient(server);
    // Three syntaxes that need WebAssembly, with distinct SOP Instance UIDs (the pydicom
    // MR_small files share theirs).
    for (const name of ['jpegBaselineRgb', 'jpegLsLossless', 'j2kLossy'] as SampleName[]) {
      const dataSet = readDataSet(await readFile(catalog.files[name].path));
      const target = {
        studyInstanceUid: dataSet.string(ParserTag.StudyInstanceUID)!,
        seriesInstanceUid: dataSet.string(ParserTag.SeriesInstanceUID)!,
        sopInstanceUid: dataSet.string(ParserTag.SOPInstanceUID)!,
      };
      assert.equal((await store.storeInstances([catalog.files[name].path])).stored, 1, name);
      stored.push({ name, target, syntax: catalog.files[name].transferSyntaxUid });
    }
    await store.close();
    client = new DicomWebClient({
      baseUrl: `${server.url}/v2`,
      serverKind: 'generic',
      onRequest: (entry) => requests.push(new URL(entry.url).pathname),
    });
    thread = new ThumbnailThread({
      script: join(__dirname, '..', '..', 'src', 'thumbnails', 'decodeWorkerMain.js'),
    });
  });
  after(async () => {
    thread?.dispose();
    await client?.close();
    await server?.close();
  });

  it('answers /rendered and /thumbnail 404 when started with rendered: false', async () => {
    const { target } = stored[0]!;
    const base = `/v2/studies/${target.studyInstanceUid}/series/${target.seriesInstanceUid}/instances/${target.sopInstanceUid}`;
    for (const path of [`${base}/rendered`, `${base}/thumbnail`, `${base}/frames/1/rendered`]) {
      const answer = await rawRequest(server, 'GET', path, { accept: 'image/png' });
      assert.equal(answer.status, 404, path);
    }
  });

  it('draws each stored frame in the thread: one frame request each, none transcoded', async () => {
    const thumbnails = new ConnectionThumbnails(client, { decode: thread.decode });
    requests.length = 0;
    for (const { name, target, syntax } of stored) {
      const image = await thumbnails.image(target);
      assert.equal(image.source, 'decoded', name);
      assert.ok(isPng(image.bytes), name);
      assert.equal(thread.drawn.get(syntax), 1, `${name}: drawn from ${syntax}`);
    }
    assert.equal(await thumbnails.endpointState('rendered'), 'absent');
    // The stored frame (transfer-syntax=*) was enough: no second, transcoded request.
    assert.equal(requests.filter((path) => /\/frames\/1$/.test(path)).length, stored.length);
  });
});
