/**
 * Server profiles: what each kind of DICOMweb server supports beyond PS3.18, and how it
 * deletes (deletion is not part of the standard). A profile is detected where a cheap
 * probe can tell (the host name, or Orthanc's `/system`), otherwise chosen in settings.
 */

export type ServerKind = 'azure' | 'google' | 'orthanc' | 'dcm4chee' | 'local' | 'generic';

export type DeleteMethod =
  /** `DELETE` on the DICOMweb resource path (Azure, Microsoft DICOM server, Google, local). */
  | 'dicomweb'
  /** Orthanc: `POST /tools/lookup` with the UID, then `DELETE /studies|series|instances/{id}`. */
  | 'orthanc-rest'
  /** dcm4chee-arc: reject with `113001^DCM` first; a rejected study can then be deleted. */
  | 'dcm4chee-reject'
  | 'none';

export interface ServerCapabilities {
  /** Accepts `POST /studies` with `Content-Type: application/dicom` (Azure's non-standard form). */
  singlePartStow: boolean;
  /** Answers `Accept: application/dicom` on an instance with the bare Part 10 file. */
  singlePartRetrieve: boolean;
  /** Honours `includefield=all`. */
  includeFieldAll: boolean;
  /** Honours `fuzzymatching=true`. */
  fuzzyMatching: boolean;
  /** Serves `/rendered`. */
  rendered: boolean;
  /** Serves `/thumbnail`. */
  thumbnail: boolean;
  /** Largest `limit` a QIDO page may ask for, when the server caps it. */
  maxLimit?: number;
  /** Whether `offset` pages; when false the client stops after the first page. */
  honoursOffset: boolean;
  deleteMethod: DeleteMethod;
  /** Sends a reliable FailedSOPSequence for every failed instance (Orthanc does not). */
  reliableStowFailures: boolean;
  /**
   * Percent-decodes QIDO matching values (RFC 3986 §2.1). When false (Orthanc 1.10), a value
   * with a space or a non-ASCII letter is sent as a wider wildcard pattern and the answer
   * filtered on the client (clientMatch.ts).
   */
  decodesQueryValues: boolean;
}

export interface ServerProfile {
  kind: ServerKind;
  label: string;
  capabilities: ServerCapabilities;
}

const GENERIC: ServerCapabilities = {
  singlePartStow: false,
  singlePartRetrieve: false,
  includeFieldAll: true,
  fuzzyMatching: true,
  rendered: true,
  thumbnail: false,
  honoursOffset: true,
  deleteMethod: 'dicomweb',
  reliableStowFailures: false,
  decodesQueryValues: true,
};

export const PROFILES: Record<ServerKind, ServerProfile> = {
  // Azure DICOM service conformance statement v2: limit 1..200, rendered (one frame),
  // single-part STOW and retrieve, DELETE at three levels answering 204/404.
  azure: {
    kind: 'azure',
    label: 'Azure DICOM service',
    capabilities: {
      ...GENERIC,
      singlePartStow: true,
      singlePartRetrieve: true,
      fuzzyMatching: true,
      maxLimit: 200,
      reliableStowFailures: true,
    },
  },
  google: {
    kind: 'google',
    label: 'Google Cloud Healthcare API',
    capabilities: { ...GENERIC, singlePartRetrieve: true, maxLimit: 5000 },
  },
  // Orthanc 1.10 + DICOMweb 1.7, measured here: see ../shared/docs/orthanc.md.
  orthanc: {
    kind: 'orthanc',
    label: 'Orthanc',
    capabilities: {
      ...GENERIC,
      includeFieldAll: false,
      fuzzyMatching: false,
      deleteMethod: 'orthanc-rest',
      // Measured: `%5E`, `%20`, `+` and `%C3%BC` in a search value match nothing.
      decodesQueryValues: false,
    },
  },
  dcm4chee: {
    kind: 'dcm4chee',
    label: 'dcm4chee-arc',
    capabilities: { ...GENERIC, thumbnail: true, deleteMethod: 'dcm4chee-reject' },
  },
  local: {
    kind: 'local',
    label: 'Local DICOMweb server',
    capabilities: {
      ...GENERIC,
      singlePartStow: true,
      singlePartRetrieve: true,
      rendered: false,
      maxLimit: 200,
      reliableStowFailures: true,
    },
  },
  generic: { kind: 'generic', label: 'DICOMweb server', capabilities: GENERIC },
};

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
