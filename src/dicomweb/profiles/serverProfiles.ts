/**
 * Server profiles: what each kind of DICOMweb server supports beyond PS3.18, and which way
 * it deletes (deletion is not part of the standard; delete.ts does it). A profile is
 * detected where a cheap probe can tell (detection.ts: the host name, or Orthanc's
 * `/system`), otherwise chosen in settings.
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
  /** Serves the Azure DICOM service's `/changefeed` and `/changefeed/latest`. */
  changeFeed: boolean;
  /**
   * `PUT /studies` replaces stored instances (Azure's upsert, from API v2 on: upsert.ts
   * supportsUpsert reads the version).
   */
  upsert: boolean;
  /**
   * May have data partitions (the Azure DICOM service's "Enable data partitions", and the local
   * server's `--partitions`): whether this service has them on is asked with `GET /partitions`
   * (400 when off; ../partitions.ts).
   */
  dataPartitions: boolean;
  /**
   * Serves the Azure DICOM service's `/extendedquerytags` and `/operations/{id}` (Azure and
   * the local server, its emulator).
   */
  extendedQueryTags: boolean;
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
  changeFeed: false,
  upsert: false,
  dataPartitions: false,
  extendedQueryTags: false,
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
      // Learn, "Change feed overview": GET /changefeed, /changefeed/latest (v1 and v2).
      changeFeed: true,
      upsert: true,
      dataPartitions: true,
      extendedQueryTags: true,
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
      // /rendered and /thumbnail with the preview's decoders (src/server/rendered.ts).
      thumbnail: true,
      maxLimit: 200,
      reliableStowFailures: true,
      changeFeed: true,
      upsert: true,
      dataPartitions: true,
      extendedQueryTags: true,
    },
  },
  generic: { kind: 'generic', label: 'DICOMweb server', capabilities: GENERIC },
};
