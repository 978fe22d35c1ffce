/**
 * WADO-RS (PS3.18 §10.4) for the local server: instances (multipart and Azure's single-part
 * `application/dicom`), metadata, frames and bulk data, served from the stored files.
 *
 * Transfer syntaxes, as the Azure DICOM service answers them: `transfer-syntax=*` returns what
 * is stored; Explicit VR Little Endian (the default, PS3.18 §8.7.3.5.2) is served for instances
 * stored in it and, converted byte by byte (src/dicom/transcode.ts), for those stored Implicit
 * VR or Big Endian; frames and bulk data of any uncompressed encoding are native little endian
 * (pixel bytes byte swapped from big endian). Compressed instances cannot be decoded here (the
 * decoders live in the webview): anything else is 406 Not Acceptable (PS3.18 §8.7.3.5.2), with
 * a message naming what is stored and the Accept that gets it.
 *
 * Plain Node: no `vscode` import.
 */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mediaTypeOf } from '../mime/contentType';
import {
  multipartBody,
  multipartContentType,
  multipartLength,
  newBoundary,
  type MultipartWriterPart,
} from '../mime/multipart';
import {
  NATIVE_TRANSFER_SYNTAXES,
  TransferSyntax,
  isEncapsulatedTransferSyntax,
  transferSyntaxName,
} from '../dicom/uids';
import {
  CONVERTIBLE_TO_EXPLICIT_LE,
  TranscodeError,
  toExplicitVrLittleEndian,
} from '../dicom/transcode';
import type { InstanceNode } from './catalog';
import {
  PIXEL_DATA_TAG,
  elementAtPath,
  encapsulatedFrame,
  frameGeometry,
  frameMediaType,
  openForReading,
  readInstanceBytes,
  readInstanceHeader,
  readWholeInstance,
  swapBytes,
  valueBytes,
} from './dicomFiles';
import { dataSetToJson, type JsonDataset } from '../dicom/dataSetJson';
import { openStoredStream, storedFile, storedFileChunks, type StoredFile } from './jail';
import {
  HttpError,
  innerTypeOfRange,
  parseAccept,
  sendJson,
  transferSyntaxOfRange,
  type AcceptRange,
} from './httpUtil';
import { Tag } from '../dicom/tags';
import { serverDecoderDeps } from '../imaging/node/codecLoader';
import { decodeGate } from './decodeGate';
import {
  decodeStoredFrame,
  decodeToExplicitVrLittleEndian,
  isDecodableTransferSyntax,
  nativeBytes,
} from './decodedTranscode';
import { imageInfoFromDataSet } from '../imaging/header/imageInfo';

const ELE = TransferSyntax.ExplicitVRLittleEndian;

/** Builds the BulkDataURI of an element of an instance. */
export type BulkDataUriOf = (node: InstanceNode, path: string[]) => string;

/**
 * Older names of frame media types that clients still send, and the names PS3.18 Table 8.7.3-5
 * gives them (the Azure DICOM service accepts both).
 */
const LEGACY_MEDIA_TYPES: Readonly<Record<string, string>> = {
  'image/x-dicom-rle': 'image/dicom-rle',
  'image/x-jls': 'image/jls',
};

/** parseAccept, with legacy media types (also inside a multipart `type=`) renamed. */
export function parseDicomAccept(accept: string | undefined): AcceptRange[] {
  return parseAccept(accept).map((range) => {
    const mediaType = LEGACY_MEDIA_TYPES[range.mediaType] ?? range.mediaType;
    const inner = innerTypeOfRange(range);
    const renamed = inner && LEGACY_MEDIA_TYPES[inner];
    const params = renamed
      ? { ...range.params, type: range.params.type!.replace(/^\s*[^;\s]+/, renamed) }
      : range.params;
    return { ...range, mediaType, params };
  });
}

function isMultipartRange(range: AcceptRange): boolean {
  return (
    range.mediaType === 'multipart/related' ||
    range.mediaType === 'multipart/*' ||
    range.mediaType === '*/*'
  );
}

/** How one stored instance answers a range: as stored, or converted to Explicit VR LE. */
type InstanceEncoding = 'stored' | 'converted';

/**
 * PS3.18 §8.7.3.5.2: no transfer-syntax parameter means Explicit VR Little Endian; `*` lets
 * the origin server pick, and we pick the stored encoding (as the Azure DICOM service does:
 * "transfer-syntax=*" returns the file as uploaded). Stored Implicit VR or Big Endian instances
 * are converted for an Explicit VR LE answer, as the Azure service transcodes them. Azure's
 * conformance statement (v2, "Retrieve an Instance"): `*\/*` without a transfer syntax means
 * `*`, so an absent Accept (RFC 9110 §12.5.1: `*\/*`) gets the file as stored.
 */
function instanceEncoding(
  node: InstanceNode,
  asked: string | undefined,
  maxTranscodeBytes: number,
): InstanceEncoding | undefined {
  // No transfer-syntax parameter means Explicit VR Little Endian (PS3.18 §8.7.3.5.2): an
  // instance stored so is served as it is.
  const wanted = asked ?? ELE;
  if (asked === '*' || wanted === node.transferSyntaxUid) return 'stored';
  if (
    wanted === ELE &&
    (CONVERTIBLE_TO_EXPLICIT_LE.has(node.transferSyntaxUid) ||
      isDecodableTransferSyntax(node.transferSyntaxUid)) &&
    node.size <= maxTranscodeBytes
  )
    return 'converted';
  return undefined;
}

/**
 * The file of one instance in Explicit VR Little Endian, converted in memory: byte by byte
 * from Implicit VR or Big Endian (src/dicom/transcode.ts), decoded from a compressed syntax
 * (decodedTranscode.ts; the answer is at most `maxBytes` too). A compressed instance that
 * cannot be decoded is 406, as the Azure DICOM service answers a failed transcoding
 * (dicom-server: TranscodingException → 406 Not Acceptable).
 */
async function convertedInstance(
  dir: string,
  node: InstanceNode,
  maxBytes = Infinity,
): Promise<Uint8Array> {
  const bytes = await readInstanceBytes(storedFile(dir, node.file));
  try {
    if (isEncapsulatedTransferSyntax(node.transferSyntaxUid))
      return await decodeGate.run(() =>
        decodeToExplicitVrLittleEndian(bytes, serverDecoderDeps(), maxBytes),
      );
    return toExplicitVrLittleEndian(bytes);
  } catch (error) {
    if (error instanceof HttpError) throw error; // 503 of the decode gate
    if (isEncapsulatedTransferSyntax(node.transferSyntaxUid) && error instanceof Error)
      throw new HttpError(
        406,
        `instance ${node.uid} (stored ${transferSyntaxName(node.transferSyntaxUid)}, ${node.transferSyntaxUid}) could not be decoded to Explicit VR Little Endian: ${error.message}; ask for it as stored with Accept: multipart/related; type="application/dicom"; transfer-syntax=${node.transferSyntaxUid}`,
      );
    if (!(error instanceof TranscodeError)) throw error;
    throw new HttpError(
      500,
      `instance ${node.uid} (stored ${transferSyntaxName(node.transferSyntaxUid)}) could not be converted to Explicit VR Little Endian: ${error.message}`,
    );
  }
}

/**
 * `GET /studies/{s}[/series/{x}[/instances/{i}]]`: the instances as multipart/related
 * application/dicom (PS3.18 §10.4.1.1.1), or, for one instance, the bare file when
 * `Accept: application/dicom` (the Azure DICOM service's single-part form, used by the seed).
 */
export async function retrieveInstances(
  res: ServerResponse,
  dir: string,
  nodes: InstanceNode[],
  accept: string | undefined,
  singleInstance: boolean,
  maxTranscodeBytes = Infinity,
): Promise<void> {
  for (const range of parseDicomAccept(accept)) {
    const asked = transferSyntaxOfRange(range) ?? (range.mediaType === '*/*' ? '*' : undefined);
    const encodings = nodes.map((node) => instanceEncoding(node, asked, maxTranscodeBytes));
    if (encodings.some((e) => !e)) continue;
    if (range.mediaType === 'application/dicom' && singleInstance) {
      await sendSingleInstance(res, dir, nodes[0]!, encodings[0]!, maxTranscodeBytes);
      return;
    }
    if (!isMultipartRange(range)) continue;
    const inner = innerTypeOfRange(range);
    if (inner && inner !== 'application/dicom' && inner !== '*/*') continue;
    await sendInstancesMultipart(
      res,
      dir,
      nodes,
      encodings as InstanceEncoding[],
      maxTranscodeBytes,
    );
    return;
  }
  throw new HttpError(406, notAcceptableInstances(nodes, accept, maxTranscodeBytes));
}

/** The 406 sentence: what is stored, and the Accept that gets it. */
function notAcceptableInstances(
  nodes: InstanceNode[],
  accept: string | undefined,
  maxTranscodeBytes: number,
): string {
  const stored = [...new Set(nodes.map((node) => node.transferSyntaxUid))];
  const names = stored.map((uid) => `${transferSyntaxName(uid)} (${uid})`).join(', ');
  const tooLarge = nodes.find(
    (node) =>
      (CONVERTIBLE_TO_EXPLICIT_LE.has(node.transferSyntaxUid) ||
        isDecodableTransferSyntax(node.transferSyntaxUid)) &&
      node.size > maxTranscodeBytes,
  );
  const why = tooLarge
    ? `instance ${tooLarge.uid} (${tooLarge.size} bytes) is over the ${maxTranscodeBytes}-byte limit of conversion`
    : 'the local server converts Implicit VR, Big Endian and the compressed syntaxes its decoders read (RLE, JPEG, JPEG-LS, JPEG 2000, HTJ2K) to Explicit VR Little Endian, not this one';
  const how =
    stored.length === 1
      ? `Accept: multipart/related; type="application/dicom"; transfer-syntax=${stored[0]}`
      : 'Accept: multipart/related; type="application/dicom"; transfer-syntax=*';
  return `cannot serve "${accept ?? ''}": stored as ${names}, and ${why}; ask for it as stored with ${how}`;
}

async function sendSingleInstance(
  res: ServerResponse,
  dir: string,
  node: InstanceNode,
  encoding: InstanceEncoding,
  maxBytes = Infinity,
): Promise<void> {
  if (encoding === 'converted') {
    const bytes = await convertedInstance(dir, node, maxBytes);
    res.writeHead(200, {
      'content-type': `application/dicom; transfer-syntax=${ELE}`,
      'content-length': bytes.byteLength,
    });
    res.end(bytes);
    return;
  }
  // Opened (through the jail) before the headers, so a refused file is a 404, not a cut answer.
  const stream = await openStoredStream(dir, node.file);
  res.writeHead(200, {
    'content-type': `application/dicom; transfer-syntax=${node.transferSyntaxUid}`,
    'content-length': node.size,
  });
  await pipeline(stream, res);
}

/**
 * The instances as multipart/related (PS3.18 §8.7.3.3.2). With no conversion the answer has a
 * Content-Length; a converted instance's length is known only once converted, so then the
 * answer is chunked, converting one instance at a time as the response drains (memory: one
 * instance and its copy, whatever the study's size).
 */
async function sendInstancesMultipart(
  res: ServerResponse,
  dir: string,
  nodes: InstanceNode[],
  encodings: InstanceEncoding[],
  maxBytes = Infinity,
): Promise<void> {
  const boundary = newBoundary();
  const types = nodes.map(
    (node, i) =>
      `application/dicom; transfer-syntax=${encodings[i] === 'converted' ? ELE : node.transferSyntaxUid}`,
  );
  const anyConverted = encodings.includes('converted');
  // The first converted instance is converted before the headers: a file that cannot be
  // converted is a clear 500, not a cut answer (for a single instance, the usual case).
  const firstConverted = encodings.indexOf('converted');
  const early =
    firstConverted >= 0
      ? await convertedInstance(dir, nodes[firstConverted]!, maxBytes)
      : undefined;
  res.writeHead(200, {
    'content-type': multipartContentType(boundary),
    ...(anyConverted
      ? {}
      : {
          'content-length': multipartLength(
            nodes.map((node) => node.size),
            types,
            boundary,
          ),
        }),
  });
  async function* convertedBody(i: number): AsyncGenerator<Uint8Array> {
    yield i === firstConverted ? early! : await convertedInstance(dir, nodes[i]!, maxBytes);
  }
  const parts = nodes.map((node, i): MultipartWriterPart =>
    encodings[i] === 'converted'
      ? { contentType: types[i]!, body: convertedBody(i) }
      : {
          contentType: types[i]!,
          body: storedFileChunks(storedFile(dir, node.file)),
          length: node.size,
        },
  );
  await pipeline(Readable.from(multipartBody(parts, boundary)), res);
}

/** `GET …/metadata` at three levels (PS3.18 §10.4.1.1.2): one DICOM JSON dataset per instance. */
export async function retrieveMetadata(
  res: ServerResponse,
  dir: string,
  nodes: InstanceNode[],
  bulkDataUri: BulkDataUriOf,
): Promise<void> {
  const out: JsonDataset[] = new Array(nodes.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < nodes.length) {
      const index = next++;
      const node = nodes[index]!;
      const header = await readInstanceHeader(storedFile(dir, node.file));
      out[index] = dataSetToJson(header.dataSet, {
        bulkDataUri: (path) => bulkDataUri(node, path),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, nodes.length) }, worker));
  sendJson(res, 200, out);
}

/**
 * Parses `1`, `1,2,3` (PS3.18 §10.4.1.1.3); 400 for anything else. PS3.18 asks for a list
 * of non-duplicate frame numbers: a repeated number is served once, in the order of its
 * first occurrence (one copy, not one per repetition: `frames/1,1,1,…` cannot multiply a
 * frame). A list of more than `maxLength` entries is 400 (limits.ts MAX_FRAME_LIST_LENGTH).
 */
export function parseFrameList(text: string, maxLength = Infinity): number[] {
  if (!/^\d+(,\d+)*$/.test(text))
    throw new HttpError(
      400,
      `"${text.slice(0, 40)}" is not a frame list (frame numbers start at 1, separated by commas)`,
    );
  const entries = text.split(',');
  if (entries.length > maxLength)
    throw new HttpError(
      400,
      `a frame list may name at most ${maxLength} frames; this one names ${entries.length}`,
    );
  const frames = [...new Set(entries.map(Number))];
  if (frames.some((n) => n < 1 || !Number.isSafeInteger(n)))
    throw new HttpError(400, 'frame numbers start at 1 (PS3.18 §10.4.1.1.3)');
  return frames;
}

/**
 * The transfer syntax a frame media type means when the range names none (PS3.18 Table
 * 8.7.3-5, the "default" rows); `application/octet-stream` and anything else mean Explicit VR
 * Little Endian.
 */
const DEFAULT_SYNTAX_OF_MEDIA_TYPE: Readonly<Record<string, string>> = {
  'image/jpeg': TransferSyntax.JPEGBaseline8Bit,
  'image/dicom-rle': TransferSyntax.RLELossless,
  'image/jls': TransferSyntax.JPEGLSLossless,
  'image/jp2': TransferSyntax.JPEG2000Lossless,
};

function frameSyntaxOfRange(range: AcceptRange): string {
  const asked = transferSyntaxOfRange(range);
  if (asked) return asked;
  // Azure v2, "Retrieve Frames": `*\/*` without a transfer syntax means `*`.
  if (range.mediaType === '*/*') return '*';
  const type = isMultipartRange(range) ? innerTypeOfRange(range) : range.mediaType;
  return DEFAULT_SYNTAX_OF_MEDIA_TYPE[type ?? ''] ?? ELE;
}

interface FrameChoice {
  /**
   * The `*` or asked syntax: 'stored' keeps the encoding, 'ele' gives native little endian,
   * 'decoded' decodes a compressed frame to native little endian (decodedTranscode.ts).
   */
  mode: 'stored' | 'ele' | 'decoded';
  multipart: boolean;
}

function chooseFrameEncoding(
  accept: string | undefined,
  stored: string,
  frameCount: number,
): FrameChoice {
  const native =
    NATIVE_TRANSFER_SYNTAXES.has(stored) ||
    stored === TransferSyntax.DeflatedExplicitVRLittleEndian;
  const storedType = frameMediaType(stored);
  const decodable = isDecodableTransferSyntax(stored);
  for (const range of parseDicomAccept(accept)) {
    const asked = frameSyntaxOfRange(range);
    const mode: FrameChoice['mode'] | undefined =
      asked === '*' || asked === stored
        ? native
          ? 'ele'
          : 'stored'
        : asked === ELE && native
          ? 'ele'
          : asked === ELE && decodable
            ? 'decoded'
            : undefined;
    if (!mode) continue;
    const type = mode === 'stored' ? storedType : 'application/octet-stream';
    if (isMultipartRange(range)) {
      const inner = innerTypeOfRange(range);
      if (
        !inner ||
        inner === type ||
        inner === '*/*' ||
        (inner === 'application/octet-stream' && mode !== 'stored')
      )
        return { mode, multipart: true };
      // `type="application/octet-stream"; transfer-syntax=*` asks the stored encoding with its own
      // type (PS3.18 §8.7.3.5.2).
      if (inner === 'application/octet-stream' && asked === '*') return { mode, multipart: true };
      continue;
    }
    if (
      frameCount === 1 &&
      (range.mediaType === type ||
        range.mediaType === 'application/octet-stream' ||
        range.mediaType === 'image/*')
    ) {
      return { mode, multipart: false };
    }
  }
  throw new HttpError(
    406,
    native
      ? `frames are stored as ${transferSyntaxName(stored)} (${stored}) and served as native Explicit VR Little Endian: ask Accept: multipart/related; type="application/octet-stream"`
      : decodable
        ? `frames are stored as ${transferSyntaxName(stored)} (${stored}): ask for them decoded with Accept: multipart/related; type="application/octet-stream", or as stored with Accept: multipart/related; type="${storedType}"; transfer-syntax=${stored}`
        : `frames are stored as ${transferSyntaxName(stored)} (${stored}), which the local server cannot decode; ask for them as stored with Accept: multipart/related; type="${storedType}"; transfer-syntax=${stored}`,
  );
}

/** `GET …/frames/{list}` (PS3.18 §10.4.1.1.3). */
export async function retrieveFrames(
  res: ServerResponse,
  dir: string,
  node: InstanceNode,
  frameList: string,
  accept: string | undefined,
  maxFrameListLength = Infinity,
): Promise<void> {
  const frames = parseFrameList(frameList, maxFrameListLength);
  const path = storedFile(dir, node.file);
  const header = await readInstanceHeader(path);
  const geometry = frameGeometry(header.dataSet);
  const pixelData = header.dataSet.elements[PIXEL_DATA_TAG];
  if (!geometry || !pixelData)
    throw new HttpError(400, 'the instance has no pixel data, so no frames');
  const outOfRange = frames.filter((n) => n > geometry.numberOfFrames);
  if (outOfRange.length) {
    throw new HttpError(
      400,
      `frame ${outOfRange.slice(0, 10).join(',')} does not exist: the instance has ${geometry.numberOfFrames} frame(s)`,
    );
  }
  const stored = header.transferSyntaxUid;
  const choice = chooseFrameEncoding(accept, stored, frames.length);
  const source =
    choice.mode === 'decoded'
      ? await openDecodedFrames(path, node, frames)
      : await openFrames(
          path,
          header,
          frames,
          geometry.frameBytes,
          geometry.numberOfFrames,
          geometry.bitsAllocated,
        );
  try {
    const type =
      choice.mode !== 'stored'
        ? `application/octet-stream; transfer-syntax=${ELE}`
        : `${frameMediaType(stored)}; transfer-syntax=${stored}`;
    await sendBinaryParts(res, source.parts, type, choice.multipart, frames);
  } finally {
    await source.close();
  }
}

/** One part of an answer whose bytes are produced only when the writer reaches it. */
interface LazyPart {
  length: number;
  read(): Promise<Uint8Array> | Uint8Array;
}

/**
 * The asked frames as lazy parts: a frame is read (or swapped) only when the answer reaches
 * it, so a long frame list holds one frame in memory at a time, not all of them.
 */
async function openFrames(
  path: StoredFile,
  header: Awaited<ReturnType<typeof readInstanceHeader>>,
  frames: number[],
  frameBytes: number,
  numberOfFrames: number,
  bitsAllocated: number,
): Promise<{ parts: LazyPart[]; close(): Promise<void> }> {
  const stored = header.transferSyntaxUid;
  const none = async (): Promise<void> => undefined;
  if (isEncapsulatedTransferSyntax(stored)) {
    // Encapsulated fragments are views into the file read once (subarrays, no copies).
    const whole = await readWholeInstance(path);
    return {
      parts: frames.map((n) => eager(encapsulatedFrame(whole, n, numberOfFrames))),
      close: none,
    };
  }
  const bigEndian = stored === TransferSyntax.ExplicitVRBigEndian;
  const swap = (bytes: Uint8Array) =>
    bigEndian && bitsAllocated > 8 ? swapBytes(bytes, bitsAllocated / 8) : bytes;
  if (header.whole || stored === TransferSyntax.DeflatedExplicitVRLittleEndian) {
    const dataSet = header.whole ? header.dataSet : await readWholeInstance(path);
    const element = dataSet.elements[PIXEL_DATA_TAG]!;
    const frameAt = (n: number) =>
      dataSet.byteArray.subarray(
        element.dataOffset + (n - 1) * frameBytes,
        element.dataOffset + n * frameBytes,
      );
    return {
      parts: frames.map((n) => ({ length: frameBytes, read: () => swap(frameAt(n)) })),
      close: none,
    };
  }
  const element = header.dataSet.elements[PIXEL_DATA_TAG]!;
  const handle = await openForReading(path);
  const read = async (n: number): Promise<Uint8Array> => {
    const buffer = Buffer.alloc(frameBytes);
    const { bytesRead } = await handle.read(
      buffer,
      0,
      frameBytes,
      element.dataOffset + (n - 1) * frameBytes,
    );
    if (bytesRead !== frameBytes)
      throw new HttpError(400, `frame ${n} runs past the end of the stored file`);
    return swap(buffer);
  };
  // The first frame is read before the answer starts, so a short file is still a 400, not a cut
  // answer.
  const first = await read(frames[0]!).catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  return {
    parts: frames.map((n, i) =>
      i === 0 ? eager(first) : { length: frameBytes, read: () => read(n) },
    ),
    close: () => handle.close(),
  };
}

/**
 * Compressed frames decoded to native little endian, one at a time as the answer drains; the
 * first before the answer starts, so a frame the decoders cannot read is a 406 (as Azure
 * answers a failed transcoding), not a cut answer.
 */
async function openDecodedFrames(
  path: StoredFile,
  node: InstanceNode,
  frames: number[],
): Promise<{ parts: LazyPart[]; close(): Promise<void> }> {
  const dataSet = await readWholeInstance(path);
  const notDecoded = (error: unknown): never => {
    if (error instanceof HttpError) throw error; // 503 of the decode gate
    throw new HttpError(
      406,
      `frames of instance ${node.uid} (stored ${transferSyntaxName(node.transferSyntaxUid)}, ${node.transferSyntaxUid}) could not be decoded: ${(error as Error).message}; ask for them as stored with Accept: multipart/related; type="${frameMediaType(node.transferSyntaxUid)}"; transfer-syntax=${node.transferSyntaxUid}`,
    );
  };
  const deps = serverDecoderDeps();
  let info;
  try {
    info = imageInfoFromDataSet(dataSet);
  } catch (error) {
    return notDecoded(error);
  }
  const decoded = info;
  const read = (n: number): Promise<Uint8Array> =>
    decodeGate.run(async () =>
      nativeBytes([await decodeStoredFrame(dataSet, decoded, n, deps)], decoded.bitsAllocated),
    );
  const first = await read(frames[0]!).catch(notDecoded);
  return {
    parts: frames.map((n, i) =>
      i === 0 ? eager(first) : { length: first.byteLength, read: () => read(n) },
    ),
    close: async () => undefined,
  };
}

function eager(bytes: Uint8Array): LazyPart {
  return { length: bytes.byteLength, read: () => bytes };
}

/**
 * Writes parts as one body or multipart/related (PS3.18 §8.7.3.3.2). The parts are produced
 * one at a time as the response drains (pipeline honours backpressure): memory holds about
 * one part, whatever their number.
 */
async function sendBinaryParts(
  res: ServerResponse,
  parts: LazyPart[],
  type: string,
  multipart: boolean,
  frames?: number[],
): Promise<void> {
  if (!multipart) {
    const bytes = await parts[0]!.read();
    res.writeHead(200, { 'content-type': type, 'content-length': bytes.byteLength });
    res.end(bytes);
    return;
  }
  const boundary = newBoundary();
  const headers = parts.map((_, i) =>
    frames ? { 'Content-Location': `frames/${frames[i]}` } : undefined,
  );
  const length = multipartLength(
    parts.map((p) => p.length),
    type,
    boundary,
    headers,
  );
  res.writeHead(200, {
    'content-type': multipartContentType(boundary, mediaTypeOf(type)),
    'content-length': length,
  });
  async function* writerParts(): AsyncGenerator<MultipartWriterPart> {
    for (let i = 0; i < parts.length; i++) {
      const body = await parts[i]!.read();
      yield {
        contentType: type,
        body,
        length: parts[i]!.length,
        ...(headers[i] ? { headers: headers[i] } : {}),
      };
    }
  }
  // Byte mode: the stream reads ahead one chunk, not 16 frames (object mode's highWaterMark).
  await pipeline(Readable.from(multipartBody(writerParts(), boundary), { objectMode: false }), res);
}

/**
 * `GET …/bulkdata/{tag}[/{item}/{tag}…]`: the value of a bulk data element named by a
 * BulkDataURI of the metadata (PS3.18 §10.4.1.1.5), as multipart/related
 * application/octet-stream (or bare with `Accept: application/octet-stream`). Encapsulated
 * Pixel Data comes back one part per frame in its stored media type.
 */
export async function retrieveBulkData(
  res: ServerResponse,
  dir: string,
  node: InstanceNode,
  pathSegments: string[],
  accept: string | undefined,
): Promise<void> {
  if (
    pathSegments.length % 2 !== 1 ||
    pathSegments.some((s, i) => (i % 2 === 0 ? !/^[0-9A-Fa-f]{8}$/.test(s) : !/^\d+$/.test(s)))
  ) {
    throw new HttpError(400, 'a bulk data path is tag[/item/tag…] with 8-digit hex tags');
  }
  const path = storedFile(dir, node.file);
  const header = await readInstanceHeader(path);
  const dataSet = header.whole ? header.dataSet : await readWholeInstance(path);
  const element = elementAtPath(dataSet, pathSegments);
  if (!element) throw new HttpError(404, `no element ${pathSegments.join('/')} in this instance`);
  const ranges = parseDicomAccept(accept);
  const single = ranges[0]?.mediaType === 'application/octet-stream';
  if (
    pathSegments.length === 1 &&
    pathSegments[0]!.toUpperCase() === Tag.PixelData &&
    isEncapsulatedTransferSyntax(header.transferSyntaxUid)
  ) {
    const geometry = frameGeometry(dataSet);
    const count = geometry?.numberOfFrames ?? 1;
    const frames = Array.from({ length: count }, (_, i) =>
      eager(encapsulatedFrame(dataSet, i + 1, count)),
    );
    await sendBinaryParts(
      res,
      frames,
      `${frameMediaType(header.transferSyntaxUid)}; transfer-syntax=${header.transferSyntaxUid}`,
      !single || frames.length > 1,
    );
    return;
  }
  const bytes = valueBytes(dataSet, element);
  if (!bytes) throw new HttpError(404, `element ${pathSegments.join('/')} has no value`);
  await sendBinaryParts(res, [eager(bytes)], 'application/octet-stream', !single);
}
