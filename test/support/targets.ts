/**
 * The servers the shared suites run against, and — in one place — every way they answer
 * differently, each with its reason. A suite asks `target.behaviour` instead of hiding a
 * difference in an `if`.
 */
import { DicomWebClient } from '../../src/dicomweb';
import { startLocalServer, type LocalServer } from '../../src/server';
import { orthancClient, resetOrthanc, tempDir } from './env';

export interface Behaviour {
  /** The seed's "store single instance" (`Content-Type: application/dicom`). */
  singlePartStow: 'stored' | 'refused-415';
  /** A second STOW of a stored SOP Instance UID. */
  duplicateStow: 'stored-again' | 'failed-45070';
  /** `GET …/rendered` (PNG, JPEG). */
  rendered: boolean;
  /** `GET …/thumbnail` (PS3.18 §10.4.1.1.4; Supplement 203). */
  thumbnail: boolean;
  /** The status of a search that matches nothing (the client reads both as empty). */
  noMatchStatus: 200 | 204;
  /** How DELETE reaches the server. */
  deleteMethod: 'orthanc-rest' | 'dicomweb';
  /** STOW of an instance whose PatientID (0010,0020) is present but empty. */
  emptyPatientIdStow: 'stored' | 'stored-with-warning';
  /** STOW of an Implicit VR Little Endian instance. */
  implicitVrStow: 'stored' | 'stored-with-warning-45063';
  /** `GET /changefeed` and `/changefeed/latest` (the Azure DICOM service's change feed). */
  changeFeed: 'none' | 'azure-local';
  /** `PUT /studies` (the Azure v2 upsert) of an instance already stored. */
  upsert: 'replaced' | 'refused-405';
}

/** Why each target behaves as it does. */
export const DIFFERENCES: Record<
  'orthanc' | 'local',
  { behaviour: Behaviour; reasons: Record<keyof Behaviour, string> }
> = {
  orthanc: {
    behaviour: {
      singlePartStow: 'refused-415',
      duplicateStow: 'stored-again',
      rendered: true,
      thumbnail: false,
      noMatchStatus: 200,
      deleteMethod: 'orthanc-rest',
      emptyPatientIdStow: 'stored',
      implicitVrStow: 'stored',
      changeFeed: 'none',
      upsert: 'refused-405',
    },
    reasons: {
      singlePartStow:
        'Orthanc 1.10 + DICOMweb 1.7 implement only PS3.18 multipart STOW (measured: 415).',
      duplicateStow:
        'Orthanc answers a duplicate with 200 and keeps its stored copy (OverwriteInstances=false).',
      rendered: 'Orthanc renders PNG and JPEG with its DCMTK decoders.',
      thumbnail:
        "The DICOMweb plugin's documented resources have /rendered and no /thumbnail; the Orthanc profile does not offer it, so thumbnails come from /rendered.",
      noMatchStatus: 'Orthanc answers an empty JSON array.',
      deleteMethod:
        'DICOMweb DELETE is 405 on Orthanc; its REST API deletes (POST /tools/lookup, DELETE /studies/{id}).',
      emptyPatientIdStow:
        'Orthanc stores instances without a PatientID value (allowed since Orthanc 0.8.5) and answers 200.',
      implicitVrStow: 'Orthanc stores Implicit VR Little Endian instances and answers 200.',
      changeFeed: 'Orthanc has its own REST `/changes`, no DICOMweb `/changefeed` (404).',
      upsert:
        'PUT is not a DICOMweb STOW method (PS3.18 §10.5 is POST): Orthanc answers 405 with Allow: GET,POST (measured).',
    },
  },
  local: {
    behaviour: {
      singlePartStow: 'stored',
      duplicateStow: 'failed-45070',
      rendered: true,
      thumbnail: true,
      noMatchStatus: 204,
      deleteMethod: 'dicomweb',
      emptyPatientIdStow: 'stored-with-warning',
      implicitVrStow: 'stored-with-warning-45063',
      changeFeed: 'azure-local',
      upsert: 'replaced',
    },
    reasons: {
      singlePartStow:
        'The local server follows the Azure DICOM service, which accepts single-part application/dicom (the seed tutorial).',
      duplicateStow:
        'Azure conformance statement: a stored SOP Instance UID is refused with 409, FailureReason 45070 (0xB00E).',
      thumbnail:
        'The local server answers /thumbnail at the instance, frame, series and study level (src/server/rendered.ts); Azure documents none.',
      rendered:
        "The local server renders PNG and JPEG (default, quality 100) as the Azure DICOM service does, with the preview's own decoders (src/server/rendered.ts). It differs from Azure in three ways: it also honours PS3.18's viewport and window (Azure documents only quality), it offers /thumbnail (Azure's v2 conformance statement has none), and it accepts several Accept ranges (Azure answers 406 to more than one, RetrieveRenderedService.cs).",
      noMatchStatus: 'Azure conformance statement: a search without match is 204 No Content.',
      deleteMethod: 'Azure: DELETE on the study, series or instance path, 204 or 404.',
      emptyPatientIdStow:
        'Azure v2 conformance statement: PatientID "can have the value as null"; the service stores it with WarningReason 1 and answers 202 (v1 refuses it, 43264).',
      implicitVrStow:
        'Azure: the conformance statement v2 accepts "only transfer syntaxes with explicit Value Representations"; the service (StoreDatasetValidator) stores Implicit VR files with WarningReason 45063 and answers 202.',
      changeFeed:
        'Azure\'s fields, v1/v2 paging, limits and states (Learn "Change feed overview", dicom-server ChangeFeedController). Differs: Timestamp in milliseconds (Azure: 100 ns ticks); only changes made through the API are recorded (a file dropped into or removed from the served folder is not: Azure has no such path); no FilePath (Azure: external storage only); at 500,000 entries STOW/DELETE are refused with 507 (Azure\'s SQL table is unbounded); `/latest` of an empty feed is 204 (ASP.NET answers a null result so).',
      upsert:
        'Azure conformance statement v2, Store: "PUT ../studies — Upsert instances"; "the existing data is replaced by the new data received"; the answer is STOW\'s (200, the instance in ReferencedSOPSequence, nothing marks it replaced). ' +
        "Where the statement is silent the local server decides (src/server/upsert.ts): under /v1 PUT is 405 (v1 lists no PUT; ASP.NET answers a path's other methods so); " +
        'a new version naming another series moves the instance there (the local server keys instances by SOP Instance UID alone); the replaced file is swapped by one rename, old or new after a crash.',
    },
  },
};

export interface RunningTarget {
  client: DicomWebClient;
  /** Empties the server. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface ServerTarget {
  name: string;
  kind: 'orthanc' | 'local';
  behaviour: Behaviour;
  start(): Promise<RunningTarget>;
}

export const TARGETS: ServerTarget[] = [
  {
    name: 'Orthanc',
    kind: 'orthanc',
    behaviour: DIFFERENCES.orthanc.behaviour,
    async start() {
      const client = orthancClient();
      await resetOrthanc();
      return { client, reset: resetOrthanc, close: () => client.close() };
    },
  },
  {
    name: 'the local server',
    kind: 'local',
    behaviour: DIFFERENCES.local.behaviour,
    async start() {
      let server: LocalServer = await startLocalServer({
        dir: tempDir('target'),
        port: 0,
        indexSaveDelayMs: 50,
      });
      const client = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
      return {
        client,
        async reset() {
          await server.close();
          server = await startLocalServer({
            dir: tempDir('target'),
            port: server.port,
            indexSaveDelayMs: 50,
          });
        },
        async close() {
          await client.close();
          await server.close();
        },
      };
    },
  },
];

/**
 * Where the local server's WADO-RS retrieve (src/server/wado.ts) differs from the Azure DICOM
 * service's, and why.
 */
export const RETRIEVE_DIFFERENCES_FROM_AZURE = {
  multipleInstancesConverted:
    'A study or series of more than one instance asked without transfer-syntax=* (no transfer syntax, or Explicit VR Little Endian) is served converted, as issue 14 asks ("a retrieve ... that names no transfer syntax ... gets ... converted instead of 406"). The Azure DICOM service answers 406 to any retrieve of more than one instance not asked as stored, whatever the instances are stored as (dicom-server RetrieveResourceService: "we will only support retrieving multiple instance if requested in original format", RetrieveServiceMultiInstanceTranscodingNotSupported). So code that retrieves a study without transfer-syntax=* works here and fails on Azure; the tutorial and this extension always ask transfer-syntax=*. Exercised by test/server/interopDicomwebClient.test.ts (retrieveStudy with the dcmjs defaults).',
} as const;

/**
 * Where the local server's data partitions (src/server/partitions.ts) differ from the Azure
 * DICOM service's, and why. The partition suites (test/server/partitions*.test.ts) test these.
 */
export const PARTITION_DIFFERENCES_FROM_AZURE = {
  dotsOnlyNames:
    'Refused (400). The service\'s PartitionNameValidator (`^[A-Za-z0-9_.-]*$`, ≤ 64) accepts "." and "..", but every URL parser removes such a segment (RFC 3986 §5.2.4), so no client could reach them; locally they would also be path names.',
  maxPartitions:
    'At most 128 partitions (limits.ts MAX_PARTITIONS; a 400 that says so). The service documents no limit; here each partition is an index in memory and inotify watchers.',
  turnedOffWithPartitions:
    "Starts, serving only the served folder (the other partitions' folders are kept, unserved). The service refuses to start (DataPartitionsFeatureCannotBeDisabledException); an emulator that will not start over its own folder helps nobody.",
  changeFeed:
    "As the service: one change feed at the base URI (dicom-server's ChangeFeedController has no partition route, so /partitions/{name}/changefeed is 404), each entry with PartitionName. Differs: a served folder whose partitions were written by an earlier version has a log in each partition folder; those older entries are not merged into the service's feed.",
  caseOfNames:
    "One partition per name whatever its case, the name kept as first written: the service's unique index IX_Partition_PartitionName is a VARCHAR(64) under Azure SQL's default case-insensitive collation (inferred from its schema, not measured on a live service).",
} as const;

/**
 * Where the local server's extended query tags and operations (src/server/extendedQueryTags*.ts,
 * operations.ts) differ from the Azure DICOM service's, and why. Tested in
 * test/server/extendedQueryTags.test.ts.
 */
export const EXTENDED_QUERY_TAG_DIFFERENCES: Record<string, string> = {
  alreadyIndexed:
    'Azure refuses its QueryLimit.CoreTags; the local server refuses every attribute its QIDO already searches (catalog.ts FIELDS, a superset: e.g. SeriesNumber), since indexing it twice would change nothing.',
  deleteWhileAdding:
    "Deleting a tag whose reindex runs cancels that tag's part of the operation (canceled when none remains): the task asked for it; Azure documents no such cancel.",
  invalidValueAtStow:
    "As Azure (StoreDatasetValidator, StoreService): v1 fails the instance (43264, the attribute in FailedAttributesSequence), v2 stores it with WarningReason 1 (202) and leaves the value out of the index; neither adds a tag error. One difference: Azure v2 also drops the attribute from the instance's metadata (DropInvalidMetadata); here /metadata and includefield still show it, read from the file. Tested in test/server/extendedQueryTagsStow.test.ts.",
  restart:
    "A reindex running when the server stops resumes from its last checkpoint, as Azure's ReindexDurableFunction does from its watermark. Azure checkpoints after each set of batches (100 × 10 instances); here after at least 500 instances, spaced so the checkpoints (the index written whole, then the state) take at most a fifth of the time. The percent moves at checkpoints only. Tested with kill -9 in test/server/extendedQueryTagsCrash.test.ts.",
  errorsKept:
    'At most 1000 errors are kept per tag (ErrorCount counts them all); Azure keeps every one in SQL.',
};
