/**
 * Native (uncompressed) Pixel Data: PS3.5 §8.1.1 (pixel cells, Bits Allocated / Stored /
 * High Bit), §8.2 / Annex A.1–A.3 (byte order), PS3.3 C.7.6.3.1.3 (Planar Configuration).
 */
import type { ImageInfo } from '../types';
import { DecodeError, lazyRange, type DecodedFrame, type PixelArray } from './types';
import { ybrFull422ToYbrFull, ybrFullToRgbInPlace } from './color';

/**
 * Bytes one native frame takes (PS3.5 §8.1.1; YBR_FULL_422 keeps 2 samples a pixel, C.7.6.3.1.2).
 */
export function nativeFrameLength(
  info: Pick<
    ImageInfo,
    'rows' | 'columns' | 'samplesPerPixel' | 'bitsAllocated' | 'photometricInterpretation'
  >,
): number {
  const pixels = info.rows * info.columns;
  if (info.bitsAllocated === 1) return Math.ceil((pixels * info.samplesPerPixel) / 8);
  const samples =
    info.photometricInterpretation === 'YBR_FULL_422' ? pixels * 2 : pixels * info.samplesPerPixel;
  return samples * (info.bitsAllocated / 8);
}

/**
 * Decodes one native frame into stored values.
 *
 * @param bytes the frame's bytes, exactly {@link nativeFrameLength} of them (more is tolerated)
 * @param bigEndian true for Explicit VR Big Endian (PS3.5 §A.3); DICOMweb frames are
 *   always little endian (PS3.18 §8.7.3.3.2)
 */
export function decodeNative(bytes: Uint8Array, info: ImageInfo, bigEndian = false): DecodedFrame {
  const { rows, columns, bitsAllocated } = info;
  const needed = nativeFrameLength(info);
  if (bytes.length < needed) {
    throw new DecodeError(
      `The frame has ${bytes.length} bytes; ${rows}×${columns} at ${bitsAllocated} bits needs ${needed}.`,
    );
  }
  const pixelCount = rows * columns;
  let samplesPerPixel = info.samplesPerPixel;
  let pixels: PixelArray;
  let photometric = info.photometricInterpretation;
  const signed = info.pixelRepresentation === 1;

  switch (bitsAllocated) {
    case 1: {
      // PS3.5 §8.1.1 / Annex D: bits packed, the first pixel in the least significant bit.
      const out = new Uint8Array(pixelCount * samplesPerPixel);
      for (let i = 0; i < out.length; i++) out[i] = (bytes[i >> 3] >> (i & 7)) & 1;
      pixels = out;
      break;
    }
    case 8: {
      // PS3.5 §A.3: in big endian, 8-bit samples in an OW element are swapped in pairs.
      let source = bytes.subarray(0, needed);
      if (bigEndian && info.pixelDataVr === 'OW') source = swap16(source);
      if (photometric === 'YBR_FULL_422') {
        // C.7.6.3.1.2: Y1 Y2 Cb Cr per pair of pixels; expand to three samples each.
        pixels = ybrFull422ToYbrFull(source, rows, columns);
      } else {
        pixels = signed ? new Int8Array(copyOf(source).buffer) : copyOf(source);
      }
      break;
    }
    case 16: {
      const count = needed / 2;
      const out = signed ? new Int16Array(count) : new Uint16Array(count);
      readWords(bytes, out, 2, bigEndian);
      pixels = out;
      break;
    }
    case 32: {
      const count = needed / 4;
      const out = signed ? new Int32Array(count) : new Uint32Array(count);
      readWords(bytes, out, 4, bigEndian);
      pixels = out;
      break;
    }
    default:
      throw new DecodeError(
        `Bits Allocated ${bitsAllocated} is not supported (PS3.5 §8.1.1 allows 1, 8, 16, 32, 64).`,
        true,
      );
  }

  if (bitsAllocated > 1) maskToBitsStored(pixels, info.bitsStored, info.highBit, signed);
  if (samplesPerPixel > 1 && info.planarConfiguration === 1 && photometric !== 'YBR_FULL_422') {
    pixels = planarToInterleaved(pixels, samplesPerPixel);
  }
  if (photometric === 'YBR_FULL_422' || photometric === 'YBR_FULL') {
    if (bitsAllocated === 8) {
      ybrFullToRgbInPlace(pixels as Uint8Array);
      photometric = 'RGB';
    }
  }
  samplesPerPixel = photometric === 'RGB' || photometric.startsWith('YBR') ? 3 : samplesPerPixel;
  return lazyRange({
    columns,
    rows,
    samplesPerPixel,
    pixels,
    photometricInterpretation: photometric,
    bitsStored: bitsAllocated === 1 ? 1 : info.bitsStored,
    signed,
    decoder: bigEndian ? 'native (big endian)' : 'native',
  });
}

/** A copy with its own buffer (Buffer#slice would return a view of the whole file). */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function swap16(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out[i] = bytes[i + 1];
    out[i + 1] = bytes[i];
  }
  return out;
}

function readWords(
  bytes: Uint8Array,
  out: Uint16Array | Int16Array | Uint32Array | Int32Array,
  size: 2 | 4,
  bigEndian: boolean,
): void {
  const aligned = bytes.byteOffset % size === 0;
  if (!bigEndian && aligned && isLittleEndianHost) {
    // Fast path: a view on the same memory, copied once.
    const Ctor = out.constructor as new (
      buffer: ArrayBufferLike,
      offset: number,
      length: number,
    ) => typeof out;
    out.set(new Ctor(bytes.buffer, bytes.byteOffset, out.length));
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, out.length * size);
  const little = !bigEndian;
  const signed = out instanceof Int16Array || out instanceof Int32Array;
  for (let i = 0; i < out.length; i++) {
    const at = i * size;
    out[i] =
      size === 2
        ? signed
          ? view.getInt16(at, little)
          : view.getUint16(at, little)
        : signed
          ? view.getInt32(at, little)
          : view.getUint32(at, little);
  }
}

const isLittleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Keeps only the Bits Stored bits that end at High Bit and sign-extends them for Pixel
 * Representation 1 (PS3.5 §8.1.1: the bits outside are not part of the value and may hold
 * overlays or garbage). A no-op when Bits Stored fills the cell.
 */
export function maskToBitsStored(
  pixels: PixelArray,
  bitsStored: number,
  highBit: number,
  signed: boolean,
): void {
  const cellBits = pixels.BYTES_PER_ELEMENT * 8;
  if (pixels instanceof Float32Array || bitsStored >= cellBits) return;
  const shift = Math.max(0, highBit + 1 - bitsStored);
  const mask = bitsStored >= 32 ? 0xffffffff : (1 << bitsStored) - 1;
  const signBit = 1 << (bitsStored - 1);
  const n = pixels.length;
  for (let i = 0; i < n; i++) {
    let v = (pixels[i] >>> shift) & mask;
    if (signed && v & signBit) v -= mask + 1;
    pixels[i] = v;
  }
}

/** R…G…B… to R1G1B1R2… (PS3.3 C.7.6.3.1.3). */
export function planarToInterleaved<T extends PixelArray>(pixels: T, samplesPerPixel: number): T {
  const plane = pixels.length / samplesPerPixel;
  const Ctor = pixels.constructor as new (length: number) => T;
  const out = new Ctor(pixels.length);
  for (let s = 0; s < samplesPerPixel; s++) {
    const base = s * plane;
    for (let i = 0; i < plane; i++) out[i * samplesPerPixel + s] = pixels[base + i];
  }
  return out;
}
