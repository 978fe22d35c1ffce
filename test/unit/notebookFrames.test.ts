/**
 * The outputs a cell's images become (src/notebook/render.ts, frameOutput.ts) and the
 * renderer's reading of them (webview/notebook/frameOutput.ts, drawFrame.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFrameOutput, FRAME_MIME } from '../../src/notebook/frameOutput';
import { imageOutputs, renderAnswer } from '../../src/notebook/render';
import { framesOf, type CellAnswer } from '../../src/notebook/run';
import { frameToRgba } from '../../webview/notebook/drawFrame';
import { decodeFrameOutput } from '../../webview/notebook/frameOutput';
import type { ImageInfo } from '../../webview/protocol';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const INSTANCE = { studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4' };

function answer(extra: Partial<CellAnswer>): CellAnswer {
  return {
    kind: 'bytes',
    request: { method: 'GET', path: '/x', headers: {} },
    status: 200,
    ms: 1,
    bytes: 0,
    warnings: [],
    ...extra,
  };
}

function grayInfo(columns: number, rows: number, windows: ImageInfo['windows']): ImageInfo {
  return {
    rows,
    columns,
    samplesPerPixel: 1,
    bitsAllocated: 16,
    bitsStored: 12,
    highBit: 11,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    numberOfFrames: 1,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    windows,
  };
}

describe('notebook image outputs', () => {
  it('gives a rendered or thumbnail answer as an image output of its own type and bytes', () => {
    for (const mediaType of ['image/png', 'image/jpeg', 'image/gif']) {
      const outputs = renderAnswer(answer({ images: [{ mediaType, bytes: PNG }] }));
      const image = outputs.find((output) => output.mime === mediaType);
      assert.deepEqual(image?.bytes, PNG, mediaType);
    }
  });

  it('gives each frame of a frames answer a frame output, only with the header', () => {
    const frames = answer({
      kind: 'parts',
      frameInstance: INSTANCE,
      images: [
        {
          mediaType: 'application/octet-stream',
          transferSyntaxUid: '1.2.840.10008.1.2.1',
          frameNumber: 3,
          bytes: PNG,
        },
        { mediaType: 'image/dicom-rle', frameNumber: 5, bytes: PNG.subarray(2) },
      ],
    });
    assert.deepEqual(imageOutputs(frames), []);
    const info = grayInfo(1, 1, []);
    const outputs = imageOutputs(frames, info);
    assert.deepEqual(
      outputs.map((output) => output.mime),
      [FRAME_MIME, FRAME_MIME],
    );
    const read = outputs.map((output) => decodeFrameOutput(output.bytes!));
    assert.deepEqual(read[0], {
      info,
      mediaType: 'application/octet-stream',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      frameNumber: 3,
      bytes: PNG,
    });
    assert.deepEqual(read[1], {
      info,
      mediaType: 'image/dicom-rle',
      frameNumber: 5,
      bytes: PNG.subarray(2),
    });
  });

  it('refuses a cut or empty frame output with a sentence', () => {
    const whole = encodeFrameOutput({ info: {}, mediaType: 'x', frameNumber: 1 }, PNG);
    assert.throws(() => decodeFrameOutput(whole.subarray(0, 10)), /cut short/);
    assert.throws(() => decodeFrameOutput(new Uint8Array()), /empty/);
  });

  it('reads the instance and frame numbers of a frames path, and nothing else', () => {
    assert.deepEqual(framesOf('/studies/1.2/series/1.2.3/instances/1.2.3.4/frames/2, 4,1'), {
      instance: INSTANCE,
      numbers: [2, 4, 1],
    });
    assert.equal(framesOf('/studies/1.2/series/1.2.3/instances/1.2.3.4/rendered'), undefined);
    assert.equal(framesOf('/studies/1.2/series/1.2.3/frames/1'), undefined);
  });

  it('draws a native frame at the header window, and a range window without one', async () => {
    // 16-bit little endian stored values 0, 1000, 2000, 4095 (PS3.5 §8.1.1).
    const bytes = new Uint8Array(new Uint16Array([0, 1000, 2000, 4095]).buffer);
    const frame = {
      mediaType: 'application/octet-stream',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      frameNumber: 1,
      bytes,
    };
    // Window 1000/1000 (PS3.3 C.11.2.1.2.1): ≤ 500 black, ≥ 1500 white, 1000 mid grey.
    const header = await frameToRgba({
      ...frame,
      info: grayInfo(4, 1, [{ center: 1000, width: 1000 }]),
    });
    const grays = [0, 1, 2, 3].map((i) => header.rgba[i * 4]);
    assert.deepEqual([grays[0], grays[2], grays[3]], [0, 255, 255]);
    assert.ok(Math.abs(grays[1] - 128) <= 1, String(grays[1]));
    assert.deepEqual(header.window, { center: 1000, width: 1000 });
    const range = await frameToRgba({ ...frame, info: grayInfo(4, 1, []) });
    assert.equal(range.rgba[0], 0);
    assert.equal(range.rgba[12], 255);
  });

  it('says which WebAssembly codec a frame would need', async () => {
    await assert.rejects(
      frameToRgba({ info: grayInfo(1, 1, []), mediaType: 'image/jp2', frameNumber: 1, bytes: PNG }),
      /openjpeg WebAssembly codec/,
    );
  });
});
