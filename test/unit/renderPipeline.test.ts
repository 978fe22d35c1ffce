/**
 * The display pipeline (PS3.3 C.11): Modality LUT, VOI window, MONOCHROME1, palette,
 * colour; on synthetic frames where the expected bytes are known, and on MR_small turned
 * MONOCHROME1 (test/support/sampleFiles.ts) which must look the same as the original.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { readDataSet } from '../../src/dicom/part10';
import { fileFrame } from '../../src/imaging/header/fileFrames';
import { imageInfoFromDataSet } from '../../src/imaging/header/imageInfo';
import { nodeDecoderDeps } from '../support/nodeCodecs';
import type { ImageInfo } from '../../webview/protocol';
import { decodeFrame } from '../../src/imaging/decode/decodeFrame';
import type { DecodedFrame } from '../../src/imaging/decode/types';
import {
  initialWindow,
  pixelValueAt,
  renderToRgba,
  voiFunction,
} from '../../src/imaging/render/pipeline';
import { ensureSampleFiles } from '../support/sampleFiles';

function grayInfo(overrides: Partial<ImageInfo> = {}): ImageInfo {
  return {
    rows: 1,
    columns: 4,
    samplesPerPixel: 1,
    bitsAllocated: 16,
    bitsStored: 16,
    highBit: 15,
    pixelRepresentation: 1,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    numberOfFrames: 1,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    windows: [],
    ...overrides,
  };
}

function frameOf(values: number[], photometric = 'MONOCHROME2'): DecodedFrame {
  const pixels = Int16Array.from(values);
  return {
    columns: values.length,
    rows: 1,
    samplesPerPixel: 1,
    pixels,
    photometricInterpretation: photometric,
    min: Math.min(...values),
    max: Math.max(...values),
    bitsStored: 16,
    signed: true,
    decoder: 'test',
  };
}

function grays(
  frame: DecodedFrame,
  info: ImageInfo,
  view: { windowCenter: number; windowWidth: number; invert: boolean },
): number[] {
  const out = new Uint8ClampedArray(frame.rows * frame.columns * 4);
  renderToRgba(frame, info, view, out);
  const result: number[] = [];
  for (let i = 0; i < out.length; i += 4) {
    assert.equal(out[i], out[i + 1]);
    assert.equal(out[i + 3], 255, 'opaque');
    result.push(out[i]);
  }
  return result;
}

describe('VOI LUT (PS3.3 C.11.2.1.2)', () => {
  it('LINEAR follows the standard formula with its −0.5 and width − 1', () => {
    const f = voiFunction(40, 400);
    assert.equal(f(40 - 0.5 - 199.5), 0, 'at the lower edge');
    assert.equal(f(40 - 0.5 + 199.5 + 0.01), 1, 'past the upper edge');
    assert.ok(Math.abs(f(39.5) - 0.5) < 1e-9, 'centre − 0.5 maps to the middle');
  });

  it('applies Rescale Slope/Intercept before the window (CT in HU)', () => {
    const info = grayInfo({ rescaleSlope: 1, rescaleIntercept: -1024 });
    // Stored 0 = −1024 HU (air, black), 1024 = 0 HU, 2048 = 1024 HU (white in a 0/400 window).
    assert.deepEqual(
      grays(frameOf([0, 1024, 1224, 2048]), info, {
        windowCenter: 0,
        windowWidth: 400,
        invert: false,
      }),
      [0, 128, 255, 255],
    );
  });

  it('MONOCHROME1 shows the minimum as white (C.7.6.3.1.2); invert toggles on top', () => {
    const info = grayInfo({ photometricInterpretation: 'MONOCHROME1' });
    const frame = frameOf([0, 100], 'MONOCHROME1');
    assert.deepEqual(
      grays(frame, info, { windowCenter: 50.5, windowWidth: 101, invert: false }),
      [255, 0],
    );
    assert.deepEqual(
      grays(frame, info, { windowCenter: 50.5, windowWidth: 101, invert: true }),
      [0, 255],
    );
  });

  it('draws the Pixel Padding Value black (C.7.5.1.1.2)', () => {
    const info = grayInfo({ pixelPaddingValue: -2000 });
    assert.deepEqual(
      grays(frameOf([-2000, 100]), info, { windowCenter: 0, windowWidth: 10, invert: false }),
      [0, 255],
    );
  });

  it('starts with the header window, else the frame range', () => {
    const frame = frameOf([0, 1000]);
    assert.deepEqual(initialWindow(grayInfo({ windows: [{ center: 300, width: 600 }] }), frame), {
      center: 300,
      width: 600,
    });
    assert.deepEqual(initialWindow(grayInfo(), frame), {
      center: 500,
      width: 1001,
      explanation: 'Min/Max',
    });
  });

  it('reports stored and rescaled values under the cursor', () => {
    const info = grayInfo({ rescaleSlope: 2, rescaleIntercept: -10 });
    assert.deepEqual(pixelValueAt(frameOf([5, 7]), info, 1.7, 0.2), { stored: [7], rescaled: 4 });
    assert.equal(pixelValueAt(frameOf([5, 7]), info, 2, 0), undefined);
  });
});

describe('colour', () => {
  it('maps PALETTE COLOR through its tables (C.7.6.3.1.5), 16-bit entries to their high byte', () => {
    const channel = (data: number[]) => ({ entries: 3, firstMapped: 10, bitsPerEntry: 16, data });
    const info = grayInfo({
      photometricInterpretation: 'PALETTE COLOR',
      pixelRepresentation: 0,
      palette: {
        red: channel([0xff00, 0, 0]),
        green: channel([0, 0xff00, 0]),
        blue: channel([0, 0, 0xff00]),
      },
    });
    const frame = { ...frameOf([5, 11, 12, 99]), photometricInterpretation: 'PALETTE COLOR' };
    const out = new Uint8ClampedArray(16);
    renderToRgba(frame, info, { windowCenter: 0, windowWidth: 1, invert: false }, out);
    // Below the first mapped value: first entry; above the last: last entry.
    assert.deepEqual(
      Array.from(out),
      [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 0, 0, 255, 255],
    );
  });

  it('shows 8-bit RGB unchanged at the full-range window', () => {
    const frame: DecodedFrame = {
      columns: 2,
      rows: 1,
      samplesPerPixel: 3,
      pixels: Uint8Array.from([255, 0, 0, 10, 20, 30]),
      photometricInterpretation: 'RGB',
      min: 10,
      max: 255,
      bitsStored: 8,
      signed: false,
      decoder: 'test',
    };
    const info = grayInfo({
      samplesPerPixel: 3,
      photometricInterpretation: 'RGB',
      bitsAllocated: 8,
      bitsStored: 8,
      highBit: 7,
      pixelRepresentation: 0,
    });
    const window = initialWindow(info, frame);
    const out = new Uint8ClampedArray(8);
    renderToRgba(
      frame,
      info,
      { windowCenter: window.center, windowWidth: window.width, invert: false },
      out,
    );
    assert.deepEqual(Array.from(out), [255, 0, 0, 255, 10, 20, 30, 255]);
  });
});

describe('MONOCHROME1 from a real MR (PS3.3 C.7.6.3.1.2)', () => {
  it('the derived MONOCHROME1 file displays like the MONOCHROME2 original with their header windows', async () => {
    const catalog = await ensureSampleFiles();
    const deps = nodeDecoderDeps();
    const render = async (path: string) => {
      const dataSet = readDataSet(await readFile(path));
      const info = imageInfoFromDataSet(dataSet);
      const frame = await decodeFrame(
        fileFrame(dataSet, info, 1),
        info,
        {
          path: 'stored',
          mediaType: 'application/octet-stream',
          transferSyntaxUid: info.transferSyntaxUid,
        },
        deps,
      );
      const window = initialWindow(info, frame);
      const out = new Uint8ClampedArray(frame.rows * frame.columns * 4);
      renderToRgba(
        frame,
        info,
        { windowCenter: window.center, windowWidth: window.width, invert: false },
        out,
      );
      return { info, out };
    };
    const original = await render(catalog.files.mrSmall.path);
    const mono1 = await render(catalog.files.monochrome1.path);
    assert.equal(original.info.photometricInterpretation, 'MONOCHROME2');
    assert.equal(mono1.info.photometricInterpretation, 'MONOCHROME1');
    let maxDiff = 0;
    for (let i = 0; i < original.out.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(original.out[i] - mono1.out[i]));
    // The mirrored window lands the LINEAR function's −0.5 on the other side: ±1 grey level.
    assert.ok(maxDiff <= 1, `max grey difference ${maxDiff}`);
  });
});
