/**
 * `/rendered` and `/thumbnail` of the local server, black box over HTTP against real sample
 * files: for every sample with an image, the PNG answer (inflated here with node:zlib and
 * unfiltered per the PNG spec) equals, byte for byte, what the preview draws of the same
 * frame (the preview's header reader, frame slicer, decoder and display pipeline, called here
 * directly); the JPEG answer is within a stated tolerance of it; the parameters (quality,
 * viewport, window) and every error status are checked; the limits are hit.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalServer } from '../../src/server';
import { readDataSet } from '../../src/dicom/part10';
import { decodeFrame } from '../../src/imaging/decode/decodeFrame';
import { initialWindow, isColor, renderToRgba } from '../../src/imaging/render/pipeline';
import { fileFrame } from '../../src/imaging/header/fileFrames';
import { imageInfoFromDataSet } from '../../src/imaging/header/imageInfo';
import { MAX_VIEWPORT, THUMBNAIL_SIZE } from '../../src/server/rendered';
import { ensureSampleFiles, type SampleCatalog, type SampleFile } from '../support/sampleFiles';
import { loadNodeCodec, nodeDecoderDeps } from '../support/nodeCodecs';
import { makeImageInstance } from '../support/dicomWriter';
import { decodePng } from '../ui/helpers/png';
import { rawRequest, startTestServer, tempDir } from './helpers';

let catalog: SampleCatalog;
const servers: LocalServer[] = [];
before(async () => {
  catalog = await ensureSampleFiles();
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const deps = nodeDecoderDeps();

async function serve(files: string[], limits = {}): Promise<LocalServer> {
  const dir = tempDir('rendered');
  await Promise.all(files.map((file, i) => copyFile(file, join(dir, `${i}.dcm`))));
  const server = await startTestServer({ dir, limits });
  servers.push(server);
  return server;
}

function pathOf(file: string): string {
  const dataSet = readDataSet(readFileSync(file));
  const uid = (tag: string) => dataSet.string(tag)!.replace(/\0/g, '');
  return `/v2/studies/${uid('x0020000d')}/series/${uid('x0020000e')}/instances/${uid('x00080018')}`;
}

/** What the preview draws of frame `n` (RGBA): its reader, slicer, decoder and pipeline. */
async function previewPixels(
  file: string,
  n: number,
  view?: { center: number; width: number },
): Promise<{ width: number; height: number; color: boolean; rgba: Uint8Array }> {
  const dataSet = readDataSet(readFileSync(file));
  const info = imageInfoFromDataSet(dataSet);
  const frame = await decodeFrame(
    fileFrame(dataSet, info, n),
    info,
    {
      path: 'stored',
      mediaType: 'application/octet-stream',
      transferSyntaxUid: info.transferSyntaxUid,
    },
    deps,
  );
  const window = view ?? initialWindow(info, frame);
  const rgba = new Uint8ClampedArray(frame.rows * frame.columns * 4);
  const state = { windowCenter: window.center, windowWidth: window.width, invert: false };
  renderToRgba(frame, info, state, rgba);
  return {
    width: frame.columns,
    height: frame.rows,
    color: isColor(frame),
    rgba: new Uint8Array(rgba.buffer),
  };
}

/** The PNG answer equals the preview's RGBA exactly, grey as colour type 0, colour as 2. */
function assertSamePixels(
  png: Buffer,
  expected: Awaited<ReturnType<typeof previewPixels>>,
  what: string,
): void {
  const got = decodePng(png);
  assert.deepEqual([got.width, got.height], [expected.width, expected.height], what);
  assert.equal(got.colorType, expected.color ? 2 : 0, `${what}: colour type`);
  assert.ok(
    Buffer.from(got.data).equals(Buffer.from(expected.rgba)),
    `${what}: PNG differs from the preview`,
  );
}

/** Samples the preview can draw, and those it cannot (their answer must be a 406). */
async function splitSamples(): Promise<{ drawable: SampleFile[]; undrawable: SampleFile[] }> {
  const drawable: SampleFile[] = [];
  const undrawable: SampleFile[] = [];
  for (const sample of Object.values(catalog.files)) {
    if (!sample.rows) continue;
    try {
      await previewPixels(sample.path, 1);
      drawable.push(sample);
    } catch {
      undrawable.push(sample);
    }
  }
  return { drawable, undrawable };
}

/**
 * Mean absolute difference allowed between a quality-100 JPEG answer and the preview's pixels:
 * 3 levels of 255. Baseline JPEG at quality 100 still quantises (every table entry 1) and
 * rounds in the DCT and in YCbCr; measured here at most about 1.
 */
const JPEG_TOLERANCE = 3;

/** Mean absolute difference of a decoded JPEG (grey or RGB) from RGBA pixels. */
function meanError(decoded: { data: Uint8Array; channels: number }, rgba: Uint8Array): number {
  const pixels = rgba.length / 4;
  let sum = 0;
  for (let i = 0; i < pixels; i++)
    for (let c = 0; c < decoded.channels; c++)
      sum += Math.abs(decoded.data[i * decoded.channels + c]! - rgba[i * 4 + c]!);
  return sum / (pixels * decoded.channels);
}

async function jpegPixels(
  bytes: Buffer,
): Promise<{ width: number; height: number; data: Uint8Array; channels: number }> {
  const module = await loadNodeCodec('libjpeg-turbo');
  const decoder = new module.JPEGDecoder!();
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    decoder.decode();
    const info = decoder.getFrameInfo();
    return {
      width: info.width,
      height: info.height,
      channels: info.componentCount,
      data: decoder.getDecodedBuffer().slice(),
    };
  } finally {
    decoder.delete();
  }
}

describe('local server: /rendered equals the preview, every transfer syntax', () => {
  it('answers PNG equal to the preview pixel for pixel, JPEG within 3 levels on average, for each sample with an image', async () => {
    const { drawable, undrawable } = await splitSamples();
    assert.ok(drawable.length >= 15, `${drawable.length} drawable samples`);
    const syntaxes = new Set<string>();
    for (const sample of drawable) {
      const server = await serve([sample.path]);
      const path = pathOf(sample.path);
      const expected = await previewPixels(sample.path, 1);
      const png = await rawRequest(server, 'GET', `${path}/rendered`, { accept: 'image/png' });
      assert.equal(png.status, 200, `${sample.name}: ${png.text.slice(0, 200)}`);
      assert.equal(png.headers['content-type'], 'image/png');
      assertSamePixels(png.body, expected, sample.name);
      // JPEG (the default): quality 100 is lossy only by the DCT's rounding.
      const jpeg = await rawRequest(server, 'GET', `${path}/rendered`);
      assert.equal(jpeg.status, 200, sample.name);
      assert.equal(jpeg.headers['content-type'], 'image/jpeg');
      const decoded = await jpegPixels(jpeg.body);
      assert.deepEqual(
        [decoded.width, decoded.height, decoded.channels],
        [expected.width, expected.height, expected.color ? 3 : 1],
      );
      const error = meanError(decoded, expected.rgba);
      assert.ok(error <= JPEG_TOLERANCE, `${sample.name}: mean JPEG error ${error}`);
      syntaxes.add(sample.transferSyntaxUid);
    }
    // Native, RLE, JPEG baseline, JPEG lossless, JPEG-LS, JPEG 2000 at least.
    assert.ok(syntaxes.size >= 8, `${syntaxes.size} transfer syntaxes: ${[...syntaxes].join(' ')}`);
    for (const sample of undrawable) {
      const server = await serve([sample.path]);
      const response = await rawRequest(server, 'GET', `${pathOf(sample.path)}/rendered`);
      assert.equal(response.status, 406, `${sample.name}: ${response.text}`);
      assert.match(response.text, /could not be decoded|too large/);
    }
  });

  it('renders frame n of a multi-frame instance as the preview draws frame n, and frame 1 at instance level', async () => {
    const samples = Object.values(catalog.files).filter((s) => (s.frames ?? 1) > 1 && s.rows);
    assert.ok(samples.length >= 2);
    for (const sample of samples.slice(0, 3)) {
      const server = await serve([sample.path]);
      const path = pathOf(sample.path);
      const last = sample.frames!;
      for (const [url, n] of [
        [`${path}/rendered`, 1],
        [`${path}/frames/${last}/rendered`, last],
      ] as const) {
        const response = await rawRequest(server, 'GET', url, { accept: 'image/png' });
        assert.equal(response.status, 200, `${sample.name} ${url}: ${response.text.slice(0, 200)}`);
        assertSamePixels(response.body, await previewPixels(sample.path, n), `${sample.name} ${n}`);
      }
      const beyond = await rawRequest(server, 'GET', `${path}/frames/${last + 1}/rendered`);
      assert.equal(beyond.status, 400, beyond.text);
    }
  });
});

describe('local server: /rendered parameters', () => {
  it('window=center,width[,shape] draws with that window, as the preview does', async () => {
    const sample = catalog.files.ctSmall;
    const server = await serve([sample.path]);
    const response = await rawRequest(
      server,
      'GET',
      `${pathOf(sample.path)}/rendered?window=40,400,linear`,
      {
        accept: 'image/png',
      },
    );
    assert.equal(response.status, 200, response.text);
    const expected = await previewPixels(sample.path, 1, { center: 40, width: 400 });
    assertSamePixels(response.body, expected, 'window=40,400');
    const header = await previewPixels(sample.path, 1);
    assert.ok(
      !Buffer.from(expected.rgba).equals(Buffer.from(header.rgba)),
      'the window changed the picture',
    );
  });

  it('viewport=vw,vh scales to fit with the aspect kept; /thumbnail fits 128×128 by default', async () => {
    const sample = catalog.files.ctSmall; // 128 × 128
    const server = await serve([sample.path]);
    const path = pathOf(sample.path);
    const wide = decodePng(
      (await rawRequest(server, 'GET', `${path}/rendered?viewport=64,20`, { accept: 'image/png' }))
        .body,
    );
    assert.deepEqual([wide.width, wide.height], [20, 20]);
    const bigger = decodePng(
      (
        await rawRequest(server, 'GET', `${path}/rendered?viewport=300,256`, {
          accept: 'image/png',
        })
      ).body,
    );
    assert.deepEqual([bigger.width, bigger.height], [256, 256]);
    const rgb = catalog.files.jpegBaselineRgb;
    const rgbServer = await serve([rgb.path]);
    const thumb = await rawRequest(rgbServer, 'GET', `${pathOf(rgb.path)}/thumbnail`, {
      accept: 'image/png',
    });
    assert.equal(thumb.status, 200, thumb.text);
    const image = decodePng(thumb.body);
    assert.ok(
      Math.max(image.width, image.height) === THUMBNAIL_SIZE,
      `${image.width}×${image.height}`,
    );
    assert.equal(image.colorType, 2, 'RGB');
  });

  it('quality changes the JPEG: quality=5 is smaller than the default 100', async () => {
    const sample = catalog.files.ctSmall;
    const server = await serve([sample.path]);
    const path = pathOf(sample.path);
    const best = await rawRequest(server, 'GET', `${path}/rendered`, { accept: 'image/jpeg' });
    const worst = await rawRequest(server, 'GET', `${path}/rendered?quality=5`, {
      accept: 'image/jpeg',
    });
    assert.equal(worst.status, 200);
    assert.ok(
      worst.body.length < best.body.length / 2,
      `${worst.body.length} vs ${best.body.length}`,
    );
  });

  it('series and study /thumbnail render a representative instance, skipping one without an image', async () => {
    const sr = catalog.files.structuredReport;
    const image = catalog.files.ctSmall;
    const server = await serve([image.path]);
    const [, , , study, , series] = pathOf(image.path).split('/');
    for (const url of [
      `/v2/studies/${study}/thumbnail`,
      `/v2/studies/${study}/series/${series}/thumbnail`,
    ]) {
      const response = await rawRequest(server, 'GET', url, { accept: 'image/png' });
      assert.equal(response.status, 200, `${url}: ${response.text}`);
      assert.equal(decodePng(response.body).width, THUMBNAIL_SIZE);
    }
    const srServer = await serve([sr.path]);
    const [, , , srStudy] = pathOf(sr.path).split('/');
    const none = await rawRequest(srServer, 'GET', `/v2/studies/${srStudy}/thumbnail`);
    assert.equal(none.status, 404, none.text);
  });
});

describe('local server: /rendered in a data partition', () => {
  it('renders an instance stored in a partition at its partition URL, and not in another', async () => {
    const sample = catalog.files.ctSmall;
    const server = await startTestServer({ dir: tempDir('rendered-partitions'), partitions: true });
    servers.push(server);
    for (const [name, file] of [
      ['site-a', sample.path],
      ['site-b', catalog.files.mrSmall.path],
    ]) {
      const stored = await rawRequest(
        server,
        'POST',
        `/v2/partitions/${name}/studies`,
        { 'content-type': 'application/dicom', accept: 'application/dicom+json' },
        readFileSync(file!),
      );
      assert.equal(stored.status, 200, stored.text);
    }
    const path = pathOf(sample.path).replace(/^\/v2/, '');
    const here = await rawRequest(server, 'GET', `/v2/partitions/site-a${path}/rendered`, {
      accept: 'image/png',
    });
    assert.equal(here.status, 200, here.text);
    assertSamePixels(here.body, await previewPixels(sample.path, 1), 'in site-a');
    const elsewhere = await rawRequest(server, 'GET', `/v2/partitions/site-b${path}/thumbnail`);
    assert.equal(elsewhere.status, 404, elsewhere.text);
  });
});

describe('local server: /rendered errors and limits', () => {
  it('answers 400 for bad parameters, 406 for an Accept it cannot render, 404 for what is not there', async () => {
    const sample = catalog.files.ctSmall;
    const server = await serve([sample.path]);
    const path = pathOf(sample.path);
    for (const query of [
      'quality=0',
      'quality=101',
      'quality=high',
      'viewport=0,10',
      `viewport=${MAX_VIEWPORT + 1},10`,
      'viewport=10,10,0,0,5,5',
      'viewport=10',
      'window=40',
      'window=40,0',
      'window=40,400,cubic',
      'window=a,b',
    ]) {
      const response = await rawRequest(server, 'GET', `${path}/rendered?${query}`);
      assert.equal(response.status, 400, `${query}: ${response.text}`);
      assert.match(response.text, /quality|viewport|window/);
    }
    for (const frames of ['0', '1,2', 'x']) {
      const response = await rawRequest(server, 'GET', `${path}/frames/${frames}/rendered`);
      assert.equal(response.status, 400, `frames/${frames}`);
    }
    const dicom = await rawRequest(server, 'GET', `${path}/rendered`, {
      accept: 'application/dicom',
    });
    assert.equal(dicom.status, 406);
    assert.match(dicom.text, /image\/jpeg/);
    const gif = await rawRequest(server, 'GET', `${path}/thumbnail`, { accept: 'image/gif' });
    assert.equal(gif.status, 406);
    const missing = await rawRequest(server, 'GET', `${path.replace(/\d+$/, '9')}/rendered`);
    assert.equal(missing.status, 404);
    const post = await rawRequest(server, 'POST', `${path}/rendered`);
    assert.equal(post.status, 405);
    // PS3.18 §8.3.5.1: unknown parameters are ignored.
    const unknown = await rawRequest(server, 'GET', `${path}/rendered?annotation=patient&foo=1`);
    assert.equal(unknown.status, 200);
  });

  it('answers 404 for an instance without pixel data (Azure: "didn\'t contain pixel data")', async () => {
    const sr = catalog.files.structuredReport;
    const server = await serve([sr.path]);
    const response = await rawRequest(server, 'GET', `${pathOf(sr.path)}/rendered`);
    assert.equal(response.status, 404, response.text);
    assert.match(response.text, /no image|Pixel Data/i);
  });

  it('refuses a header over the pixel budget and a file over the size limit with 406, allocating nothing', async () => {
    const dir = tempDir('rendered-budget');
    // Declares 65535 × 65535 × 3 samples (over 2^28 a frame) and holds 12 bytes of pixels.
    const huge = makeImageInstance({
      studyUid: '1.2.3.4.1',
      seriesUid: '1.2.3.4.2',
      sopInstanceUid: '1.2.3.4.3',
      patientName: 'Budget^Test',
      patientId: 'B1',
      studyDate: '20260101',
      modality: 'OT',
      rows: 2,
      columns: 2,
      samplesPerPixel: 3,
      photometric: 'RGB',
      bitsAllocated: 8,
      pixelData: new Uint8Array(12),
      extraElements: [
        { tag: 0x00280010, vr: 'US', value: 65535 },
        { tag: 0x00280011, vr: 'US', value: 65535 },
      ],
      instanceNumber: 1,
      seriesNumber: 1,
      studyDescription: 'budget',
      seriesDescription: 'budget',
      accessionNumber: 'A1',
    });
    writeFileSync(join(dir, 'huge.dcm'), huge);
    const server = await startTestServer({ dir });
    servers.push(server);
    const response = await rawRequest(
      server,
      'GET',
      '/v2/studies/1.2.3.4.1/series/1.2.3.4.2/instances/1.2.3.4.3/rendered',
    );
    assert.equal(response.status, 406, response.text);
    assert.match(response.text, /too large/);
    const sample = catalog.files.ctSmall;
    const small = await serve([sample.path], { maxTranscodeBytes: 1000 });
    const tooBig = await rawRequest(small, 'GET', `${pathOf(sample.path)}/rendered`);
    assert.equal(tooBig.status, 406, tooBig.text);
    assert.match(tooBig.text, /up to 1000 bytes/);
  });
});
