/**
 * Issue 10, finding 5 (preview): a 652-byte local file declaring a 1-bit 65535×65535 image
 * blocked the extension host for 31 s while it built a 512 MB frame. The header is now
 * checked against the pixel budget and the bytes present before anything is allocated,
 * in the extension (imageInfo / fileFrames / FileFrameSource) and in the webview decoders.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readDataSet } from '../../src/dicom/part10';
import { fileFrame } from '../../src/imaging/header/fileFrames';
import { FileFrameSource } from '../../src/preview/frameSource';
import { imageInfoFromDataSet, imageInfoFromJson } from '../../src/imaging/header/imageInfo';
import { nodeDecoderDeps } from '../support/nodeCodecs';
import type { ImageInfo } from '../../webview/protocol';
import {
  checkNativeLength,
  checkPixelBudget,
  MAX_FRAME_BYTES,
  MAX_FRAME_SAMPLES,
  PixelBudgetError,
} from '../../src/imaging/decode/budget';
import { decodeFrame } from '../../src/imaging/decode/decodeFrame';
import { DecodeError } from '../../src/imaging/decode/types';
import { writePart10, type WriterElement } from '../support/dicomWriter';

/** A Secondary Capture header with the given geometry and `pixelBytes` bytes of Pixel Data. */
function hostileFile(
  rows: number,
  columns: number,
  bitsAllocated: number,
  pixelBytes: number,
  frames?: number,
): Uint8Array {
  const elements: WriterElement[] = [
    { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
    { tag: 0x00080018, vr: 'UI', value: '2.25.1065535' },
    { tag: 0x0020000d, vr: 'UI', value: '2.25.2065535' },
    { tag: 0x0020000e, vr: 'UI', value: '2.25.3065535' },
    { tag: 0x00280002, vr: 'US', value: 1 },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: rows },
    { tag: 0x00280011, vr: 'US', value: columns },
    { tag: 0x00280100, vr: 'US', value: bitsAllocated },
    { tag: 0x00280101, vr: 'US', value: bitsAllocated },
    { tag: 0x00280102, vr: 'US', value: bitsAllocated - 1 },
    { tag: 0x00280103, vr: 'US', value: 0 },
    { tag: 0x7fe00010, vr: 'OB', value: new Uint8Array(pixelBytes) },
  ];
  if (frames !== undefined) elements.push({ tag: 0x00280008, vr: 'IS', value: frames });
  return writePart10(elements.sort((a, b) => (a.tag as number) - (b.tag as number)));
}

function info(overrides: Partial<ImageInfo>): ImageInfo {
  return {
    rows: 4,
    columns: 4,
    samplesPerPixel: 1,
    bitsAllocated: 8,
    bitsStored: 8,
    highBit: 7,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    numberOfFrames: 1,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    windows: [],
    ...overrides,
  };
}

describe('preview pixel budget (issue 10, finding 5)', () => {
  it('refuses the small 1-bit 65535×65535 file when it is opened, in milliseconds and before any frame is built', async () => {
    const bytes = hostileFile(65535, 65535, 1, 142);
    assert.equal(bytes.length, 652, 'the very size of the file of the finding');
    const source = new FileFrameSource('hostile.dcm', async () => bytes);
    const started = performance.now();
    await assert.rejects(
      source.open(),
      (error: unknown) =>
        error instanceof PixelBudgetError && /too large to preview/.test(error.message),
    );
    // frame() reopens the header first: the same refusal, never a 512 MB frame.
    await assert.rejects(source.frame(1), PixelBudgetError);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 200, `refused in ${elapsed.toFixed(1)} ms`);
  });

  it('refuses a geometry inside the budget whose native Pixel Data is not in the file', () => {
    // 16384×16384 1-bit = 2^28 samples: exactly the budget, but needs 32 MiB, the file has 190
    // bytes.
    const dataSet = readDataSet(hostileFile(16384, 16384, 1, 190));
    assert.throws(
      () => imageInfoFromDataSet(dataSet),
      (error: unknown) =>
        error instanceof PixelBudgetError && /holds 190 bytes/.test(error.message),
    );
    // fileFrame checks too, whoever built the info (here by hand, skipping imageInfo).
    const handMade = info({
      rows: 16384,
      columns: 16384,
      bitsAllocated: 1,
      bitsStored: 1,
      highBit: 0,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
    });
    const started = performance.now();
    assert.throws(() => fileFrame(dataSet, handMade, 1), PixelBudgetError);
    assert.ok(performance.now() - started < 50);
  });

  it('refuses more frames than the Pixel Data holds', () => {
    const dataSet = readDataSet(hostileFile(8, 8, 8, 64, 1_000_000));
    assert.throws(
      () => imageInfoFromDataSet(dataSet),
      /declares 1000000 frames that need 64,000,000/,
    );
  });

  it('still opens an honest file, and its frame is its bytes', () => {
    const dataSet = readDataSet(hostileFile(8, 8, 8, 64, 1));
    const built = imageInfoFromDataSet(dataSet);
    assert.equal(fileFrame(dataSet, built, 1).length, 64);
    const bits = readDataSet(hostileFile(8, 8, 1, 8));
    assert.equal(fileFrame(bits, imageInfoFromDataSet(bits), 1).length, 8);
  });

  it('checks DICOMweb metadata the same way (the server is not trusted either)', async () => {
    const metadata = {
      '00280010': { vr: 'US', Value: [65535] },
      '00280011': { vr: 'US', Value: [65535] },
      '00280100': { vr: 'US', Value: [16] },
    };
    await assert.rejects(imageInfoFromJson(metadata), PixelBudgetError);
  });

  it('the limits: MAX_FRAME_SAMPLES is allowed, one more is not; MAX_FRAME_BYTES bounds deep pixels', () => {
    assert.doesNotThrow(() => checkPixelBudget(info({ rows: 16384, columns: 16384 })));
    assert.throws(() => checkPixelBudget(info({ rows: 16384, columns: 16385 })), PixelBudgetError);
    assert.equal(MAX_FRAME_SAMPLES, 2 ** 28);
    // 2^28 samples of 64 bits = 2 GiB > MAX_FRAME_BYTES.
    assert.throws(
      () => checkPixelBudget(info({ rows: 16384, columns: 16384, bitsAllocated: 64 })),
      (e: unknown) =>
        e instanceof PixelBudgetError &&
        e.message.includes(MAX_FRAME_BYTES.toLocaleString('en-US')),
    );
    for (const bad of [
      { rows: 0 },
      { columns: -1 },
      { samplesPerPixel: 9 },
      { bitsAllocated: 128 },
      { numberOfFrames: NaN },
      { rows: 1.5 },
    ]) {
      assert.throws(() => checkPixelBudget(info(bad)), PixelBudgetError, JSON.stringify(bad));
    }
    assert.doesNotThrow(() => checkNativeLength(8 * 64, 2, 128));
    assert.throws(() => checkNativeLength(8 * 64, 2, 127), PixelBudgetError);
  });

  it('the webview decoders refuse an over-budget header before allocating (native and RLE)', async () => {
    const deps = nodeDecoderDeps();
    const huge = info({
      rows: 65535,
      columns: 65535,
      bitsAllocated: 16,
      bitsStored: 16,
      highBit: 15,
    });
    for (const [mediaType, transferSyntaxUid] of [
      ['application/octet-stream', '1.2.840.10008.1.2.1'],
      ['image/dicom-rle', '1.2.840.10008.1.2.5'],
    ]) {
      const started = performance.now();
      await assert.rejects(
        decodeFrame(
          new Uint8Array(652),
          huge,
          { path: 'stored', mediaType, transferSyntaxUid },
          deps,
        ),
        (e: unknown) => e instanceof DecodeError && /too large to preview/.test(e.message),
      );
      assert.ok(performance.now() - started < 50, mediaType);
    }
  });
});
