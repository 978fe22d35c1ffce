/**
 * PNG for `/rendered` and `/thumbnail` (PS3.18 §8.7.4: image/png is a required rendered media
 * type): src/imaging/png.ts with node:zlib at level 6, the deflate on libuv's thread pool so
 * the server's loop stays free.
 */
import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';
import { assemblePng, pngScanlines, type Image8 } from '../imaging/png';

export type { Image8 } from '../imaging/png';

const deflateAsync = promisify(deflate);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Encodes an 8-bit image on this thread. */
export function encodePng(image: Image8): Buffer {
  const { header, filtered } = pngScanlines(image);
  return asBuffer(assemblePng(header, deflateSync(filtered, { level: 6 })));
}

/** {@link encodePng} with the deflate on the thread pool. */
export async function encodePngAsync(image: Image8): Promise<Buffer> {
  const { header, filtered } = pngScanlines(image);
  return asBuffer(assemblePng(header, await deflateAsync(filtered, { level: 6 })));
}
