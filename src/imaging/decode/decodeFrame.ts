/**
 * One entry point for every frame: picks the decoder from the transfer syntax and the
 * part's media type (PS3.18 §8.7.3.5.2 / §8.7.4: image/jpeg, image/jls, image/jp2,
 * image/jphc, image/dicom-rle, application/octet-stream), runs it and returns stored values
 * with the Photometric Interpretation they now have.
 *
 * Plain TypeScript: codecs come in through {@link DecoderDeps}, so Node tests and the
 * webview run exactly this code.
 */
import type { CodecName, FramePath, ImageInfo } from '../types';
import { checkPixelBudget, PixelBudgetError } from './budget';
import { CODEC_FILES, runCodec, type CodecOutput, type CodecProvider } from './codecs';
import { ybrFullToRgbInPlace } from './color';
import { decodeNative, maskToBitsStored, planarToInterleaved } from './native';
import { decodeRle } from './rle';
import { DecodeError, lazyRange, type DecodedFrame, type PixelArray } from './types';

/** jpeg-lossless-decoder-js's Decoder, injected (it is an ES module the webview bundles). */
export interface JpegLosslessDecoder {
  decode(
    buffer: ArrayBuffer,
    offset: number,
    length: number,
    numBytes?: number,
  ): Uint8Array | Uint16Array;
}

export interface DecoderDeps {
  codecs: CodecProvider;
  jpegLossless: () => Promise<new () => JpegLosslessDecoder>;
}

/** Where a frame's bytes came from and how they are encoded. */
export interface FrameEncoding {
  path: FramePath;
  mediaType: string;
  transferSyntaxUid?: string;
}

/** What kind of decoding a frame needs. */
export type FrameCodec =
  | { kind: 'native'; bigEndian: boolean }
  | { kind: 'rle' }
  | { kind: 'jpeg' }
  | { kind: 'jpeg-ls' }
  | { kind: 'j2k' }
  | { kind: 'htj2k' }
  | { kind: 'unsupported'; reason: string };

const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  encapsulatedUncompressed: '1.2.840.10008.1.2.1.98',
  deflated: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
} as const;

/** Chooses the decoder: the part's transfer syntax first, then its media type (PS3.18 §8.7.4). */
export function codecFor(encoding: FrameEncoding, info: ImageInfo): FrameCodec {
  const mediaType = encoding.mediaType.toLowerCase();
  const uid =
    encoding.transferSyntaxUid ??
    (encoding.path === 'stored' && isOctetStream(mediaType) ? info.transferSyntaxUid : undefined);
  if (encoding.path === 'transcoded') return { kind: 'native', bigEndian: false };
  if (uid) {
    if (
      uid === TS.implicitLE ||
      uid === TS.explicitLE ||
      uid === TS.deflated ||
      uid === TS.encapsulatedUncompressed
    ) {
      return { kind: 'native', bigEndian: false };
    }
    // A local file keeps big endian bytes; a DICOMweb frame is always little endian (§8.7.3.3.2).
    if (uid === TS.explicitBE) return { kind: 'native', bigEndian: !!info.bigEndian };
    if (uid === TS.rle) return { kind: 'rle' };
    if (/^1\.2\.840\.10008\.1\.2\.4\.(50|51|57|70)$/.test(uid)) return { kind: 'jpeg' };
    if (/^1\.2\.840\.10008\.1\.2\.4\.8[01]$/.test(uid)) return { kind: 'jpeg-ls' };
    if (/^1\.2\.840\.10008\.1\.2\.4\.9[0-3]$/.test(uid)) return { kind: 'j2k' };
    if (/^1\.2\.840\.10008\.1\.2\.4\.20[1-3]$/.test(uid)) return { kind: 'htj2k' };
    if (!isOctetStream(mediaType)) {
      // fall through to the media type
    } else {
      return { kind: 'unsupported', reason: `no decoder for transfer syntax ${uid}` };
    }
  }
  switch (mediaType) {
    case 'application/octet-stream':
      return { kind: 'native', bigEndian: false };
    case 'image/jpeg':
    case 'image/jll':
      return { kind: 'jpeg' };
    case 'image/jls':
      return { kind: 'jpeg-ls' };
    case 'image/jp2':
    case 'image/j2c':
    case 'image/jpx':
      return { kind: 'j2k' };
    case 'image/jphc':
    case 'image/jph':
      return { kind: 'htj2k' };
    case 'image/dicom-rle':
    case 'image/x-dicom-rle':
      return { kind: 'rle' };
    default:
      return { kind: 'unsupported', reason: `no decoder for ${encoding.mediaType}` };
  }
}

function isOctetStream(mediaType: string): boolean {
  return mediaType === 'application/octet-stream' || mediaType === '';
}

/** Decodes one frame. Rendered frames (PNG/JPEG from `/rendered`) are the webview's job. */
export async function decodeFrame(
  bytes: Uint8Array,
  info: ImageInfo,
  encoding: FrameEncoding,
  deps: DecoderDeps,
): Promise<DecodedFrame> {
  // The header decides every buffer below (native, RLE): check it before any allocation.
  try {
    checkPixelBudget(info);
  } catch (error) {
    if (error instanceof PixelBudgetError) throw new DecodeError(error.message, false);
    throw error;
  }
  const codec = codecFor(encoding, info);
  switch (codec.kind) {
    case 'native':
      return decodeNative(bytes, info, codec.bigEndian);
    case 'rle':
      return decodeRle(bytes, info);
    case 'jpeg':
      return decodeJpeg(bytes, info, deps);
    case 'jpeg-ls':
      return fromCodec('charls', runCodec('charls', await deps.codecs.get('charls'), bytes), info);
    case 'j2k': {
      const stream = j2kCodestream(bytes);
      // An HTJ2K codestream (CAP marker, PS3.5 §A.4.33 via ISO/IEC 15444-15) in a J2K part.
      if (hasCapMarker(stream))
        return fromCodec(
          'openjph',
          runCodec('openjph', await deps.codecs.get('openjph'), stream),
          info,
        );
      return fromCodec(
        'openjpeg',
        runCodec('openjpeg', await deps.codecs.get('openjpeg'), stream),
        info,
      );
    }
    case 'htj2k':
      return fromCodec(
        'openjph',
        runCodec('openjph', await deps.codecs.get('openjph'), j2kCodestream(bytes)),
        info,
      );
    case 'unsupported':
      throw new DecodeError(`Cannot decode this frame: ${codec.reason}.`, true);
  }
}

/** The SOF marker of a JPEG stream (ISO/IEC 10918-1 B.2.2) and its sample precision. */
export function jpegFrameHeader(
  bytes: Uint8Array,
): { marker: number; precision: number; components: number } | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let position = 2;
  while (position + 4 <= bytes.length) {
    if (bytes[position] !== 0xff) {
      position++;
      continue;
    }
    const marker = bytes[position + 1];
    if (marker === 0xff) {
      position++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      position += 2;
      continue;
    }
    const length = (bytes[position + 2] << 8) | bytes[position + 3];
    const isSof =
      marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { marker, precision: bytes[position + 4], components: bytes[position + 9] };
    if (marker === 0xda) return undefined;
    position += 2 + length;
  }
  return undefined;
}

async function decodeJpeg(
  bytes: Uint8Array,
  info: ImageInfo,
  deps: DecoderDeps,
): Promise<DecodedFrame> {
  const header = jpegFrameHeader(bytes);
  if (!header) throw new DecodeError('The JPEG stream has no frame header (SOF).');
  const lossless =
    header.marker === 0xc3 ||
    header.marker === 0xc7 ||
    header.marker === 0xcb ||
    header.marker === 0xcf;
  if (lossless) {
    // Process 14 (1.2.840.10008.1.2.4.57 / .70), PS3.5 §A.4.1.
    const Decoder = await deps.jpegLossless();
    const decoder = new Decoder();
    const numBytes = header.precision > 8 ? 2 : 1;
    // A copy of exactly these bytes (a Node Buffer's slice() would be a view of the whole file).
    const buffer = new Uint8Array(bytes).buffer;
    const out = decoder.decode(buffer, 0, bytes.length, numBytes);
    const data = new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice();
    return fromCodec(
      'jpeg-lossless',
      {
        width: info.columns,
        height: info.rows,
        bitsPerSample: header.precision,
        componentCount: header.components,
        bytes: data,
        planar: false,
      },
      info,
    );
  }
  if (header.precision > 8) {
    // 12-bit JPEG Extended (Process 4): the 8-bit libjpeg-turbo build cannot; the panel
    // then asks the server for a transcoded frame.
    throw new DecodeError(
      `${header.precision}-bit lossy JPEG (Process 2 & 4) has no decoder here.`,
      true,
    );
  }
  return fromCodec(
    'libjpeg-turbo',
    runCodec('libjpeg-turbo', await deps.codecs.get('libjpeg-turbo'), bytes),
    info,
  );
}

/** Turns a codec's output into a {@link DecodedFrame} (signedness, bits, planar, colour). */
export function fromCodec(
  name: CodecName | 'jpeg-lossless',
  output: CodecOutput,
  info: ImageInfo,
): DecodedFrame {
  const { width, height, componentCount } = output;
  if (width !== info.columns || height !== info.rows) {
    throw new DecodeError(
      `The codec decoded ${width}×${height}; the header says ${info.columns}×${info.rows}.`,
    );
  }
  // The header's Pixel Representation decides, unless the codec knows the samples are
  // signed (JPEG 2000 carries it in SIZ, PS3.5 §8.2.4 lets them disagree).
  const signed = output.isSigned === true || info.pixelRepresentation === 1;
  const bytes = output.bytes;
  let pixels: PixelArray;
  if (output.bitsPerSample <= 8) {
    pixels = signed ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes;
  } else {
    const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
    pixels = signed
      ? new Int16Array(aligned.buffer, aligned.byteOffset, aligned.length >> 1)
      : new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length >> 1);
  }
  const cellBits = pixels.BYTES_PER_ELEMENT * 8;
  const bitsStored = Math.min(info.bitsStored || output.bitsPerSample, cellBits);
  if (bitsStored < cellBits) maskToBitsStored(pixels, bitsStored, bitsStored - 1, signed);
  if (output.planar) pixels = planarToInterleaved(pixels, componentCount);

  let photometric = info.photometricInterpretation;
  if (componentCount === 3) {
    if (name === 'libjpeg-turbo') {
      // libjpeg converts YCbCr to RGB itself (and upsamples 4:2:2), PS3.5 §8.2.1.
      photometric = 'RGB';
    } else if (name === 'openjpeg' || name === 'openjph') {
      // The inverse RCT/ICT is part of JPEG 2000 decoding (PS3.5 §8.2.4): YBR_RCT/ICT → RGB.
      if (photometric === 'YBR_RCT' || photometric === 'YBR_ICT') photometric = 'RGB';
    }
    if (
      (photometric === 'YBR_FULL' || photometric === 'YBR_FULL_422') &&
      pixels instanceof Uint8Array
    ) {
      ybrFullToRgbInPlace(pixels);
      photometric = 'RGB';
    }
  }
  return lazyRange({
    columns: width,
    rows: height,
    samplesPerPixel: componentCount,
    pixels,
    photometricInterpretation: photometric,
    bitsStored,
    signed,
    decoder: name === 'jpeg-lossless' ? 'jpeg-lossless-decoder-js' : CODEC_FILES[name].label,
  });
}

/** The J2K codestream inside a JP2 file (a `jp2c` box), or the bytes as they are. */
export function j2kCodestream(bytes: Uint8Array): Uint8Array {
  if (bytes[0] === 0xff && bytes[1] === 0x4f) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;
  while (position + 8 <= bytes.length) {
    let length = view.getUint32(position);
    const type = String.fromCharCode(
      bytes[position + 4],
      bytes[position + 5],
      bytes[position + 6],
      bytes[position + 7],
    );
    let header = 8;
    if (length === 1 && position + 16 <= bytes.length) {
      length = Number(view.getBigUint64(position + 8));
      header = 16;
    } else if (length === 0) {
      length = bytes.length - position;
    }
    if (type === 'jp2c') return bytes.subarray(position + header, position + length);
    if (length < header) break;
    position += length;
  }
  return bytes;
}

/** True when a J2K codestream's main header holds a CAP marker (0xFF50), i.e. it is HTJ2K. */
export function hasCapMarker(stream: Uint8Array): boolean {
  if (stream[0] !== 0xff || stream[1] !== 0x4f) return false;
  let position = 2;
  while (position + 4 <= stream.length) {
    if (stream[position] !== 0xff) return false;
    const marker = stream[position + 1];
    if (marker === 0x50) return true;
    if (marker === 0x90 || marker === 0x93) return false; // SOT / SOD: main header over
    position += 2 + ((stream[position + 2] << 8) | stream[position + 3]);
  }
  return false;
}
