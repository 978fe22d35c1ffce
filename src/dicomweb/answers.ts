/**
 * Reading the server's small answers: DICOM JSON arrays (PS3.18 Annex F), `Warning` headers
 * (PS3.18 §8.6.2) and the typed error of a body that broke off while it was read. Shared by
 * the search, retrieve and delete modules and the session below them.
 */
import { readWholeBody } from '../mime/body';
import type { DicomJsonDataset } from '../dicom/types';
import { DicomWebError } from './transport/errors';
import type { HttpResponse } from './transport/http';

/** `Warning` headers (RFC 9111 §5.5 / PS3.18 §8.6.2): `299 {service}: "text"` → text. */
export function warningsOf(headers: Record<string, string>): string[] {
  const raw = headers.warning;
  if (!raw) return [];
  const found: string[] = [];
  const pattern = /\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(raw))) found.push(match[1].replace(/\\(.)/g, '$1'));
  return found.length ? found : [raw];
}

export function parseJson(bytes: Buffer, method: string, url: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new DicomWebError(
      'MALFORMED_RESPONSE',
      `${method} ${url}: the answer is not JSON (${bytes.subarray(0, 80).toString('utf8').replace(/\s+/g, ' ')}…)`,
      {
        method,
        url,
        cause: error,
      },
    );
  }
}

/** PS3.18 Annex F: a JSON array of datasets; 204 and empty bodies are an empty result. */
export function parseJsonArray(bytes: Buffer, response: HttpResponse): DicomJsonDataset[] {
  if (response.status === 204 || bytes.length === 0 || bytes.toString('utf8').trim() === '')
    return [];
  const body = parseJson(bytes, response.method, response.url);
  if (
    !Array.isArray(body) ||
    body.some((item) => !item || typeof item !== 'object' || Array.isArray(item))
  ) {
    throw new DicomWebError(
      'MALFORMED_RESPONSE',
      `${response.method} ${response.url}: expected a JSON array of DICOM datasets`,
      {
        method: response.method,
        url: response.url,
        status: response.status,
      },
    );
  }
  return body as DicomJsonDataset[];
}

/** Thrown by {@link readSmallBody}'s cap only, to tell "too large" from a broken stream. */
class PastLimit extends Error {}

/** The whole body when it is at most `limit` bytes; otherwise nothing (and the rest is dropped). */
export async function readSmallBody(response: HttpResponse, limit: number): Promise<Buffer> {
  try {
    // Leaving readWholeBody's loop at the cap destroys the body.
    return await readWholeBody(response.body, limit, () => new PastLimit());
  } catch (error) {
    if (error instanceof PastLimit) return Buffer.alloc(0);
    throw toStreamError(error, response);
  }
}

/** A failure while a body was read: cancelled, stalled (undici's body timeout) or cut off. */
export function toStreamError(
  error: unknown,
  response: HttpResponse,
  signal?: AbortSignal,
): DicomWebError {
  const code = (error as { code?: string })?.code ?? '';
  if (signal?.aborted || code === 'UND_ERR_ABORTED') {
    return new DicomWebError('CANCELLED', `${response.method} ${response.url} was cancelled`, {
      method: response.method,
      url: response.url,
      cause: error,
    });
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new DicomWebError(
      'TIMEOUT',
      `${response.method} ${response.url}: the server stopped sending`,
      { method: response.method, url: response.url, cause: error },
    );
  }
  return new DicomWebError(
    'NETWORK',
    `${response.method} ${response.url}: ${(error as Error)?.message ?? error}`,
    {
      method: response.method,
      url: response.url,
      cause: error,
    },
  );
}
