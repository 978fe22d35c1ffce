/**
 * A WADO-RS multipart answer (PS3.18 §8.7.3.5) as a stream of parts, each with its media
 * type, transfer syntax and a streamed body, and the client's typed errors for the ways
 * such an answer goes wrong.
 */
import {
  MultipartError,
  parseContentType,
  parseMultipart,
  transferSyntaxFromType,
} from '../mime/multipart';
import { toStreamError } from './answers';
import { DicomWebError } from './transport/errors';
import type { HttpResponse } from './transport/http';

/** One instance of a WADO-RS retrieve: its media type and a streamed body. */
export interface RetrievedPart {
  mediaType: string;
  transferSyntaxUid?: string;
  contentLocation?: string;
  headers: Record<string, string>;
  body: AsyncIterable<Uint8Array>;
}

/** The parts of a multipart/related answer, read as they arrive. */
export async function* partsOf(
  response: HttpResponse,
  signal?: AbortSignal,
): AsyncGenerator<RetrievedPart> {
  const contentType = response.headers['content-type'];
  if (!contentType) {
    await response.dump();
    throw new DicomWebError('MALFORMED_RESPONSE', 'the answer has no Content-Type', {
      method: response.method,
      url: response.url,
      status: response.status,
    });
  }
  const outer = parseContentType(contentType);
  const outerSyntax = transferSyntaxFromType(outer.params);
  try {
    for await (const part of parseMultipart(response.body, contentType, { signal })) {
      const partType = part.contentType ? parseContentType(part.contentType) : undefined;
      yield {
        mediaType: partType?.mediaType ?? outer.params.type ?? 'application/octet-stream',
        // §8.7.8.2: a part's own transfer-syntax wins over the one of the whole answer.
        transferSyntaxUid: partType?.params['transfer-syntax'] ?? outerSyntax,
        contentLocation: part.contentLocation,
        headers: part.headers,
        // A body cut off inside a part fails while the caller reads that part, outside
        // this loop: map those failures to the same typed errors.
        body: typedPartBody(part.body, response, signal),
      };
    }
  } catch (error) {
    throw multipartFailure(error, response, signal);
  }
}

/** Maps a failure while reading a multipart answer to the client's typed errors. */
function multipartFailure(error: unknown, response: HttpResponse, signal?: AbortSignal): unknown {
  if (error instanceof DicomWebError) return error;
  if (error instanceof MultipartError) {
    // A part read twice is the caller's mistake, not the server's: keep it as it is.
    if (error.code === 'INVALID_STATE' || error.code === 'PART_TOO_LARGE') return error;
    if (signal?.aborted) return toStreamError(error, response, signal);
    return new DicomWebError(
      'MALFORMED_RESPONSE',
      `${response.method} ${response.url}: ${error.message}`,
      {
        method: response.method,
        url: response.url,
        status: response.status,
        cause: error,
      },
    );
  }
  return toStreamError(error, response, signal);
}

async function* typedPartBody(
  body: AsyncIterable<Uint8Array>,
  response: HttpResponse,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (error) {
    throw multipartFailure(error, response, signal);
  }
}
