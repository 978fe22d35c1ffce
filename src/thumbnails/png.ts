/**
 * A thumbnail's PNG in the extension host, for tooltips of servers without `/rendered` (a
 * 128-pixel image: well under a millisecond): src/imaging/png.ts with node:zlib. No `vscode`.
 */
import { deflateSync } from 'node:zlib';
import { assemblePng, pngScanlines } from '../imaging/png';

export { isPng } from '../imaging/png';

/** `channels` 1 (grayscale) or 4 (RGBA), 8 bits each, rows top to bottom. */
export function encodePng(
  pixels: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: 1 | 4,
): Uint8Array {
  const data = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const { header, filtered } = pngScanlines({ width, height, channels, data });
  return assemblePng(header, deflateSync(filtered));
}
