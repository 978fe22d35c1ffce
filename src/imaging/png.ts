/**
 * PNG, the one encoder of the project (ISO/IEC 15948, W3C PNG 2nd ed.; first RFC 2083):
 * 8-bit greyscale, truecolour or truecolour with alpha, no interlace. A signature, then chunks
 * of length, type, data and CRC-32: IHDR says the geometry, IDAT holds the zlib stream of the
 * filtered scanlines, IEND closes it. The zlib stream is the caller's (node:zlib in the local
 * server's `/rendered` and the extension host's thumbnails, on the thread pool or not), so
 * this file stays free of Node like the rest of src/imaging.
 */

/** PNG signature (PNG §5.2). */
const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** Colour types of IHDR (PNG §11.2.2): 0 greyscale, 2 truecolour, 6 truecolour with alpha. */
const COLOR_TYPE = { 1: 0, 3: 2, 4: 6 } as const;

const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of PNG §5.5 (ISO 3309, polynomial 0xEDB88320, reflected) of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An 8-bit image, samples interleaved: 1 (grey), 3 (RGB) or 4 (RGBA) a pixel, rows top down. */
export interface Image8 {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** Whether `bytes` start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * IHDR and the filtered scanlines (what the caller deflates into IDAT). Every scanline but
 * the first gets filter type 2 "Up" (PNG §9.2): one subtraction a byte, and smooth medical
 * images shrink well; the first gets 0 "None" ("Up" would subtract an implied zero row).
 */
export function pngScanlines(image: Image8): { header: Uint8Array; filtered: Uint8Array } {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new RangeError(`PNG: ${width}×${height} is not an image size`);
  const stride = width * channels;
  if (data.length < stride * height)
    throw new RangeError(`PNG: ${data.length} bytes for a ${width}×${height}×${channels} image`);
  const filtered = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1);
    const source = y * stride;
    if (y === 0) {
      filtered.set(data.subarray(source, source + stride), row + 1);
      continue;
    }
    filtered[row] = 2;
    for (let x = 0; x < stride; x++)
      filtered[row + 1 + x] = (data[source + x]! - data[source - stride + x]!) & 0xff;
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = COLOR_TYPE[channels];
  // compression 0 (deflate), filter method 0, interlace 0: already zero.
  return { header, filtered };
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  // The CRC covers the type and the data, not the length (PNG §5.3).
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/** The PNG file from IHDR and the zlib stream (RFC 1950) of {@link pngScanlines}' bytes. */
export function assemblePng(header: Uint8Array, zlibStream: Uint8Array): Uint8Array {
  const parts = [
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', zlibStream),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
