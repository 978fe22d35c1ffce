/**
 * Whether a server replaces instances on `PUT /studies` (the Azure DICOM service's upsert).
 * The profile decides first (serverProfiles.ts `upsert`); for the Azure service the API
 * version decides next, and it is part of the service URL by the service's own design
 * ("the version of the REST API must be explicitly specified as part of the base URL"):
 * the conformance statement v2 lists `PUT ../studies`, v1 does not. The local server serves
 * the latest version (v2) under an unversioned URL; Azure's unversioned URL is not v2.
 */
import { kindFromUrl } from './detection';
import { PROFILES, type ServerKind, type ServerProfile } from './serverProfiles';

/**
 * `2` for `…/v2` (and `…/v2/partitions/{name}`), `1` for `…/v1` and `…/v1.0-prerelease`;
 * undefined without a version segment.
 */
export function apiMajorVersion(baseUrl: string): number | undefined {
  let path = baseUrl;
  try {
    path = new URL(baseUrl).pathname;
  } catch {
    /* a bare path */
  }
  const match = /\/v(\d+)(?:\.\d+)?(?:-prerelease)?(?=\/|$)/.exec(path);
  return match ? Number(match[1]) : undefined;
}

/** True where "Upload and Replace" may be offered: Azure v2 and later, the local server. */
export function supportsUpsert(profile: ServerProfile, baseUrl: string): boolean {
  if (!profile.capabilities.upsert) return false;
  const version = apiMajorVersion(baseUrl) ?? (profile.kind === 'local' ? 2 : 1);
  return version >= 2;
}

/** What a configured connection says of itself: its kind, when set, and its service URL. */
export interface UpsertCandidate {
  readonly kind?: ServerKind;
  readonly url: string;
}

/**
 * Whether a connection upserts, from its settings alone (no request): the configured kind,
 * else the kind its host tells (an Azure DICOM service URL), else a generic server, which
 * does not. A partition's studies upsert where their connection does: the partition's URL
 * is the connection's with `/partitions/{name}` after the version.
 */
export function connectionUpserts(connection: UpsertCandidate): boolean {
  const kind = connection.kind ?? kindFromUrl(connection.url) ?? 'generic';
  return supportsUpsert(PROFILES[kind], connection.url);
}

/**
 * The `when`-clause key set (src/commands/upsertContext.ts) while no configured connection
 * upserts: the Explorer's "Upload and Replace on DICOMweb Server…" is then hidden. Negative
 * on purpose: before the extension is active nothing sets it, and the entry shows (invoking
 * it activates the extension, which answers with NO_UPSERT when no server can replace).
 */
export const NO_UPSERT_CONTEXT = 'dicomweb.noUpsertServer';

/** The value of {@link NO_UPSERT_CONTEXT} for a list of connections. */
export function noConnectionUpserts(connections: readonly UpsertCandidate[]): boolean {
  return !connections.some(connectionUpserts);
}
