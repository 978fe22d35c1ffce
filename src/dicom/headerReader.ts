/**
 * Reads the header of a local Part 10 file through a file handle, without reading its
 * Pixel Data: a first chunk, parsed with dicom-parser up to Pixel Data (`untilTag`), grown
 * while the header is longer, up to {@link HeaderLimits.maxHeaderBytes}. Pixel Data is then
 * located by offsets: native by arithmetic, encapsulated (PS3.5 §A.4) by hopping over the
 * 8-byte item headers of its fragments with small positioned reads. A 1 GB multi-frame file
 * costs a few hundred kilobytes of reading.
 *
 * Never throws for what the bytes say: a truncated, malformed or non-DICOM file gives a
 * header with `problems` (one sentence each) and whatever data set could be parsed. Only a
 * file that cannot be opened rejects. Plain Node: no `vscode` import.
 */
import * as dicomParser from 'dicom-parser';
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ParserTag } from './tags';
import { TransferSyntax } from './uids';

/** The stated limits of {@link readDicomHeader}; tests lower them to hit them. */
export interface HeaderLimits {
  /** First read. Default 256 KiB: nearly every header fits. */
  initialBytes: number;
  /** Most bytes read to find the end of the header (Pixel Data). Default 64 MiB. */
  maxHeaderBytes: number;
  /**
   * Most bytes of a deflated file (PS3.5 §A.5) read whole: a deflate stream cannot be
   * entered midway, so its Pixel Data cannot be skipped. Default 256 MiB.
   */
  maxDeflatedFileBytes: number;
  /** Most fragments of encapsulated Pixel Data located. Default 1,048,576. */
  maxFragments: number;
}

export const DEFAULT_HEADER_LIMITS: Readonly<HeaderLimits> = {
  initialBytes: 256 * 1024,
  maxHeaderBytes: 64 * 1024 * 1024,
  maxDeflatedFileBytes: 256 * 1024 * 1024,
  maxFragments: 1_048_576,
};

/** One fragment of encapsulated Pixel Data: where its bytes are in the file. */
export interface PixelDataFragment {
  /** File position of the fragment's first byte (after its item header). */
  offset: number;
  length: number;
  /** Position of its item header relative to the first fragment's item header (for the BOT). */
  itemOffset: number;
  /**
   * Starts with JPEG's SOI marker and a marker (FF D8 FF): where a JPEG frame starts when
   * there is no offset table (read with the item header, at no extra cost).
   */
  startsWithSoi: boolean;
}

/** Where Pixel Data (7FE0,0010) is in the file. */
export interface PixelDataExtent {
  /** File position of the value (native) or of the Basic Offset Table item (encapsulated). */
  dataOffset: number;
  vr: string;
  /** Value length for native Pixel Data; bytes of all fragments for encapsulated. */
  length: number;
  /** Encapsulated (undefined length, PS3.5 §A.4): the offset table and the fragments found. */
  encapsulated?: { basicOffsetTable: number[]; fragments: PixelDataFragment[] };
  /** The file ends before the value does (fragments: the ones found are complete). */
  truncated: boolean;
  /**
   * Encapsulated, fragments not located yet (`deferFragments`): {@link locateFragments}
   * does it, e.g. once the table is on screen and the first frame is asked for.
   */
  fragmentsPending?: boolean;
}

/** Options of {@link readDicomHeader}. */
export interface ReadHeaderOptions {
  /**
   * Leave encapsulated fragments for {@link locateFragments}: their walk costs one small
   * read per fragment (16,000 for a 1 GB file of 64 KiB fragments; far more time on a
   * network drive), and the header alone is enough for a tag table.
   */
  deferFragments?: boolean;
}

export interface DicomHeader {
  path: string;
  fileSize: number;
  /** Bytes read from the start of the file to parse the header. */
  bytesRead: number;
  /** What could be parsed (File Meta merged), or undefined when nothing could. */
  dataSet?: dicomParser.DataSet;
  transferSyntaxUid?: string;
  /** Explicit VR Big Endian (PS3.5 §A.3): numbers outside group 0002 are big endian. */
  bigEndian: boolean;
  pixelData?: PixelDataExtent;
  /** The whole file is in `dataSet.byteArray` (a small deflated file read whole). */
  inMemory: boolean;
  /** What is wrong with the file, one sentence each; empty for a sound file. */
  problems: string[];
}

const PREAMBLE_AND_MAGIC = 132;
const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 0xfffee000;
const SEQUENCE_DELIMITER = 0xfffee0dd;

/**
 * Reads the header of the Part 10 file at `path` (see the module comment).
 * @throws only when the file cannot be opened or read (Node's error)
 */
export async function readDicomHeader(
  path: string,
  limits: Partial<HeaderLimits> = {},
  options: ReadHeaderOptions = {},
): Promise<DicomHeader> {
  const caps = { ...DEFAULT_HEADER_LIMITS, ...limits };
  const handle = await open(path, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    const header: DicomHeader = {
      path,
      fileSize,
      bytesRead: 0,
      bigEndian: false,
      inMemory: false,
      problems: [],
    };
    await parseHeader(handle, header, caps);
    if (header.dataSet) {
      const element = header.dataSet.elements[ParserTag.PixelData];
      if (element && !header.inMemory && element.length === UNDEFINED_LENGTH) {
        // As dicom-parser marks it after a whole parse: readers see it is encapsulated.
        element.encapsulatedPixelData = true;
        const vr = element.vr ?? 'OB';
        const pending = { dataOffset: element.dataOffset, vr, length: 0, truncated: false };
        header.pixelData = { ...pending, fragmentsPending: true };
        if (!options.deferFragments) await walkInto(handle, header, caps);
      } else if (element && !header.inMemory) {
        header.pixelData = nativeExtent(element, header);
      } else if (element) {
        header.pixelData = extentInMemory(element, header);
      }
    }
    return header;
  } finally {
    await handle.close();
  }
}

/** Reads `length` bytes at `offset` of the file (one open, one positioned read). */
export async function readFileRange(
  path: string,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    return await readAt(handle, offset, length);
  } finally {
    await handle.close();
  }
}

async function readAt(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const bytes = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? bytes : bytes.subarray(0, done);
}

/** Fills `header.dataSet` and its problems: the parse loop that grows the chunk. */
async function parseHeader(
  handle: FileHandle,
  header: DicomHeader,
  caps: HeaderLimits,
): Promise<void> {
  const { fileSize } = header;
  if (fileSize < PREAMBLE_AND_MAGIC) {
    header.problems.push(
      `Not a DICOM Part 10 file: it has ${fileSize} bytes, fewer than the 128-byte preamble and "DICM" (PS3.10 §7.1).`,
    );
    return;
  }
  let want = Math.min(fileSize, Math.max(PREAMBLE_AND_MAGIC, caps.initialBytes));
  for (;;) {
    const bytes = await readAt(handle, 0, want);
    header.bytesRead = bytes.length;
    const whole = bytes.length === fileSize;
    if (!hasDicm(bytes)) {
      header.problems.push(
        'Not a DICOM Part 10 file: no "DICM" after the 128-byte preamble (PS3.10 §7.1).',
      );
      return;
    }
    const meta = tryParseMeta(bytes);
    if (meta.dataSet) {
      header.transferSyntaxUid = uidOf(meta.dataSet, ParserTag.TransferSyntaxUID);
      header.bigEndian = header.transferSyntaxUid === TransferSyntax.ExplicitVRBigEndian;
    }
    const deflated = header.transferSyntaxUid === TransferSyntax.DeflatedExplicitVRLittleEndian;
    if (deflated && !whole) {
      if (fileSize > caps.maxDeflatedFileBytes) {
        header.dataSet = meta.dataSet;
        header.problems.push(
          `A deflated file (PS3.5 §A.5) is read whole, and this one (${formatBytes(fileSize)}) is larger than the ${formatBytes(caps.maxDeflatedFileBytes)} allowed: only its File Meta Information is shown.`,
        );
        return;
      }
      want = fileSize;
      continue;
    }
    const attempt = parseUntilPixelData(bytes, meta.dataSet);
    const complete = attempt.failure === undefined && !overruns(attempt.dataSet);
    const reachedPixelData = attempt.dataSet?.elements[ParserTag.PixelData] !== undefined;
    if (!whole && !(complete && reachedPixelData)) {
      if (bytes.length < caps.maxHeaderBytes) {
        want = Math.min(fileSize, bytes.length * 4, caps.maxHeaderBytes);
        continue;
      }
      header.problems.push(
        `The header is longer than the ${formatBytes(caps.maxHeaderBytes)} read to find Pixel Data: the elements after that are not shown.`,
      );
    } else if (!complete) {
      header.problems.push(describeFailure(attempt.failure, fileSize));
    }
    header.dataSet = attempt.dataSet;
    header.inMemory = whole && deflated;
    if (!header.dataSet && header.problems.length === 0)
      header.problems.push('No data element could be read.');
    return;
  }
}

function hasDicm(bytes: Uint8Array): boolean {
  return (
    bytes.length >= PREAMBLE_AND_MAGIC &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

function tryParseMeta(bytes: Buffer): { dataSet?: dicomParser.DataSet } {
  try {
    return { dataSet: dicomParser.readPart10Header(bytes) };
  } catch (error) {
    const partial = splitParserError(error).dataSet;
    return partial ? { dataSet: partial } : {};
  }
}

/** parseDicom up to Pixel Data; on failure the partial data set (with the File Meta merged). */
function parseUntilPixelData(
  bytes: Buffer,
  meta: dicomParser.DataSet | undefined,
): { dataSet?: dicomParser.DataSet; failure?: unknown } {
  try {
    return { dataSet: dicomParser.parseDicom(bytes, { untilTag: ParserTag.PixelData }) };
  } catch (error) {
    const { exception, dataSet } = splitParserError(error);
    const merged = dataSet ?? meta;
    // dicom-parser merges the File Meta only on success; the partial data set needs it too.
    if (merged && meta && merged !== meta) {
      for (const [tag, element] of Object.entries(meta.elements)) merged.elements[tag] ??= element;
    }
    return { dataSet: merged, failure: exception ?? 'unknown parser error' };
  }
}

/** An element whose value runs past the bytes (dicom-parser's implicit VR reader just stops). */
function overruns(dataSet: dicomParser.DataSet | undefined): boolean {
  if (!dataSet) return false;
  const limit = dataSet.byteArray.length;
  return Object.values(dataSet.elements).some(
    (element) =>
      element.tag !== ParserTag.PixelData &&
      element.length !== UNDEFINED_LENGTH &&
      element.dataOffset + element.length > limit,
  );
}

function describeFailure(failure: unknown, fileSize: number): string {
  const message = messageOf(failure);
  if (
    failure === undefined ||
    /past end of buffer|buffer overrun|eof encountered|end of buffer|maxPosition|byteArray' length/i.test(
      message,
    )
  ) {
    return `The file is truncated: it ends (at ${fileSize.toLocaleString('en-US')} bytes) inside a data element; the elements before that are shown.`;
  }
  return `The file is malformed (${message}); the elements read before that are shown.`;
}

/** Pixel Data of a file whose bytes are all in memory (deflated): dicom-parser located it. */
function extentInMemory(element: dicomParser.Element, header: DicomHeader): PixelDataExtent {
  const fragments = element.fragments ?? [];
  if (element.hadUndefinedLength || element.encapsulatedPixelData) {
    return {
      dataOffset: element.dataOffset,
      vr: element.vr ?? 'OB',
      length: fragments.reduce((sum, fragment) => sum + fragment.length, 0),
      encapsulated: {
        basicOffsetTable: element.basicOffsetTable ?? [],
        fragments: fragments.map((fragment) => {
          const bytes = header.dataSet!.byteArray;
          const at = fragment.position;
          return {
            offset: at,
            length: fragment.length,
            itemOffset: fragment.offset,
            startsWithSoi:
              fragment.length >= 3 &&
              bytes[at] === 0xff &&
              bytes[at + 1] === 0xd8 &&
              bytes[at + 2] === 0xff,
          };
        }),
      },
      truncated: false,
    };
  }
  const available = header.dataSet!.byteArray.length - element.dataOffset;
  return {
    dataOffset: element.dataOffset,
    vr: element.vr ?? 'OW',
    length: element.length,
    truncated: element.length > available,
  };
}

/** Native Pixel Data: where its value is, and whether the file holds all of it. */
function nativeExtent(element: dicomParser.Element, header: DicomHeader): PixelDataExtent {
  const vr = element.vr ?? 'OW';
  const available = Math.max(0, header.fileSize - element.dataOffset);
  const truncated = element.length > available;
  if (truncated) {
    header.problems.push(
      `The file is truncated inside Pixel Data: its value needs ${element.length.toLocaleString('en-US')} bytes, the file has ${available.toLocaleString('en-US')} after its header.`,
    );
  }
  return { dataOffset: element.dataOffset, vr, length: element.length, truncated };
}

/** Walks the fragments of `header.pixelData` and fills in what they say. */
async function walkInto(
  handle: FileHandle,
  header: DicomHeader,
  caps: HeaderLimits,
): Promise<void> {
  const extent = header.pixelData!;
  const walk = await walkFragments(handle, extent.dataOffset, header, caps);
  extent.length = walk.fragments.reduce((sum, fragment) => sum + fragment.length, 0);
  extent.encapsulated = { basicOffsetTable: walk.basicOffsetTable, fragments: walk.fragments };
  extent.truncated = walk.truncated;
  extent.fragmentsPending = false;
}

const locating = new WeakMap<DicomHeader, Promise<void>>();

/**
 * Locates the fragments a `deferFragments` read left (once per header, however many
 * callers ask); their problems join `header.problems`. Resolves at once when none are
 * pending.
 */
export function locateFragments(
  header: DicomHeader,
  limits: Partial<HeaderLimits> = {},
): Promise<void> {
  if (!header.pixelData?.fragmentsPending) return Promise.resolve();
  let done = locating.get(header);
  if (!done) {
    done = (async () => {
      const handle = await open(header.path, 'r');
      try {
        await walkInto(handle, header, { ...DEFAULT_HEADER_LIMITS, ...limits });
      } finally {
        await handle.close();
      }
    })();
    locating.set(header, done);
  }
  return done;
}

/**
 * Reads 8-byte item headers. Small fragments come through a 64 KiB window (one read serves
 * many); past a large fragment only the header's bytes are read. The reads are synchronous
 * on the handle's descriptor: an asynchronous read costs a thread-pool round trip each
 * (~15 µs), which for 16,000 fragments alone would pass the editor's 300 ms; the walk
 * yields to the event loop every {@link YIELD_EVERY} fragments instead.
 */
class ItemHeaderReader {
  private window: Buffer = Buffer.alloc(65536);
  private windowStart = 0;
  private windowLength = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly fileSize: number,
    private readonly bigEndian: boolean,
  ) {}

  at(
    position: number,
    lastSkip: number,
  ): { tag: number; length: number; startsWithSoi: boolean } | undefined {
    if (position + 8 > this.fileSize) return undefined;
    if (position < this.windowStart || position + 11 > this.windowStart + this.windowLength) {
      // After a large fragment the next header is alone in its window: read just it and
      // the fragment's first 3 bytes (JPEG's SOI).
      const want = lastSkip > this.window.length / 2 ? 11 : this.window.length;
      this.windowLength = readSync(
        this.handle.fd,
        this.window,
        0,
        Math.min(want, this.fileSize - position),
        position,
      );
      this.windowStart = position;
      if (this.windowLength < 8) return undefined;
    }
    const at = position - this.windowStart;
    const read16 = (o: number): number =>
      this.bigEndian ? this.window.readUInt16BE(at + o) : this.window.readUInt16LE(at + o);
    const length = this.bigEndian
      ? this.window.readUInt32BE(at + 4)
      : this.window.readUInt32LE(at + 4);
    const soi =
      length >= 3 &&
      at + 11 <= this.windowLength &&
      this.window[at + 8] === 0xff &&
      this.window[at + 9] === 0xd8 &&
      this.window[at + 10] === 0xff;
    return { tag: ((read16(0) << 16) | read16(2)) >>> 0, length, startsWithSoi: soi };
  }
}

/** Fragments located between two turns of the event loop. */
const YIELD_EVERY = 4096;

/**
 * Encapsulated Pixel Data (PS3.5 §A.4): the Basic Offset Table item, then one item per
 * fragment, then the Sequence Delimitation Item. Stops (with a problem) at the end of the
 * file, at an unexpected tag, or past {@link HeaderLimits.maxFragments}.
 */
async function walkFragments(
  handle: FileHandle,
  start: number,
  header: DicomHeader,
  caps: HeaderLimits,
): Promise<{ basicOffsetTable: number[]; fragments: PixelDataFragment[]; truncated: boolean }> {
  const reader = new ItemHeaderReader(handle, header.fileSize, header.bigEndian);
  const fragments: PixelDataFragment[] = [];
  let basicOffsetTable: number[] = [];
  let position = start;
  let firstFragment = -1;
  let lastSkip = 0;
  for (let index = 0; ; index++) {
    if (index % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((done) => setImmediate(done));
    const item = reader.at(position, lastSkip);
    if (!item) {
      header.problems.push(
        `The file is truncated inside its encapsulated Pixel Data, after ${fragments.length} fragment(s).`,
      );
      return { basicOffsetTable, fragments, truncated: true };
    }
    if (item.tag === SEQUENCE_DELIMITER) return { basicOffsetTable, fragments, truncated: false };
    if (item.tag !== ITEM || item.length === UNDEFINED_LENGTH) {
      header.problems.push(
        `Encapsulated Pixel Data is malformed: ${hexTag(item.tag)} at byte ${position} where an Item (FFFE,E000) was expected (PS3.5 §A.4).`,
      );
      return { basicOffsetTable, fragments, truncated: true };
    }
    const dataStart = position + 8;
    const fileHasIt = dataStart + item.length <= header.fileSize;
    if (index === 0) {
      // The first item is the Basic Offset Table: 4 bytes per frame, or empty.
      if (fileHasIt && item.length <= caps.maxFragments * 4 && item.length % 4 === 0) {
        basicOffsetTable = readOffsets(await readAt(handle, dataStart, item.length), header);
      }
    } else {
      if (firstFragment < 0) firstFragment = position;
      if (fragments.length >= caps.maxFragments) {
        header.problems.push(
          `Encapsulated Pixel Data has more than ${caps.maxFragments.toLocaleString('en-US')} fragments: only the first ones are located.`,
        );
        return { basicOffsetTable, fragments, truncated: true };
      }
      if (!fileHasIt) {
        header.problems.push(
          `The file is truncated inside fragment ${fragments.length + 1} of its encapsulated Pixel Data.`,
        );
        return { basicOffsetTable, fragments, truncated: true };
      }
      fragments.push({
        offset: dataStart,
        length: item.length,
        itemOffset: position - firstFragment,
        startsWithSoi: item.startsWithSoi,
      });
    }
    position = dataStart + item.length;
    lastSkip = item.length;
  }
}

function readOffsets(bytes: Buffer, header: DicomHeader): number[] {
  const offsets: number[] = [];
  for (let at = 0; at + 4 <= bytes.length; at += 4) {
    offsets.push(header.bigEndian ? bytes.readUInt32BE(at) : bytes.readUInt32LE(at));
  }
  return offsets;
}

/** A UI value without its padding (PS3.5 §6.2), or undefined. */
function uidOf(dataSet: dicomParser.DataSet, tag: string): string | undefined {
  const element = dataSet.elements[tag];
  if (!element || element.dataOffset + element.length > dataSet.byteArray.length) return undefined;
  const raw = Buffer.from(
    dataSet.byteArray.buffer,
    dataSet.byteArray.byteOffset + element.dataOffset,
    element.length,
  ).toString('latin1');
  return raw.replace(/[\0 ]+$/, '').trim() || undefined;
}

/** dicom-parser throws strings, Errors, or `{ exception, dataSet }` (parseDicom). */
function splitParserError(error: unknown): { exception: unknown; dataSet?: dicomParser.DataSet } {
  if (error && typeof error === 'object' && 'exception' in error) {
    const wrapped = error as { exception: unknown; dataSet?: dicomParser.DataSet };
    return { exception: wrapped.exception, dataSet: wrapped.dataSet };
  }
  if (error && typeof error === 'object' && 'dataSet' in error) {
    return { exception: error, dataSet: (error as { dataSet?: dicomParser.DataSet }).dataSet };
  }
  return { exception: error };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : String(error);
}

/** "64 MiB", "1.5 GiB": a size as the limits and messages state it. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number(value.toFixed(1))} ${units[unit]}`;
}

function hexTag(tag: number): string {
  const hex = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}
