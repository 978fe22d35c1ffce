/**
 * The local server's rendered-image pieces on bytes: the PNG encoder (read back by the UI
 * tests' own PNG reader, CRCs checked against node:zlib's), the viewport fit and box-filter
 * scaling, and the JPEG encoder's buffer bound (every size from 1×1 up encodes and decodes
 * back, grey and colour, at quality 100 on noise: the worst case for the package's buffer).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { crc32 } from '../../src/imaging/png';
import { encodePng } from '../../src/server/png';
import { fitInto, scaleImage } from '../../src/server/renderFrame';
import { encodeJpeg, encoderInput, jpegBufferBound } from '../../src/server/rendered';
import { decodePng } from '../ui/helpers/png';
import { loadNodeCodec } from '../support/nodeCodecs';
import { rng as seededRandom } from '../support/random';

describe('server/png', () => {
  it('writes grey and RGB images that a PNG reader gets back exactly, with valid CRCs', () => {
    const random = seededRandom(7);
    for (const [width, height, channels] of [
      [1, 1, 1],
      [3, 5, 3],
      [64, 17, 1],
      [31, 40, 3],
    ] as const) {
      const data = Uint8Array.from({ length: width * height * channels }, () =>
        Math.floor(random() * 256),
      );
      const png = encodePng({ width, height, channels, data });
      const image = decodePng(png);
      assert.deepEqual(
        [image.width, image.height, image.colorType],
        [width, height, channels === 1 ? 0 : 2],
      );
      for (let i = 0; i < width * height; i++)
        for (let c = 0; c < 3; c++)
          assert.equal(image.data[i * 4 + c], data[i * channels + (channels === 1 ? 0 : c)]);
      // Every chunk's CRC (PNG §5.3) as zlib computes it, where Node has zlib.crc32.
      for (let at = 8; at < png.length;) {
        const length = png.readUInt32BE(at);
        const body = png.subarray(at + 4, at + 8 + length);
        const ours = crc32(body);
        assert.equal(png.readUInt32BE(at + 8 + length), ours);
        const zlibCrc = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
        if (zlibCrc) assert.equal(zlibCrc(body), ours);
        at += 12 + length;
      }
    }
  });
});

describe('server/renderFrame: viewport', () => {
  it('fits inside the box with the aspect kept, at least 1×1', () => {
    assert.deepEqual(fitInto(512, 512, { width: 128, height: 64 }), { width: 64, height: 64 });
    assert.deepEqual(fitInto(100, 50, { width: 300, height: 300 }), { width: 300, height: 150 });
    assert.deepEqual(fitInto(4000, 1, { width: 10, height: 10 }), { width: 10, height: 1 });
  });

  it('averages the source pixels each output pixel covers, and enlarges by nearest pixel', () => {
    const image = {
      width: 4,
      height: 2,
      channels: 1 as const,
      data: Uint8Array.of(0, 10, 20, 30, 40, 50, 60, 70),
    };
    assert.deepEqual([...scaleImage(image, 2, 1).data], [25, 45]);
    assert.deepEqual(
      [...scaleImage(image, 8, 4).data.subarray(0, 8)],
      [0, 0, 10, 10, 20, 20, 30, 30],
    );
    assert.equal(scaleImage(image, 4, 2), image, 'same size: the image itself');
  });
});

describe('server/rendered: the JPEG encoder never outgrows its buffer', () => {
  it('declares a buffer of at least libjpeg-turbo’s worst case for every size', () => {
    for (const channels of [1, 3] as const) {
      for (const [width, height] of [
        [1, 1],
        [2, 3],
        [7, 7],
        [16, 16],
        [17, 5],
        [512, 512],
        [4096, 4096],
      ]) {
        const input = encoderInput({
          width,
          height,
          channels,
          data: new Uint8Array(width * height * channels),
        });
        const capacity = width * height * input.componentCount * (input.bitsPerSample / 8);
        assert.ok(
          capacity >= jpegBufferBound(width, height, channels),
          `${width}×${height}×${channels}`,
        );
        assert.ok(
          input.componentCount <= 255 && input.bitsPerSample <= 248,
          'fits FrameInfo bytes',
        );
      }
    }
  });

  it('encodes noise at quality 100 at every small size, and it decodes back to the same size', async () => {
    const random = seededRandom(11);
    const decoderModule = await loadNodeCodec('libjpeg-turbo');
    for (const channels of [1, 3] as const) {
      for (let size = 1; size <= 40; size += 3) {
        const data = Uint8Array.from({ length: size * size * channels }, () =>
          Math.floor(random() * 256),
        );
        const jpeg = await encodeJpeg({ width: size, height: size, channels, data }, 100);
        const decoder = new decoderModule.JPEGDecoder!();
        try {
          decoder.getEncodedBuffer(jpeg.length).set(jpeg);
          decoder.decode();
          const info = decoder.getFrameInfo();
          assert.deepEqual([info.width, info.height], [size, size]);
        } finally {
          decoder.delete();
        }
      }
    }
  });
});
