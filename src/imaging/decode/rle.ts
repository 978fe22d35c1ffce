/**
 * RLE Lossless (1.2.840.10008.1.2.5), written from PS3.5 Annex G.
 *
 * A frame is one RLE header (G.5: 16 little-endian uint32 values: the number of segments,
 * then the byte offset of each, 15 at most) followed by the segments. Each segment holds
 * one byte of one sample of every pixel, PackBits-encoded (G.3.1): for a sample of N bytes,
 * the first segment carries the most significant byte (G.2). Segments come sample by
 * sample, so the decoded image is planar by nature; it is written interleaved here.
 */
import type { ImageInfo } from '../types';
import { maskToBitsStored } from './native';
import { ybrFullToRgbInPlace } from './color';
import { DecodeError, lazyRange, type DecodedFrame, type PixelArray } from './types';

const HEADER_LENGTH = 64;

/** Decodes one RLE frame (all its fragments concatenated). */
export function decodeRle(frame: Uint8Array, info: ImageInfo): DecodedFrame {
  const { rows, columns, samplesPerPixel, bitsAllocated } = info;
  if (frame.length < HEADER_LENGTH)
    throw new DecodeError('RLE frame shorter than its 64-byte header (PS3.5 §G.5).');
  if (bitsAllocated % 8 !== 0 || bitsAllocated === 0 || bitsAllocated > 32) {
    throw new DecodeError(`RLE with Bits Allocated ${bitsAllocated} is not supported.`, true);
  }
  const header = new DataView(frame.buffer, frame.byteOffset, HEADER_LENGTH);
  const segmentCount = header.getUint32(0, true);
  const bytesPerSample = bitsAllocated / 8;
  const expected = samplesPerPixel * bytesPerSample;
  if (segmentCount !== expected) {
    throw new DecodeError(
      `RLE header declares ${segmentCount} segments; ${samplesPerPixel} sample(s) of ${bitsAllocated} bits need ${expected} (PS3.5 §G.2).`,
    );
  }
  const offsets: number[] = [];
  for (let i = 0; i < segmentCount; i++) offsets.push(header.getUint32(4 + i * 4, true));
  offsets.push(frame.length);

  const pixelCount = rows * columns;
  // Little-endian interleaved bytes: sample s of pixel p, byte b (0 = least significant).
  const stride = samplesPerPixel * bytesPerSample;
  const out = new Uint8Array(pixelCount * stride);
  for (let segment = 0; segment < segmentCount; segment++) {
    const sample = Math.floor(segment / bytesPerSample);
    const byteFromMsb = segment % bytesPerSample;
    const start = sample * bytesPerSample + (bytesPerSample - 1 - byteFromMsb);
    const end = Math.min(offsets[segment + 1] ?? frame.length, frame.length);
    unpackBits(frame, offsets[segment], end, out, start, stride, pixelCount);
  }

  const signed = info.pixelRepresentation === 1;
  let pixels: PixelArray;
  switch (bitsAllocated) {
    case 8:
      pixels = signed ? new Int8Array(out.buffer) : out;
      break;
    case 16:
      pixels = signed ? new Int16Array(out.buffer) : new Uint16Array(out.buffer);
      break;
    case 32:
      pixels = signed ? new Int32Array(out.buffer) : new Uint32Array(out.buffer);
      break;
    default:
      throw new DecodeError(`RLE with Bits Allocated ${bitsAllocated} is not supported.`, true);
  }
  maskToBitsStored(pixels, info.bitsStored, info.highBit, signed);
  let photometric = info.photometricInterpretation;
  // YBR_FULL is what an RLE colour image may use (PS3.5 §8.2.2); convert for display.
  if (photometric === 'YBR_FULL' && bitsAllocated === 8) {
    ybrFullToRgbInPlace(pixels as Uint8Array);
    photometric = 'RGB';
  }
  return lazyRange({
    columns,
    rows,
    samplesPerPixel,
    pixels,
    photometricInterpretation: photometric,
    bitsStored: info.bitsStored,
    signed,
    decoder: 'RLE',
  });
}

/**
 * PackBits (PS3.5 §G.3.1): a header byte n; 0…127 copies the next n+1 bytes, −1…−127
 * repeats the next byte −n+1 times, −128 does nothing. Writes every `stride`-th byte of
 * `out` from `start`, stopping after `count` bytes (a segment may be padded to even length).
 */
function unpackBits(
  input: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  start: number,
  stride: number,
  count: number,
): void {
  let position = from;
  let written = 0;
  let at = start;
  while (position < to && written < count) {
    const n = (input[position++] << 24) >> 24;
    if (n >= 0) {
      let run = n + 1;
      if (position + run > to) run = to - position;
      for (let i = 0; i < run && written < count; i++) {
        out[at] = input[position++];
        at += stride;
        written++;
      }
    } else if (n !== -128) {
      const value = input[position++];
      const run = -n + 1;
      for (let i = 0; i < run && written < count; i++) {
        out[at] = value;
        at += stride;
        written++;
      }
    }
  }
  if (written < count) {
    throw new DecodeError(`RLE segment ended after ${written} of ${count} bytes (PS3.5 §G.3).`);
  }
}
