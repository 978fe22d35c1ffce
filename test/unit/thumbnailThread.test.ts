/**
 * The thumbnail thread (src/thumbnails/decodeWorker.ts with decodeWorkerMain.ts, compiled,
 * in a real worker thread): every transfer syntax of the real sample files drawn there is
 * the same PNG as the same pipeline in this thread, every WebAssembly codec included; the
 * queue's bounds, the timeout, a thread that dies, the idle stop and the moved buffers.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readDataSet } from '../../src/dicom/part10';
import { TransferSyntax } from '../../src/dicom/uids';
import { fileFrame } from '../../src/imaging/header/fileFrames';
import { imageInfoFromDataSet } from '../../src/imaging/header/imageInfo';
import { DecodeError } from '../../src/imaging/decode/types';
import type { ImageInfo } from '../../src/imaging/types';
import { ThumbnailThread } from '../../src/thumbnails/decodeWorker';
import { MAX_HOST_DECODE_PIXELS, thumbnailPng } from '../../src/thumbnails/hostDecode';
import { isPng } from '../../src/thumbnails/png';
import { CRASH_SIZE, HANG_SIZE } from '../support/decodeWorkerTrap';
import { encodeHtj2k, nodeDecoderDeps } from '../support/nodeCodecs';
import { ensureSampleFiles, type SampleCatalog, type SampleName } from '../support/sampleFiles';

const SCRIPT = join(__dirname, '..', '..', 'src', 'thumbnails', 'decodeWorkerMain.js');
const TRAP = join(__dirname, '..', 'support', 'decodeWorkerTrap.js');

const NATIVE: SampleName[] = [
  'mrSmall',
  'mrSmallImplicit',
  'mrSmallBigEndian',
  'rgbBigEndian',
  'ctSmall',
  'ybrFull422Uncompressed',
  'rtDoseMultiFrame',
  'monochrome1',
  'rleMr',
  'rle8BitRgb',
  'rle16BitRgb',
  'jpegLosslessRgb',
];
const WASM: SampleName[] = [
  'jpegBaselineRgb',
  'jpegBaselineYbrFull',
  'jpegBaselineYbrFull422',
  'jpegLsLossless',
  'daikonJpegLsNearLossless',
  'j2kLossless',
  'j2kLossy',
  'j2kRgb',
  'daikonJ2k',
];

interface Sample {
  info: ImageInfo;
  bytes: Uint8Array;
  encoding: { path: 'stored'; mediaType: string; transferSyntaxUid: string };
}

function stored(info: ImageInfo, bytes: Uint8Array, transferSyntaxUid: string): Sample {
  return {
    info,
    bytes,
    encoding: { path: 'stored', mediaType: 'application/octet-stream', transferSyntaxUid },
  };
}

/** A copy with its own buffer (a Buffer's `slice` is a view of the same memory). */
const copy = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

/** IHDR's width and height (PNG §11.2.2). */
function pngSize(png: Uint8Array): [number, number] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return [view.getUint32(16), view.getUint32(20)];
}

describe('the thumbnail thread', () => {
  let catalog: SampleCatalog;
  before(async () => {
    catalog = await ensureSampleFiles();
  });

  async function sample(name: SampleName): Promise<Sample> {
    const dataSet = readDataSet(await readFile(catalog.files[name].path));
    const info = imageInfoFromDataSet(dataSet);
    return stored(info, fileFrame(dataSet, info, 1), info.transferSyntaxUid ?? '');
  }

  /** The thread's PNG equals this thread's, byte for byte, with the same codecs. */
  async function sameAsHere(thread: ThumbnailThread, label: string, s: Sample): Promise<void> {
    const here = await thumbnailPng(s.bytes, s.info, s.encoding, 64, nodeDecoderDeps());
    const there = await thread.decode(copy(s.bytes), s.info, s.encoding, 64);
    assert.ok(isPng(there), label);
    const [width, height] = pngSize(there);
    assert.ok(width <= 64 && height <= 64 && width * height > 0, `${label}: ${width}×${height}`);
    assert.deepEqual(there, here, `${label}: the thread drew other pixels`);
  }

  it('draws every native, RLE and JPEG lossless sample as this thread does', async () => {
    const thread = new ThumbnailThread({ script: SCRIPT });
    try {
      for (const name of NATIVE) await sameAsHere(thread, name, await sample(name));
      assert.equal(thread.started, 1, 'one thread for every frame');
    } finally {
      thread.dispose();
    }
  });

  it('decodes JPEG baseline, JPEG-LS, JPEG 2000 and HTJ2K with the WebAssembly codecs', async () => {
    const thread = new ThumbnailThread({ script: SCRIPT });
    try {
      for (const name of WASM) await sameAsHere(thread, name, await sample(name));
      // No HTJ2K file ships in the sample packages: MR_small encoded with OpenJPH's own
      // encoder (reversible, so lossless).
      const mr = await sample('mrSmall');
      const htj2k = await encodeHtj2k(mr.bytes, mr.info);
      const info = { ...mr.info, transferSyntaxUid: TransferSyntax.HTJ2KLossless };
      await sameAsHere(thread, 'HTJ2K', stored(info, htj2k, TransferSyntax.HTJ2KLossless));
    } finally {
      thread.dispose();
    }
  });
  it('answers a syntax no codec reads as "unsupported", so the caller asks it transcoded', async () => {
    const thread = new ThumbnailThread({ script: SCRIPT });
    try {
      const s = await sample('jpegExtended12Bit');
      await assert.rejects(
        thread.decode(s.bytes, s.info, s.encoding, 64),
        (error: unknown) => error instanceof DecodeError && error.unsupported,
      );
    } finally {
      thread.dispose();
    }
  });

  it(`refuses frames over ${MAX_HOST_DECODE_PIXELS.toLocaleString('en-US')} pixels without starting a thread`, async () => {
    const thread = new ThumbnailThread({ script: SCRIPT });
    const s = await sample('ctSmall');
    await assert.rejects(
      thread.decode(s.bytes, { ...s.info, rows: 4097, columns: 4096 }, s.encoding, 64),
      (error: unknown) =>
        error instanceof DecodeError && !error.unsupported && /4096×4097/.test(error.message),
    );
    assert.equal(thread.started, 0);
    thread.dispose();
  });

  it('keeps at most maxQueued frames waiting and refuses the next at once', async () => {
    const thread = new ThumbnailThread({ script: SCRIPT, maxQueued: 3 });
    try {
      const s = await sample('ctSmall');
      // The first goes to the thread; three wait; the fifth finds the queue full.
      const tasks = Array.from({ length: 5 }, () =>
        thread.decode(copy(s.bytes), s.info, s.encoding, 64),
      );
      const settled = await Promise.allSettled(tasks);
      assert.deepEqual(
        settled.map((outcome) => outcome.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
      );
      const refused = settled[4] as PromiseRejectedResult;
      assert.match(String(refused.reason), /3 thumbnails are already waiting/);
      assert.equal(thread.peakQueued, 3);
    } finally {
      thread.dispose();
    }
  });

  it('keeps at most maxQueuedBytes of frames waiting', async () => {
    const s = await sample('ctSmall');
    const thread = new ThumbnailThread({ script: SCRIPT, maxQueuedBytes: s.bytes.byteLength * 2 });
    try {
      const tasks = Array.from({ length: 4 }, () =>
        thread.decode(copy(s.bytes), s.info, s.encoding, 64),
      );
      const settled = await Promise.allSettled(tasks);
      assert.deepEqual(
        settled.map((outcome) => outcome.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
      );
      assert.match(String((settled[3] as PromiseRejectedResult).reason), /already hold/);
    } finally {
      thread.dispose();
    }
  });

  it('a thread that dies fails its frame with the reason; the next frame gets a fresh one', async () => {
    const thread = new ThumbnailThread({ script: TRAP });
    try {
      const s = await sample('ctSmall');
      await assert.rejects(
        thread.decode(copy(s.bytes), s.info, s.encoding, CRASH_SIZE),
        (error: unknown) => error instanceof DecodeError && /exit code 3/.test(error.message),
      );
      await sameAsHere(thread, 'after a crash', s);
      assert.equal(thread.started, 2);
    } finally {
      thread.dispose();
    }
  });

  it('a thread that hangs is stopped after the timeout; the frames behind it still come', async () => {
    const thread = new ThumbnailThread({ script: TRAP, timeoutMs: 1_000 });
    try {
      const s = await sample('ctSmall');
      const hung = thread.decode(copy(s.bytes), s.info, s.encoding, HANG_SIZE);
      const behind = thread.decode(copy(s.bytes), s.info, s.encoding, 64);
      await assert.rejects(hung, /took more than 1 s on this frame/);
      assert.ok(isPng(await behind));
      assert.equal(thread.started, 2);
    } finally {
      thread.dispose();
    }
  });

  it('stops when idle, starts again on need, and stops on dispose', async () => {
    const thread = new ThumbnailThread({ script: SCRIPT, idleStopMs: 100 });
    const s = await sample('ctSmall');
    await thread.decode(copy(s.bytes), s.info, s.encoding, 64);
    assert.equal(thread.running, true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(thread.running, false, 'stopped after 100 ms idle');
    const waiting = thread.decode(copy(s.bytes), s.info, s.encoding, 64);
    assert.equal(thread.running, true);
    thread.dispose();
    await assert.rejects(waiting, /stopped/);
    assert.equal(thread.running, false);
    assert.equal(thread.started, 2);
  });

  it('moves a whole-buffer frame to the thread (no copy) and copies a view of a larger one', async () => {
    const thread = new ThumbnailThread({ script: SCRIPT });
    try {
      const s = await sample('ctSmall');
      const own = copy(s.bytes);
      await thread.decode(own, s.info, s.encoding, 64);
      assert.equal(own.byteLength, 0, 'the buffer was transferred, not copied');
      const larger = new Uint8Array(s.bytes.byteLength + 16);
      larger.set(s.bytes, 16);
      const view = larger.subarray(16);
      await thread.decode(view, s.info, s.encoding, 64);
      assert.equal(larger.byteLength, s.bytes.byteLength + 16, 'the larger buffer stays here');
    } finally {
      thread.dispose();
    }
  });

  it('a frame cancelled while it waits is never sent', async () => {
    const thread = new ThumbnailThread({ script: SCRIPT });
    try {
      const s = await sample('ctSmall');
      const controller = new AbortController();
      const first = thread.decode(copy(s.bytes), s.info, s.encoding, 64);
      const second = thread.decode(copy(s.bytes), s.info, s.encoding, 64, controller.signal);
      controller.abort(new Error('scrolled away'));
      await assert.rejects(second, /scrolled away/);
      assert.ok(isPng(await first));
      assert.equal(thread.peakQueued, 1);
    } finally {
      thread.dispose();
    }
  });
});
