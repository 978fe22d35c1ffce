/**
 * Compressed (encapsulated) instances decoded to Explicit VR Little Endian, as the Azure
 * DICOM service transcodes a retrieve that names no transfer syntax or Explicit VR LE (PS3.18
 * §8.7.3.5.2: none means Explicit VR Little Endian; issue 14, "Transcoding, as the service
 * does"). The frames are decoded by the preview's decoders (src/imaging/decode/decodeFrame,
 * the frame cut by src/imaging/header/fileFrames.ts), so what the server hands out is what the
 * preview shows.
 *
 * Every encapsulated transfer syntax is Explicit VR Little Endian outside Pixel Data (PS3.5
 * §A.4), so the data set is copied byte for byte except:
 * - Pixel Data (7FE0,0010): native, OB for 8-bit samples, OW above (PS3.5 §8.1.1, §8.2), all
 *   frames one after another, samples interleaved;
 * - Photometric Interpretation (0028,0004): what the decoder produced (YBR_FULL_422 and
 *   YBR_FULL of JPEG, YBR_RCT/ICT of JPEG 2000 come out RGB: PS3.5 §8.2.1, §8.2.4);
 * - Planar Configuration (0028,0006): 0 for colour, since the samples are interleaved;
 * - Lossy Image Compression (0028,2110): "01" once lossy (JPEG Baseline / Extended are,
 *   PS3.3 C.7.6.1.1.5: it shall not go back to "00"); an existing value is kept otherwise;
 * - the File Meta Information: Transfer Syntax UID (0002,0010) rewritten, group length
 *   (0002,0000) recomputed (PS3.10 §7.1).
 */
import type * as dicomParser from 'dicom-parser';
import { setImmediate } from 'node:timers/promises';
import { readDataSet } from '../dicom/part10';
import { encodeDataSet, LONG_LENGTH_VRS, pixelDataElementHeader } from '../dicom/part10Writer';
import { ParserTag, Tag } from '../dicom/tags';
import { TranscodeError } from '../dicom/transcode';
import { TransferSyntax, isEncapsulatedTransferSyntax } from '../dicom/uids';
import { decodeFrame, type DecoderDeps } from '../imaging/decode/decodeFrame';
import type { DecodedFrame } from '../imaging/decode/types';
import type { ImageInfo } from '../imaging/types';
import { fileFrame } from '../imaging/header/fileFrames';
import { imageInfoFromDataSet } from '../imaging/header/imageInfo';

const ELE = TransferSyntax.ExplicitVRLittleEndian;

/** Transfer syntaxes the preview's decoders read (decodeFrame.ts codecFor), by UID pattern. */
const DECODABLE = /^1\.2\.840\.10008\.1\.2\.(5|4\.(50|51|57|70|80|81|90|91|92|93|201|202|203))$/;

/** Always lossy (PS3.5 §8.2.1: JPEG Processes 1, 2 & 4). */
const LOSSY = new Set<string>([TransferSyntax.JPEGBaseline8Bit, TransferSyntax.JPEGExtended12Bit]);

/** Whether an instance stored in `uid` can be decoded to Explicit VR Little Endian here. */
export function isDecodableTransferSyntax(uid: string): boolean {
  return isEncapsulatedTransferSyntax(uid) && DECODABLE.test(uid);
}

const tagNumber = (tag: string): number => parseInt(tag, 16) >>> 0;

/** One top-level element and the bytes it spans, header included. */
interface Span {
  tag: number;
  start: number;
  end: number;
}

/**
 * The top-level elements of an Explicit VR Little Endian stretch of a parsed file, in order,
 * with their byte spans: header of 8 bytes, or 12 for the long-length VRs (PS3.5 §7.1.2).
 * Adjacent spans must meet: a gap or an overlap means dicom-parser and this reading
 * disagree, and nothing is written from it.
 */
function spansOf(dataSet: dicomParser.DataSet, from: number, to: number): Span[] {
  const spans = Object.values(dataSet.elements)
    .map((element) => {
      const header = LONG_LENGTH_VRS.has(element.vr ?? '') ? 12 : 8;
      // dicom-parser's length of an undefined-length sequence stops before its Sequence
      // Delimitation Item (8 bytes, PS3.5 §7.5.2); encapsulated Pixel Data's includes it.
      const delimiter = element.hadUndefinedLength && !element.encapsulatedPixelData ? 8 : 0;
      return {
        tag: tagNumber(element.tag.slice(1)),
        start: element.dataOffset - header,
        end: element.dataOffset + element.length + delimiter,
      };
    })
    .filter((span) => span.start >= from && span.start < to)
    .sort((a, b) => a.start - b.start);
  let position = from;
  for (const span of spans) {
    if (span.start !== position)
      throw new TranscodeError(
        `element (${span.tag.toString(16).padStart(8, '0')}) starts at byte ${span.start}, expected ${position}`,
      );
    position = span.end;
  }
  if (position !== to) throw new TranscodeError(`the data set ends at ${position}, not ${to}`);
  return spans;
}

/** The native bytes of decoded frames at the header's Bits Allocated, little endian. */
export function nativeBytes(frames: DecodedFrame[], bitsAllocated: number): Uint8Array {
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32)
    throw new TranscodeError(`Bits Allocated ${bitsAllocated} cannot be written natively here`);
  const samplesPerFrame = frames[0] ? frames[0].pixels.length : 0;
  const cell = bitsAllocated / 8;
  const out = new Uint8Array(samplesPerFrame * frames.length * cell);
  // Two's complement falls out of the unsigned array's modular conversion (ECMA-262 ToUint16).
  const Cells = bitsAllocated === 8 ? Uint8Array : bitsAllocated === 16 ? Uint16Array : Uint32Array;
  const view = new Cells(out.buffer);
  const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  frames.forEach((frame, i) => view.set(frame.pixels, i * samplesPerFrame));
  if (!littleEndianHost && cell > 1) {
    // A Buffer over the same memory: the swap happens in `out` itself.
    const shared = Buffer.from(out.buffer);
    if (cell === 2) shared.swap16();
    else shared.swap32();
  }
  return out;
}

/** Decodes frame `n` (1-based) of a parsed compressed file, as the preview would. */
export async function decodeStoredFrame(
  dataSet: dicomParser.DataSet,
  info: ImageInfo,
  n: number,
  deps: DecoderDeps,
): Promise<DecodedFrame> {
  return decodeFrame(
    fileFrame(dataSet, info, n),
    info,
    {
      path: 'stored',
      mediaType: 'application/octet-stream',
      transferSyntaxUid: info.transferSyntaxUid,
    },
    deps,
  );
}

/** What the header says after decoding: the elements rewritten, in tag order. */
function rewrittenElements(
  dataSet: dicomParser.DataSet,
  info: ImageInfo,
  photometric: string,
): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const encode = (tag: string, vr: string, value: string | number) =>
    out.set(tagNumber(tag), encodeDataSet([{ tag, vr, value }], ELE));
  encode(Tag.PhotometricInterpretation, 'CS', photometric);
  if (info.samplesPerPixel > 1) encode(Tag.PlanarConfiguration, 'US', 0);
  const lossy =
    LOSSY.has(info.transferSyntaxUid ?? '') ||
    dataSet.string(ParserTag.LossyImageCompression)?.trim() === '01';
  if (lossy) encode(Tag.LossyImageCompression, 'CS', '01');
  return out;
}

/** The File Meta Information with Transfer Syntax UID and group length rewritten. */
function rewrittenMeta(bytes: Uint8Array, spans: Span[]): Uint8Array {
  const kept = spans
    .filter((s) => s.tag !== tagNumber(Tag.FileMetaInformationGroupLength))
    .map((s) =>
      s.tag === tagNumber(Tag.TransferSyntaxUID)
        ? encodeDataSet([{ tag: Tag.TransferSyntaxUID, vr: 'UI', value: ELE }], ELE)
        : bytes.subarray(s.start, s.end),
    );
  const length = kept.reduce((sum, part) => sum + part.length, 0);
  const groupLength = encodeDataSet(
    [{ tag: Tag.FileMetaInformationGroupLength, vr: 'UL', value: length }],
    ELE,
  );
  return Buffer.concat([groupLength, ...kept]);
}

/**
 * A compressed Part 10 file decoded to Explicit VR Little Endian. `maxBytes` bounds the
 * answer: a decoded instance over it is refused (as the input file is by the caller) before
 * any frame is decoded, from the header's geometry.
 * @throws TranscodeError for a file this cannot read or write; DecodeError / PixelBudgetError
 *   from the decoders
 */
export async function decodeToExplicitVrLittleEndian(
  bytes: Uint8Array,
  deps: DecoderDeps,
  maxBytes = Infinity,
): Promise<Uint8Array> {
  const dataSet = readDataSet(bytes);
  const info = imageInfoFromDataSet(dataSet);
  const cell = Math.max(1, info.bitsAllocated / 8);
  const decodedSize = info.rows * info.columns * info.samplesPerPixel * cell * info.numberOfFrames;
  if (decodedSize > maxBytes)
    throw new TranscodeError(
      `its decoded Pixel Data would be ${decodedSize} bytes; the local server converts up to ${maxBytes}`,
    );
  const frames: DecodedFrame[] = [];
  for (let n = 1; n <= info.numberOfFrames; n++) {
    frames.push(await decodeStoredFrame(dataSet, info, n, deps));
    // Each decode is synchronous work: between frames the loop answers other requests.
    await setImmediate();
  }
  const pixels = nativeBytes(frames, info.bitsAllocated);
  const padded = pixels.length % 2 ? Buffer.concat([pixels, new Uint8Array(1)]) : pixels;
  const groupLength = dataSet.elements[ParserTag.FileMetaInformationGroupLength];
  if (!groupLength) throw new TranscodeError('the file has no File Meta Information group length');
  const metaEnd =
    groupLength.dataOffset + 4 + dataSet.uint32(ParserTag.FileMetaInformationGroupLength)!;
  const pixelTag = tagNumber(Tag.PixelData);
  const rewritten = rewrittenElements(dataSet, info, frames[0]!.photometricInterpretation);
  const chunks: Uint8Array[] = [bytes.subarray(0, 132)];
  chunks.push(rewrittenMeta(bytes, spansOf(dataSet, 132, metaEnd)));
  const pending = [...rewritten.keys()].sort((a, b) => a - b);
  for (const span of spansOf(dataSet, metaEnd, bytes.length)) {
    // Rewritten elements absent from the file are inserted at their place in tag order.
    while (pending.length && pending[0]! < span.tag) chunks.push(rewritten.get(pending.shift()!)!);
    if (pending[0] === span.tag) {
      chunks.push(rewritten.get(pending.shift()!)!);
    } else if (span.tag === pixelTag) {
      chunks.push(
        pixelDataElementHeader(padded.length, info.bitsAllocated > 8 ? 'OW' : 'OB'),
        padded,
      );
    } else {
      chunks.push(bytes.subarray(span.start, span.end));
    }
  }
  for (const tag of pending) chunks.push(rewritten.get(tag)!);
  return Buffer.concat(chunks);
}
