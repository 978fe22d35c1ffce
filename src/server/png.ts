/**
 * A small PNG encoder for `/rendered` and `/thumbnail` (PS3.18 §8.7.4: image/png is a
 * required rendered media type): 8-bit grayscale or truecolour, no interlace, written on
 * node:zlib. PNG is ISO/IEC 15948 (W3C PNG, 2nd ed.; first RFC 2083): a signature, then
 * chunks of length, type, data and CRC-32; IHDR says the geometry, IDAT holds the zlib
 * stream of the filtered scanlines, IEND closes it. Nothing here needs a package.
 */
import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';

const deflateAsync = promisify(deflate);

/** PNG signature (PNG §5.2). */
const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** Colour types of IHDR (PNG §11.2.2): 0 greyscale, 2 truecolour. */
const COLOR_TYPE = { 1: 0, 3: 2 } as const;

let crcTable: Uint32Array | undefined;

/** CRC-32 of PNG §5.5 (ISO 3309, polynomial 0xEDB88320, reflected). */
export function crc32(bytes: Uint8Array, start = 0xffffffff): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = start;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  // The CRC covers the type and the data, not the length (PNG §5.3).
  out.writeUInt32BE((crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}

/** An 8-bit image, samples interleaved: 1 (grey) or 3 (RGB) a pixel. */
export interface Image8 {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** IHDR and the filtered scanlines (what is deflated into IDAT) of an image. */
function prepare(image: Image8): { header: Buffer; filtered: Buffer } {
  const { width, height, channels, data } = image;
  const stride = width * channels;
  if (data.length < stride * height)
    throw new Error(`PNG: ${data.length} bytes for a ${width}×${height}×${channels} image`);
  const filtered = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1);
    const source = y * stride;
    if (y === 0) {
      // Filter 0 "None" for the first row: "Up" would subtract an implied zero row anyway.
      filtered.set(data.subarray(source, source + stride), row + 1);
      continue;
    }
    filtered[row] = 2;
    for (let x = 0; x < stride; x++)
      filtered[row + 1 + x] = (data[source + x]! - data[source - stride + x]!) & 0xff;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = COLOR_TYPE[channels];
  // compression 0 (deflate), filter method 0, interlace 0: already zero.
  return { header, filtered };
}

function assemble(header: Buffer, compressed: Uint8Array): Buffer {
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', compressed),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * Encodes an 8-bit grey or RGB image. Every scanline but the first gets filter type 2 "Up"
 * (PNG §9.2), which costs one subtraction a byte and shrinks smooth medical images well;
 * zlib level 6.
 */
export function encodePng(image: Image8): Buffer {
  const { header, filtered } = prepare(image);
  return assemble(header, deflateSync(filtered, { level: 6 }));
}

/** {@link encodePng} with the deflate on libuv's thread pool: the server's loop stays free. */
export async function encodePngAsync(image: Image8): Promise<Buffer> {
  const { header, filtered } = prepare(image);
  return assemble(header, await deflateAsync(filtered, { level: 6 }));
}
