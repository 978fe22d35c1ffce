/**
 * Telling which kind of server is behind a URL (serverProfiles.ts), from the URL alone or
 * from the answers of cheap probes (session.ts sends them): Orthanc's `/system`, the local
 * server's `Server` header, a QIDO answer where the DICOMweb root may be.
 */
import type { ServerKind } from './serverProfiles';

/** Guesses the server kind from the URL alone (no network). */
export function kindFromUrl(baseUrl: string): ServerKind | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined;
  }
  const host = url.hostname.toLowerCase();
  if (host.endsWith('.dicom.azurehealthcareapis.com')) return 'azure';
  if (host === 'healthcare.googleapis.com') return 'google';
  if (/\/dcm4chee-arc\//.test(url.pathname)) return 'dcm4chee';
  return undefined;
}

/**
 * Candidate REST roots of an Orthanc behind a DICOMweb URL: Orthanc serves DICOMweb below
 * its own REST root (`/dicom-web` by default), so drop the last path segment.
 */
export function orthancRootCandidates(baseUrl: string): string[] {
  const url = new URL(baseUrl);
  const segments = url.pathname.replace(/\/+$/, '').split('/').filter(Boolean);
  const candidates: string[] = [];
  for (let keep = segments.length - 1; keep >= 0; keep--) {
    candidates.push(`${url.origin}/${segments.slice(0, keep).join('/')}`.replace(/\/+$/, ''));
    if (candidates.length === 2) break;
  }
  return candidates;
}

/** Recognises Orthanc's `GET /system` answer. */
export function looksLikeOrthancSystem(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const record = body as Record<string, unknown>;
  return (
    typeof record.ApiVersion === 'number' &&
    typeof record.DicomAet === 'string' &&
    typeof record.Version === 'string'
  );
}

/**
 * The product token the extension's own local server sends in its `Server` header
 * (RFC 9110 §10.2.4; src/server/router.ts): how "Add Server" tells it from a generic one.
 */
export const LOCAL_SERVER_PRODUCT = 'dicomweb-explorer-local';

/** Whether a `Server` header names the extension's local server. */
export function isLocalServerHeader(value: string | undefined): boolean {
  return typeof value === 'string' && value.toLowerCase().startsWith(`${LOCAL_SERVER_PRODUCT}/`);
}

/**
 * Where the DICOMweb root may be below a URL that answers no QIDO search: a server's root
 * typed without its DICOMweb path. Orthanc serves DICOMweb at `/dicom-web` by default (its
 * own REST API at the root answers `/studies?limit=1` with "Missing 'since' argument");
 * dcm4chee-arc at `/dcm4chee-arc/aets/DCM4CHEE/rs`.
 */
export function dicomWebRootCandidates(baseUrl: string): string[] {
  const url = baseUrl.replace(/\/+$/, '');
  if (/\/dicom-?web$/i.test(url) || /\/rs$/.test(url)) return [];
  return [`${url}/dicom-web`, `${url}/dcm4chee-arc/aets/DCM4CHEE/rs`];
}

/**
 * Whether a QIDO-RS answer body looks like one (PS3.18 §10.6.3: a JSON array of DICOM JSON
 * datasets, or nothing). Orthanc's REST `/studies` answers an array of strings instead.
 */
export function looksLikeQidoAnswer(status: number, body: string): boolean {
  if (status === 204) return true;
  if (status < 200 || status >= 300) return false;
  if (!body.trim()) return true;
  try {
    const parsed: unknown = JSON.parse(body);
    return (
      Array.isArray(parsed) &&
      parsed.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item))
    );
  } catch {
    return false;
  }
}
