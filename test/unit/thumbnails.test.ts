/**
 * The thumbnails' parts that need no server (src/thumbnails/): the per-connection cache
 * and its two limits, the limiter that keeps at most a few requests in flight and drops
 * what was cancelled while waiting, the PNG writer and the shrink, and the thumbnail
 * pipeline with its default, plain-JavaScript decoders on real sample files (a JPEG
 * baseline frame says it needs WebAssembly; the thumbnail thread, with every codec, is
 * tested in thumbnailThread.test.ts).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { readDataSet } from '../../src/dicom/part10';
import { fileFrame } from '../../src/imaging/header/fileFrames';
import { imageInfoFromDataSet } from '../../src/imaging/header/imageInfo';
import { decodeFrame } from '../../src/imaging/decode/decodeFrame';
import { DecodeError } from '../../src/imaging/decode/types';
import { initialWindow, renderToRgba } from '../../src/imaging/render/pipeline';
import { LruCache } from '../../src/thumbnails/cache';
import { MAX_HOST_DECODE_PIXELS, thumbnailPng } from '../../src/thumbnails/hostDecode';
import { LimiterFullError, MAX_IN_FLIGHT, RequestLimiter } from '../../src/thumbnails/limiter';
import { crc32 } from '../../src/imaging/png';
import { encodePng, isPng } from '../../src/thumbnails/png';
import { fitWithin, shrinkRgba } from '../../src/thumbnails/scale';
import { nodeDecoderDeps } from '../support/nodeCodecs';
import { ensureSampleFiles, type SampleCatalog, type SampleName } from '../support/sampleFiles';

/** Reads a PNG this writer made (8-bit, filter 0): size, channels and the pixel bytes. */
function readPng(png: Uint8Array): {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
} {
  assert.ok(isPng(png), 'PNG signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  while (offset < png.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    const data = png.subarray(offset + 8, offset + 8 + length);
    assert.equal(
      view.getUint32(offset + 8 + length),
      crc32(png, offset + 4, offset + 8 + length),
      `${type} CRC`,
    );
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      assert.equal(data[8], 8, 'bit depth');
      channels = data[9] === 6 ? 4 : data[9] === 0 ? 1 : 0;
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    // The encoder writes filter 0 (None) on the first row and 2 (Up) on the others (PNG §9.2).
    const filter = raw[y * (stride + 1)];
    assert.equal(filter, y === 0 ? 0 : 2, `filter type of row ${y}`);
    for (let x = 0; x < stride; x++) {
      const byte = raw[y * (stride + 1) + 1 + x]!;
      pixels[y * stride + x] = filter === 2 ? (byte + pixels[(y - 1) * stride + x]!) & 0xff : byte;
    }
  }
  return { width, height, channels, pixels };
}

describe('thumbnail cache (bounded LRU)', () => {
  it('keeps at most maxEntries, dropping the least recently used', () => {
    const cache = new LruCache<Uint8Array>({ maxEntries: 3, maxBytes: 1_000 }, (v) => v.length);
    for (const key of ['a', 'b', 'c']) cache.set(key, new Uint8Array(10));
    assert.ok(cache.get('a'), 'a used: now the most recent');
    cache.set('d', new Uint8Array(10));
    assert.equal(cache.size, 3);
    assert.equal(cache.has('b'), false, 'b was the least recently used');
    assert.deepEqual(
      ['a', 'c', 'd'].map((k) => cache.has(k)),
      [true, true, true],
    );
  });

  it('keeps at most maxBytes, and refuses a value larger than the whole budget', () => {
    const cache = new LruCache<Uint8Array>({ maxEntries: 100, maxBytes: 100 }, (v) => v.length);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, new Uint8Array(30));
    assert.ok(cache.byteSize <= 100, `${cache.byteSize} bytes`);
    assert.equal(cache.size, 3);
    assert.deepEqual(
      [7, 8, 9].map((i) => cache.has(`k${i}`)),
      [true, true, true],
    );
    assert.equal(cache.set('huge', new Uint8Array(101)), false);
    assert.equal(cache.has('huge'), false);
    assert.equal(cache.size, 3, 'the refused value evicted nothing');
  });

  it('replacing a key counts its bytes once', () => {
    const cache = new LruCache<Uint8Array>({ maxEntries: 10, maxBytes: 100 }, (v) => v.length);
    cache.set('a', new Uint8Array(40));
    cache.set('a', new Uint8Array(50));
    assert.equal(cache.byteSize, 50);
    cache.delete('a');
    assert.equal(cache.byteSize, 0);
  });
});

/** A task that stays in flight until released; counts how many ran at once. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('thumbnail request limiter', () => {
  it(`never runs more than ${MAX_IN_FLIGHT} tasks at once, however many are asked`, async () => {
    const limiter = new RequestLimiter();
    let running = 0;
    let most = 0;
    const gates = Array.from({ length: 50 }, gate);
    const done = gates.map((g) =>
      limiter.run(async () => {
        running++;
        most = Math.max(most, running);
        await g.promise;
        running--;
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(limiter.inFlight, MAX_IN_FLIGHT, 'the limit is reached');
    assert.equal(limiter.queued, 50 - MAX_IN_FLIGHT);
    // Release in an order unlike the start order; new tasks keep arriving meanwhile.
    for (let i = gates.length - 1; i >= 0; i--) {
      gates[i].open();
      if (i % 10 === 0) done.push(limiter.run(async () => undefined));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(done);
    assert.equal(most, MAX_IN_FLIGHT);
    assert.equal(limiter.peak, MAX_IN_FLIGHT);
    assert.equal(limiter.inFlight, 0);
  });

  it('a task cancelled while it waits never starts, and frees its place in the queue', async () => {
    const limiter = new RequestLimiter(1);
    const first = gate();
    const running = limiter.run(() => first.promise);
    const controller = new AbortController();
    let started = false;
    const cancelled = limiter.run(async () => {
      started = true;
    }, controller.signal);
    assert.equal(limiter.queued, 1);
    controller.abort();
    await assert.rejects(cancelled, (error: Error) => error.name === 'AbortError');
    assert.equal(limiter.queued, 0);
    first.open();
    await running;
    assert.equal(started, false);
  });

  it('an already aborted signal is refused at once', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(new RequestLimiter().run(async () => 1, controller.signal));
  });

  it('refuses a task beyond maxWaiting with a clear error', async () => {
    const limiter = new RequestLimiter(1, 2);
    const first = gate();
    const tasks = [
      limiter.run(() => first.promise),
      limiter.run(async () => 1),
      limiter.run(async () => 2),
    ];
    await assert.rejects(
      limiter.run(async () => 3),
      LimiterFullError,
    );
    first.open();
    await Promise.all(tasks);
  });
});

describe('thumbnail PNG and shrink', () => {
  it('writes a PNG that decodes to the same RGBA and grayscale bytes', () => {
    const rgba = Uint8Array.from({ length: 7 * 5 * 4 }, (_, i) => (i * 37) & 0xff);
    const back = readPng(encodePng(rgba, 7, 5, 4));
    assert.deepEqual([back.width, back.height, back.channels], [7, 5, 4]);
    assert.deepEqual(back.pixels, rgba);
    const gray = Uint8Array.from({ length: 3 * 2 }, (_, i) => i * 40);
    assert.deepEqual(readPng(encodePng(gray, 3, 2, 1)).pixels, gray);
    assert.throws(() => encodePng(rgba, 0, 5, 4), RangeError);
    assert.throws(() => encodePng(rgba, 100, 100, 4), RangeError);
  });

  it('fits any size inside the square, keeping the aspect ratio and never enlarging', () => {
    assert.deepEqual(fitWithin(512, 256, 128), { width: 128, height: 64 });
    assert.deepEqual(fitWithin(100, 3000, 128), { width: 4, height: 128 });
    assert.deepEqual(fitWithin(64, 32, 128), { width: 64, height: 32 });
    assert.deepEqual(fitWithin(10_000, 1, 128), { width: 128, height: 1 });
  });

  it('each shrunk pixel is the mean of the pixels it covers', () => {
    // 4×2 → 2×1: left half 0 and 100, right half 200 and 250.
    const rgba = new Uint8Array(4 * 2 * 4);
    const values = [0, 100, 200, 250, 100, 0, 250, 200];
    values.forEach((v, i) => rgba.fill(v, i * 4, i * 4 + 4));
    const small = shrinkRgba({ width: 4, height: 2, rgba }, 2);
    assert.deepEqual([small.width, small.height], [2, 1]);
    assert.deepEqual([...small.rgba], [50, 50, 50, 50, 225, 225, 225, 225]);
  });
});

describe('thumbnails decoded with the plain-JavaScript decoders (no WebAssembly)', () => {
  let catalog: SampleCatalog;
  before(async () => {
    catalog = await ensureSampleFiles();
  });

  async function hostThumbnail(name: SampleName, size = 128) {
    const dataSet = readDataSet(await readFile(catalog.files[name].path));
    const info = imageInfoFromDataSet(dataSet);
    const bytes = fileFrame(dataSet, info, 1);
    const encoding = {
      path: 'stored' as const,
      mediaType: 'application/octet-stream',
      transferSyntaxUid: info.transferSyntaxUid,
    };
    return { info, bytes, encoding, png: () => thumbnailPng(bytes, info, encoding, size) };
  }

  it('draws native, RLE and JPEG lossless frames as a PNG within the size', async () => {
    for (const name of [
      'ctSmall',
      'rleMr',
      'rle8BitRgb',
      'jpegLosslessRgb',
      'rtDoseMultiFrame',
    ] as SampleName[]) {
      const { info, png } = await hostThumbnail(name, 48);
      const image = readPng(await png());
      assert.ok(image.width <= 48 && image.height <= 48, `${name}: ${image.width}×${image.height}`);
      assert.equal(
        Math.max(image.width, image.height),
        Math.min(48, Math.max(info.rows, info.columns)),
        name,
      );
      const colours = new Set<number>();
      for (let i = 0; i < image.pixels.length; i += 4)
        colours.add((image.pixels[i] << 16) | (image.pixels[i + 1] << 8) | image.pixels[i + 2]);
      assert.ok(colours.size > 3, `${name}: an image, not a flat fill (${colours.size} colours)`);
    }
  });

  it("a frame that fits is the preview's own pixels: same decoders, same window", async () => {
    const { info, bytes, encoding, png } = await hostThumbnail('ctSmall');
    const preview = await decodeFrame(bytes, info, encoding, nodeDecoderDeps());
    const window = initialWindow(info, preview);
    const expected = new Uint8ClampedArray(preview.rows * preview.columns * 4);
    renderToRgba(
      preview,
      info,
      { windowCenter: window.center, windowWidth: window.width, invert: false },
      expected,
    );
    const image = readPng(await png());
    assert.deepEqual([image.width, image.height], [preview.columns, preview.rows]);
    assert.deepEqual(image.pixels, new Uint8Array(expected.buffer));
  });

  it('a syntax that needs a WebAssembly codec fails as "unsupported" (the caller asks transcoded)', async () => {
    for (const name of ['jpegBaselineRgb', 'jpegLsLossless', 'j2kLossless'] as SampleName[]) {
      const { png } = await hostThumbnail(name);
      await assert.rejects(
        png(),
        (error: unknown) =>
          error instanceof DecodeError &&
          error.unsupported &&
          /not loaded in this thread/.test(error.message),
        name,
      );
    }
  });

  it(`refuses frames over ${MAX_HOST_DECODE_PIXELS.toLocaleString('en-US')} pixels before decoding`, async () => {
    const { info, bytes, encoding } = await hostThumbnail('ctSmall');
    const huge = { ...info, rows: 4097, columns: 4096 };
    await assert.rejects(
      thumbnailPng(bytes, huge, encoding, 128),
      (error: unknown) =>
        error instanceof DecodeError && !error.unsupported && /4096×4097/.test(error.message),
    );
  });
});
