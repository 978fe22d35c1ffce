/**
 * `GET …/thumbnail` (PS3.18 §10.4.1, Table 10.4.1-1 Thumbnail resources, added by
 * Supplement 203): a representative image of a study, series, instance or frame in a
 * rendered media type, chosen by the server. The instance level with `viewport` is what
 * the extension's thumbnails ask for; `/rendered` (§10.4.1.1.4, retrieve.ts) is the
 * fallback where a server has no thumbnail resource (Orthanc, Google, Azure).
 */
import { MEDIA, resourcePath, type InstancePath, type RequestSpec } from './requests';
import type { RetrievedBinary } from './retrieve';
import type { DicomWebSession } from './session';
import { parseContentType } from '../mime/multipart';

export interface ThumbnailOptions {
  /** `viewport=width,height` (§8.3.5.1.3): the largest size the server should answer. */
  viewport?: { width: number; height: number };
  mediaType?: 'image/png' | 'image/jpeg';
  signal?: AbortSignal;
}

export function thumbnailRequest(
  target: InstancePath,
  options: Omit<ThumbnailOptions, 'signal'> = {},
): RequestSpec {
  const query: Array<[string, string]> = [];
  if (options.viewport)
    query.push(['viewport', `${options.viewport.width},${options.viewport.height}`]);
  return {
    method: 'GET',
    path: `${resourcePath(target)}/thumbnail`,
    query,
    headers: { accept: options.mediaType ?? MEDIA.png },
    binaryResponse: true,
  };
}

export async function retrieveThumbnail(
  session: DicomWebSession,
  target: InstancePath,
  options: ThumbnailOptions = {},
): Promise<RetrievedBinary> {
  const spec = thumbnailRequest(target, options);
  const { response, bytes } = await session.sendForBytes(spec, 'binary', options.signal);
  return {
    mediaType: parseContentType(response.headers['content-type'] ?? spec.headers.accept).mediaType,
    data: bytes,
  };
}
