/**
 * A frames cell run for real against the local server (src/notebook/run.ts, cells.ts,
 * render.ts): the answer becomes one frame output per frame, holding the frame's bytes as
 * stored and the instance's image header read as the preview reads it; the notebook
 * renderer's own code (webview/notebook/) then decodes and draws it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DicomWebClient } from '../../src/dicomweb';
import { NotebookRun, type FrameInfoReader } from '../../src/notebook/cells';
import { FRAME_MIME } from '../../src/notebook/frameOutput';
import { DicomWebFrameSource } from '../../src/preview/frameSource';
import type { LocalServer } from '../../src/server';
import { frameToRgba } from '../../webview/notebook/drawFrame';
import { decodeFrameOutput } from '../../webview/notebook/frameOutput';
import {
  drawShape,
  isInsideShape,
  SEED,
  SEED_IMAGE_SIZE,
  writeSeedFiles,
} from '../support/seedData';
import { localClient, startTestServer, tempDir } from './helpers';

const RED = SEED.redTriangle;
const FRAMES = `/studies/${RED.studyInstanceUid}/series/${RED.seriesInstanceUid}/instances/${RED.sopInstanceUid}/frames/1`;
/** The host's reader (src/notebookHost/controllers.ts): the preview's DicomWebFrameSource. */
const readInfo: FrameInfoReader = async (client, instance, signal) =>
  (await new DicomWebFrameSource(client, instance).open(signal)).info;

describe('notebook frames and images against the local server', () => {
  let server: LocalServer;
  let client: DicomWebClient;
  let folder: string;

  before(async () => {
    server = await startTestServer();
    client = localClient(server);
    folder = tempDir('notebook-frames');
    await writeSeedFiles(folder);
    const stored = await new NotebookRun(folder).runCell(
      client,
      'POST /studies\n\n< ./red-triangle.dcm',
    );
    assert.equal(stored.ok, true);
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('gives a frames cell one frame output with the frame as stored and its header', async () => {
    const run = new NotebookRun(folder, {}, readInfo);
    const result = await run.runCell(
      client,
      `GET ${FRAMES}\nAccept: multipart/related; type="application/octet-stream"; transfer-syntax=*`,
    );
    assert.equal(result.ok, true);
    const frames = result.outputs.filter((output) => output.mime === FRAME_MIME);
    assert.equal(frames.length, 1);
    const frame = decodeFrameOutput(frames[0].bytes!);
    assert.deepEqual([...frame.bytes], [...drawShape('redTriangle')]);
    assert.equal(frame.frameNumber, 1);
    assert.equal(frame.info.rows, SEED_IMAGE_SIZE);
    assert.equal(frame.info.columns, SEED_IMAGE_SIZE);
    assert.equal(frame.info.samplesPerPixel, 3);
    // Drawn by the renderer's code: red inside the triangle, black outside, every pixel.
    const drawn = await frameToRgba(frame);
    for (let y = 0; y < SEED_IMAGE_SIZE; y++) {
      for (let x = 0; x < SEED_IMAGE_SIZE; x++) {
        const at = (y * SEED_IMAGE_SIZE + x) * 4;
        const want = isInsideShape('redTriangle', x, y) ? [...RED.color, 255] : [0, 0, 0, 255];
        assert.deepEqual([...drawn.rgba.subarray(at, at + 4)], want, `pixel ${x},${y}`);
      }
    }
  });

  it('lists the frames without drawing them when no header reader is given', async () => {
    const result = await new NotebookRun(folder).runCell(
      client,
      `GET ${FRAMES}\nAccept: multipart/related; type="application/octet-stream"; transfer-syntax=*`,
    );
    assert.equal(result.ok, true);
    assert.equal(result.answer?.images?.length, 1);
    assert.equal(result.outputs.filter((output) => output.mime === FRAME_MIME).length, 0);
  });

  it('keeps at most shownFrames frames to draw, and lists every part', async () => {
    const run = new NotebookRun(folder, { shownFrames: 0 }, readInfo);
    const result = await run.runCell(
      client,
      `GET ${FRAMES}\nAccept: multipart/related; type="application/octet-stream"; transfer-syntax=*`,
    );
    assert.equal(result.answer?.parts?.length, 1);
    assert.equal(result.outputs.filter((output) => output.mime === FRAME_MIME).length, 0);
  });

  it('draws no frame larger than answerBytes (the part is still listed)', async () => {
    const run = new NotebookRun(folder, { answerBytes: SEED_IMAGE_SIZE ** 2 * 3 - 1 }, readInfo);
    const result = await run.runCell(
      client,
      `GET ${FRAMES}\nAccept: multipart/related; type="application/octet-stream"; transfer-syntax=*`,
    );
    assert.equal(result.answer?.parts?.[0].bytes, SEED_IMAGE_SIZE ** 2 * 3);
    assert.equal(result.answer?.images?.length, 0);
  });
});
