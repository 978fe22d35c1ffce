/**
 * Byte-level conversion of a Part 10 file from Implicit VR Little Endian or Explicit VR Big
 * Endian to Explicit VR Little Endian (PS3.5 §A.1, §A.2, §A.3): what the Azure DICOM service
 * does when a client retrieves such an instance without naming a transfer syntax.
 *
 * - Implicit VR: each element gets its VR from the PS3.6 dictionary (dictionary.ts); the
 *   data-dependent ones are resolved as PS3.5 §A.1 and PS3.6 say (Pixel Data and other
 *   "OB or OW" are OW in implicit VR; "US or SS" follows Pixel Representation (0028,0103)).
 *   Private and unknown elements become UN, whose value stays the implicit-VR bytes
 *   (PS3.5 §6.2.2), and an undefined length makes a sequence (PS3.5 §7.5.1).
 * - Big endian: tags, lengths and every multi-byte value are swapped by their VR's unit
 *   (PS3.5 §7.3); Pixel Data in OW by Bits Allocated (16 → 2 bytes, 32 → 4; 8-bit OW by its
 *   16-bit words, PS3.5 §A.3).
 * - Sequences and items keep defined or undefined length; defined lengths and group lengths
 *   (gggg,0000) are recomputed, since explicit VR headers of long VRs are 4 bytes longer.
 * - The File Meta Information (always Explicit VR Little Endian, PS3.10 §7.1) is kept, with
 *   its Transfer Syntax UID (0002,0010) and group length (0002,0000) rewritten.
 *
 * Pure: bytes in, bytes out; no node: import of its own.
 */
import { lookupTag } from './dictionary';
import { LONG_LENGTH_VRS } from './part10Writer';
import { TransferSyntax } from './uids';

/** Why a file could not be converted. */
export class TranscodeError extends Error {
  override readonly name = 'TranscodeError';
}

/** The transfer syntaxes {@link toExplicitVrLittleEndian} converts from. */
export const CONVERTIBLE_TO_EXPLICIT_LE: ReadonlySet<string> = new Set([
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
]);

/** Byte unit of the values of a VR, for swapping (PS3.5 §7.3); absent means bytes or text. */
const SWAP_UNIT: Readonly<Record<string, number>> = {
  AT: 2,
  OW: 2,
  SS: 2,
  US: 2,
  FL: 4,
  OF: 4,
  OL: 4,
  SL: 4,
  UL: 4,
  FD: 8,
  OD: 8,
  OV: 8,
  SV: 8,
  UV: 8,
};

const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;
const BITS_ALLOCATED = 0x00280100;
const PIXEL_REPRESENTATION = 0x00280103;
const META_GROUP_LENGTH = 0x00020000;
const META_TRANSFER_SYNTAX = 0x00020010;

/** A growable output buffer with back-patching of lengths. */
class Output {
  private bytes: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(256, capacity));
    this.view = new DataView(this.bytes.buffer);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  u16(value: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, value, true);
    this.length += 2;
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  put(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  patchU32(at: number, value: number): void {
    this.view.setUint32(at, value, true);
  }

  tag(tag: number): void {
    this.u16(tag >>> 16);
    this.u16(tag & 0xffff);
  }

  result(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** The source: where we are, and how it is encoded. */
interface Source {
  bytes: Uint8Array;
  view: DataView;
  pos: number;
  little: boolean;
  explicit: boolean;
}

/** What the data set said so far that decides VRs and swap units. */
interface Context {
  bitsAllocated: number;
  pixelRepresentation: number;
}

function need(src: Source, n: number, what: string): void {
  if (src.pos + n > src.bytes.length)
    throw new TranscodeError(`the file ends inside ${what} at byte ${src.pos}`);
}

function readTag(src: Source): number {
  need(src, 4, 'a tag');
  const group = src.view.getUint16(src.pos, src.little);
  const element = src.view.getUint16(src.pos + 2, src.little);
  src.pos += 4;
  return ((group << 16) | element) >>> 0;
}

function readU32(src: Source): number {
  need(src, 4, 'a length');
  const value = src.view.getUint32(src.pos, src.little);
  src.pos += 4;
  return value;
}

function hex(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(8, '0');
}

/** The VR of an implicit-VR element, from the dictionary (PS3.5 §A.1, PS3.6). */
export function implicitVr(tag: number, length: number, context: Context): string {
  if (length === UNDEFINED) return 'SQ';
  const vr = lookupTag(tag)?.vr ?? 'UN';
  switch (vr) {
    case '':
      return 'UN';
    case 'OB or OW':
    case 'US or OW':
      return 'OW';
    case 'US or SS':
      return context.pixelRepresentation === 1 ? 'SS' : 'US';
    default:
      return vr.length === 2 ? vr : 'UN';
  }
}

function swapInPlace(bytes: Uint8Array, unit: number): void {
  for (let i = 0; i + unit <= bytes.length; i += unit) {
    for (let a = i, b = i + unit - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

function swapUnit(tag: number, vr: string, context: Context): number | undefined {
  if (tag === PIXEL_DATA && vr === 'OW' && context.bitsAllocated > 16)
    return context.bitsAllocated / 8;
  return SWAP_UNIT[vr];
}

/** Reads one element header in the source encoding: tag, VR, value length. */
function readHeader(src: Source, context: Context): { tag: number; vr: string; length: number } {
  const tag = readTag(src);
  if (tag >>> 16 === 0xfffe) return { tag, vr: '', length: readU32(src) };
  if (!src.explicit) {
    const length = readU32(src);
    return { tag, vr: implicitVr(tag, length, context), length };
  }
  need(src, 4, `the header of (${hex(tag)})`);
  const vr = String.fromCharCode(src.bytes[src.pos]!, src.bytes[src.pos + 1]!);
  if (!/^[A-Z]{2}$/.test(vr)) throw new TranscodeError(`element (${hex(tag)}) has no VR`);
  if (LONG_LENGTH_VRS.has(vr)) {
    src.pos += 4;
    return { tag, vr, length: readU32(src) };
  }
  const length = src.view.getUint16(src.pos + 2, src.little);
  src.pos += 4;
  return { tag, vr, length };
}

/** Writes an explicit VR little endian element header; returns where its length sits. */
function writeHeader(out: Output, tag: number, vr: string, length: number): number {
  out.tag(tag);
  out.u16(vr.charCodeAt(0) | (vr.charCodeAt(1) << 8));
  if (LONG_LENGTH_VRS.has(vr)) {
    out.u16(0);
    out.u32(length);
    return out.length - 4;
  }
  out.u16(length);
  return -1;
}

/** Converts the value of a non-sequence element and writes the element. */
function convertValue(
  src: Source,
  out: Output,
  tag: number,
  given: string,
  length: number,
  context: Context,
): void {
  if (length === UNDEFINED)
    throw new TranscodeError(`element (${hex(tag)}) has an undefined length but is not a sequence`);
  need(src, length, `the value of (${hex(tag)})`);
  // A copy (Buffer#slice would be a view): values are swapped in place, never the caller's bytes.
  const value = Uint8Array.prototype.slice.call(src.bytes, src.pos, src.pos + length);
  src.pos += length;
  // A value too long for a 2-byte length is written as UN (PS3.5 §6.2.2).
  const vr = !LONG_LENGTH_VRS.has(given) && length > 0xffff ? 'UN' : given;
  const unit = src.little ? undefined : swapUnit(tag, given, context);
  if (unit) swapInPlace(value, unit);
  if (tag === BITS_ALLOCATED && length >= 2) context.bitsAllocated = value[0]! | (value[1]! << 8);
  if (tag === PIXEL_REPRESENTATION && length >= 2)
    context.pixelRepresentation = value[0]! | (value[1]! << 8);
  writeHeader(out, tag, vr, length);
  out.put(value);
}

/**
 * Converts elements until `end` (a byte offset) or, when `end` is undefined, until the
 * delimiter `until` (item or sequence delimitation), which is consumed and not written.
 * Group lengths of this level are recomputed.
 */
function convertElements(
  src: Source,
  out: Output,
  end: number | undefined,
  until: number,
  context: Context,
): void {
  let groupLengthAt = -1;
  let groupStart = 0;
  let group = -1;
  const closeGroup = (): void => {
    if (groupLengthAt >= 0) out.patchU32(groupLengthAt, out.length - groupStart);
    groupLengthAt = -1;
  };
  while (end === undefined || src.pos < end) {
    const { tag, vr, length } = readHeader(src, context);
    if (tag === until && end === undefined) break;
    if (tag >>> 16 === 0xfffe)
      throw new TranscodeError(`unexpected delimiter (${hex(tag)}) at byte ${src.pos - 8}`);
    if (tag >>> 16 !== group) {
      closeGroup();
      group = tag >>> 16;
    }
    if (vr === 'SQ') {
      convertSequence(src, out, tag, length, context);
    } else if ((tag & 0xffff) === 0 && vr === 'UL' && length === 4) {
      src.pos += 4;
      writeHeader(out, tag, 'UL', 4);
      groupLengthAt = out.length;
      out.u32(0);
      groupStart = out.length;
    } else {
      convertValue(src, out, tag, vr, length, context);
    }
  }
  closeGroup();
}

function convertSequence(
  src: Source,
  out: Output,
  tag: number,
  length: number,
  context: Context,
): void {
  const lengthAt = writeHeader(out, tag, 'SQ', length);
  const start = out.length;
  const end = length === UNDEFINED ? undefined : src.pos + length;
  if (end !== undefined) need(src, length, `sequence (${hex(tag)})`);
  while (end === undefined || src.pos < end) {
    const itemTag = readTag(src);
    const itemLength = readU32(src);
    if (itemTag === SEQUENCE_END && end === undefined) break;
    if (itemTag !== ITEM)
      throw new TranscodeError(`sequence (${hex(tag)}) holds (${hex(itemTag)}) instead of an item`);
    out.tag(ITEM);
    out.u32(itemLength);
    const itemLengthAt = out.length - 4;
    const itemStart = out.length;
    const itemEnd = itemLength === UNDEFINED ? undefined : src.pos + itemLength;
    convertElements(src, out, itemEnd, ITEM_END, { ...context });
    if (itemEnd === undefined) {
      out.tag(ITEM_END);
      out.u32(0);
    } else out.patchU32(itemLengthAt, out.length - itemStart);
  }
  if (end === undefined) {
    out.tag(SEQUENCE_END);
    out.u32(0);
  } else out.patchU32(lengthAt, out.length - start);
}

/** A reader at the start of the File Meta, which is always Explicit VR Little Endian. */
function metaSource(bytes: Uint8Array): Source {
  return {
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    pos: 132,
    little: true,
    explicit: true,
  };
}

/** The File Meta Information: where it ends, and the transfer syntax it names. */
function readMeta(bytes: Uint8Array): { end: number; transferSyntax: string } {
  if (
    bytes.length < 132 ||
    String.fromCharCode(bytes[128]!, bytes[129]!, bytes[130]!, bytes[131]!) !== 'DICM'
  )
    throw new TranscodeError(
      'not a DICOM Part 10 file (no "DICM" after the preamble, PS3.10 §7.1)',
    );
  const src = metaSource(bytes);
  const context = { bitsAllocated: 0, pixelRepresentation: 0 };
  let transferSyntax = '';
  while (src.pos + 8 <= bytes.length && src.view.getUint16(src.pos, true) === 0x0002) {
    const { tag, length } = readHeader(src, context);
    need(src, length, `the File Meta element (${hex(tag)})`);
    if (tag === META_TRANSFER_SYNTAX)
      transferSyntax = new TextDecoder()
        .decode(bytes.subarray(src.pos, src.pos + length))
        .replace(/[\0 ]+$/, '');
    src.pos += length;
  }
  if (!transferSyntax)
    throw new TranscodeError('the File Meta has no Transfer Syntax UID (0002,0010)');
  return { end: src.pos, transferSyntax };
}

/** Writes the File Meta with a new Transfer Syntax UID and a recomputed group length. */
function writeMeta(bytes: Uint8Array, metaEnd: number, out: Output, transferSyntax: string): void {
  out.put(bytes.subarray(0, 132));
  const src = metaSource(bytes);
  const context = { bitsAllocated: 0, pixelRepresentation: 0 };
  writeHeader(out, META_GROUP_LENGTH, 'UL', 4);
  const lengthAt = out.length;
  out.u32(0);
  const start = out.length;
  while (src.pos < metaEnd) {
    const elementStart = src.pos;
    const { tag, length } = readHeader(src, context);
    src.pos += length;
    if (tag === META_GROUP_LENGTH) continue;
    if (tag === META_TRANSFER_SYNTAX) {
      // UI values are padded to even length with NUL (PS3.5 §6.2).
      const text = transferSyntax.length % 2 ? `${transferSyntax}\0` : transferSyntax;
      writeHeader(out, tag, 'UI', text.length);
      out.put(new TextEncoder().encode(text));
      continue;
    }
    out.put(bytes.subarray(elementStart, src.pos));
  }
  out.patchU32(lengthAt, out.length - start);
}

/** The transfer syntax named by a Part 10 file's File Meta Information. */
export function storedTransferSyntax(bytes: Uint8Array): string {
  return readMeta(bytes).transferSyntax;
}

/**
 * A Part 10 file in Implicit VR Little Endian or Explicit VR Big Endian, rewritten as
 * Explicit VR Little Endian (see the file comment). A file already in Explicit VR Little
 * Endian is returned as is.
 * @throws {TranscodeError} for another transfer syntax, or bytes that are not a well-formed
 *   data set (the message names the element and the byte offset)
 */
export function toExplicitVrLittleEndian(bytes: Uint8Array): Uint8Array {
  const meta = readMeta(bytes);
  if (meta.transferSyntax === TransferSyntax.ExplicitVRLittleEndian) return bytes;
  if (!CONVERTIBLE_TO_EXPLICIT_LE.has(meta.transferSyntax))
    throw new TranscodeError(
      `cannot convert ${meta.transferSyntax} to Explicit VR Little Endian without decoding it`,
    );
  // Implicit → explicit grows long-VR headers by 4 bytes each; a little slack avoids regrowth.
  const out = new Output(bytes.length + (bytes.length >> 6) + 1024);
  writeMeta(bytes, meta.end, out, TransferSyntax.ExplicitVRLittleEndian);
  const src: Source = {
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    pos: meta.end,
    little: meta.transferSyntax !== TransferSyntax.ExplicitVRBigEndian,
    explicit: meta.transferSyntax !== TransferSyntax.ImplicitVRLittleEndian,
  };
  convertElements(src, out, bytes.length, 0, { bitsAllocated: 0, pixelRepresentation: 0 });
  return out.result();
}
