/**
 * WADO-RS reads into memory or one part at a time (PS3.18 §10.4): metadata, the single
 * instance file, frames, rendered images and bulk data. The streamed multipart retrieve of
 * a whole study or series is the session's own (session.ts), since downloads use it too.
 */
import type { DicomJsonDataset } from '../dicom/types';
import { readWholeBody } from '../mime/body';
import { parseContentType, readPartBody } from '../mime/multipart';
import { parseJsonArray } from './answers';
import { partsOf, type RetrievedPart } from './parts';
import {
  framesRequest,
  metadataRequest,
  renderedRequest,
  retrieveInstanceSinglePartRequest,
  retrieveRequest,
  type FramesOptions,
  type InstancePath,
  type RenderedOptions,
  type RetrieveOptions,
} from './requests';
import type { DicomWebSession, RequestOptions } from './session';
import { DicomWebError } from './transport/errors';
import type { HttpResponse } from './transport/http';

export interface Frame {
  frameNumber: number;
  /** Media type of the part: `application/octet-stream` or the stored encoding (`image/jp2` …). */
  mediaType: string;
  /** The part's transfer-syntax parameter, when the server named one. */
  transferSyntaxUid?: string;
  data: Uint8Array;
}

export interface RetrievedBinary {
  mediaType: string;
  data: Uint8Array;
}

/** `GET …/metadata` at any level (PS3.18 §10.4.1.1.2): a JSON array of datasets. */
export async function retrieveMetadata(
  session: DicomWebSession,
  target: InstancePath,
  options: RequestOptions = {},
): Promise<DicomJsonDataset[]> {
  const spec = metadataRequest(target);
  const { response, bytes } = await session.sendForBytes(spec, 'json', options.signal);
  return parseJsonArray(bytes, response);
}

/**
 * The seed's single-part instance retrieve (`Accept: application/dicom; transfer-syntax=*`),
 * an Azure form; on servers without it (Orthanc answers 400) the multipart form is used.
 * The body streams.
 */
export async function retrieveInstanceFile(
  session: DicomWebSession,
  target: Required<InstancePath>,
  options: RetrieveOptions & RequestOptions = {},
): Promise<RetrievedPart> {
  if (session.serverProfile.capabilities.singlePartRetrieve) {
    const spec = retrieveInstanceSinglePartRequest(target, options);
    const response = await session.send(spec, {
      signal: options.signal,
      minimumRate: session.transport.limits.minimumRate,
    });
    const type = response.headers['content-type'] ?? 'application/dicom';
    if (!type.toLowerCase().startsWith('multipart/')) {
      const { mediaType, params } = parseContentType(type);
      return {
        mediaType,
        transferSyntaxUid: params['transfer-syntax'],
        headers: response.headers,
        body: response.body,
      };
    }
    for await (const part of partsOf(response, options.signal)) return part;
    throw new DicomWebError('MALFORMED_RESPONSE', 'the multipart answer held no instance', {
      method: 'GET',
      url: response.url,
    });
  }
  for await (const part of session.retrieve(target, options)) return part;
  throw new DicomWebError('MALFORMED_RESPONSE', 'the multipart answer held no instance', {
    method: 'GET',
    url: session.urlOf(retrieveRequest(target, options)),
  });
}

/**
 * `GET …/frames/{list}` (PS3.18 §10.4.1.1.3). With `transferSyntax: '*'` each frame comes
 * back in its stored encoding with its own media type; without, the server's default
 * (Explicit VR Little Endian pixels as application/octet-stream).
 */
export async function retrieveInstanceFrames(
  session: DicomWebSession,
  target: Required<InstancePath>,
  frameNumbers: ReadonlyArray<number>,
  options: FramesOptions & RequestOptions = {},
): Promise<Frame[]> {
  const spec = framesRequest(target, frameNumbers, options);
  const response = await session.send(spec, {
    signal: options.signal,
    ...session.inMemory('binary'),
  });
  const contentType = response.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/')) {
    // Some servers answer a single frame as a bare body (capped by the transport).
    const type = contentType
      ? parseContentType(contentType)
      : { mediaType: 'application/octet-stream', params: {} };
    return [
      {
        frameNumber: frameNumbers[0],
        mediaType: type.mediaType,
        transferSyntaxUid: type.params['transfer-syntax'],
        data: await readWholeBody(response.body),
      },
    ];
  }
  return framesOfParts(response, frameNumbers, options.signal);
}

/** The frames of a multipart answer, numbered as asked; a count other than asked is malformed. */
async function framesOfParts(
  response: HttpResponse,
  frameNumbers: ReadonlyArray<number>,
  signal?: AbortSignal,
): Promise<Frame[]> {
  const frames: Frame[] = [];
  let index = 0;
  for await (const part of partsOf(response, signal)) {
    const data = await readPartBody(part);
    frames.push({
      frameNumber: frameNumbers[index] ?? index + 1,
      mediaType: part.mediaType,
      transferSyntaxUid: part.transferSyntaxUid,
      data,
    });
    index++;
  }
  if (frames.length !== frameNumbers.length) {
    throw new DicomWebError(
      'MALFORMED_RESPONSE',
      `asked for ${frameNumbers.length} frame(s), got ${frames.length}`,
      {
        method: 'GET',
        url: response.url,
      },
    );
  }
  return frames;
}

/** `GET …/rendered` or `…/frames/{n}/rendered` as PNG (default) or JPEG (PS3.18 §10.4.1.1.5). */
export async function retrieveRendered(
  session: DicomWebSession,
  target: Required<InstancePath>,
  frame?: number,
  options: RenderedOptions & RequestOptions = {},
): Promise<RetrievedBinary> {
  const spec = renderedRequest(target, frame, options);
  const { response, bytes } = await session.sendForBytes(spec, 'binary', options.signal);
  return {
    mediaType: parseContentType(response.headers['content-type'] ?? spec.headers.accept).mediaType,
    data: bytes,
  };
}

/**
 * Fetches a BulkDataURI (absolute, or relative to the service URL) and returns its parts.
 * `multipart/related; type="application/octet-stream"` is asked for, as §8.7.3.5 defines.
 */
export async function retrieveBulkData(
  session: DicomWebSession,
  uri: string,
  options: RequestOptions = {},
): Promise<RetrievedBinary[]> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) && !/^https?:\/\//i.test(uri)) {
    throw new DicomWebError(
      'INVALID_REQUEST',
      `the BulkDataURI ${JSON.stringify(uri.slice(0, 80))} is not an http: or https: URL`,
    );
  }
  // Another origin is fetched without this connection's credentials (origins.ts).
  const url = /^https?:\/\//i.test(uri) ? uri : `${session.baseUrl}/${uri.replace(/^\/+/, '')}`;
  const response = await session.transport.send({
    method: 'GET',
    url,
    headers: { accept: 'multipart/related; type="application/octet-stream"' },
    signal: options.signal,
    ...session.inMemory('binary'),
  });
  const contentType = response.headers['content-type'] ?? 'application/octet-stream';
  if (!contentType.toLowerCase().startsWith('multipart/')) {
    // A bare body (capped by the transport) is the one part.
    const data = await readWholeBody(response.body);
    return [{ mediaType: parseContentType(contentType).mediaType, data }];
  }
  const parts: RetrievedBinary[] = [];
  for await (const part of partsOf(response, options.signal)) {
    parts.push({ mediaType: part.mediaType, data: await readPartBody(part) });
  }
  return parts;
}
