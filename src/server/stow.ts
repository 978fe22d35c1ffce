/**
 * STOW-RS (PS3.18 §10.5) for the local server, with the Azure DICOM service's extensions and
 * status codes: multipart/related with `type="application/dicom"` (quoted, unquoted or
 * absent, as the seed tutorial's cURL forms send it) and the single-part
 * `Content-Type: application/dicom` body.
 *
 * Every part is streamed to its own temporary file. Only once the whole body has been read
 * and found well-formed are the accepted instances fsynced, renamed into place and their
 * folders fsynced — then the answer is sent. So an acknowledged instance survives a crash,
 * a malformed request stores nothing, and no reader ever sees half a file.
 *
 * Plain Node: no `vscode` import.
 */
import { formatTag } from '../dicom/dictionary';
import { TransferSyntax } from '../dicom/uids';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DataSet } from 'dicom-parser';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { MultipartError, parseContentType, parseMultipart } from '../mime/multipart';
import {
  DicomFileError,
  readInstanceIdentity,
  readInstanceIdentityAndDataSetFromBytes,
  type InstanceIdentity,
} from '../dicom/part10';
import {
  entryFromDataSet,
  uidProblem,
  type FieldSpec,
  type InstanceEntry,
  type InstanceNode,
} from './catalog';
import { fileIdentity, type Change } from './changeFeed';
import { readInstanceHeader } from './dicomFiles';
import { HttpError, acceptsJson, sendJson } from './httpUtil';
import { limitedBody } from './limits';
import { isAcceptableUid, type Storage } from './storage';
import { beginReplace, finishReplace, upsertTarget, type StoredInstance } from './upsert';
import { Tag } from '../dicom/tags';

/**
 * Failure reasons of the Azure DICOM service conformance statement (PS3.18 Table 10.5.3-1 / PS3.4
 * Annex B).
 */
export const FailureReason = {
  /** 0x0110: general processing failure (not DICOM, unreadable, I/O). */
  ProcessingFailure: 272,
  /** 0xA900: the instance failed validation (missing or malformed required attributes). */
  ValidationFailure: 43264,
  /** 0xA901: StudyInstanceUID differs from the one in `POST /studies/{study}`. */
  StudyMismatch: 43265,
  /** 0xB00E: an instance with this SOP Instance UID is already stored. */
  Duplicate: 45070,
  /** 0xB00F: the same instance is being stored by another request right now. */
  BeingCreated: 45071,
} as const;

/** Warning reasons of the Azure DICOM service conformance statement v2 (Store warning codes). */
export const WarningReason = {
  /** The data set has validation warnings (the stored instance is listed with them). */
  ValidationWarnings: 1,
  /** 0xB007: data set does not match its SOP Class; the service warns Implicit VR files so. */
  DatasetDoesNotMatchSOPClass: 45063,
} as const;

/** Azure's DicomCoreResource.IndexedDicomTagHasMultipleValues, its Warning header's text. */
export const MULTIPLE_VALUES_WARNING =
  'One or more indexed Dicom tag(s) have multiple values, only first value is indexed.';

/** Instances kept in memory while a part is written: small ones are parsed from memory. */
const IN_MEMORY_PART = 256 * 1024;
const DICOM_TYPES = new Set(['application/dicom', 'application/octet-stream']);

interface PartResult {
  index: number;
  temp?: string;
  entry?: InstanceEntry;
  identity?: InstanceIdentity;
  sopClassUid?: string;
  sopInstanceUid?: string;
  failure?: {
    code: number;
    comment: string;
    /** One ErrorComment per failed attribute (Azure v1: an indexed value that breaks its VR). */
    attributes?: string[];
  };
  /** Azure v1: an indexed attribute holds several values, the first is indexed (Warning). */
  multipleValues?: boolean;
  /** Stored, with these warnings (Azure v2: WarningReason and FailedAttributesSequence). */
  warnings?: { code: number; comment: string }[];
  /** Write and fsync of the temporary file, in the background; gives its modification time. */
  synced?: Promise<{ mtimeMs: number }>;
  /** Upsert: this instance replaced a stored one with its SOP Instance UID (upsert.ts). */
  replaced?: boolean;
}

export interface StowContext {
  storage: Storage;
  /** `http://host:port/v2`: the base of RetrieveURLs (PS3.18 §10.5.3). */
  baseUrl: string;
  /** SOP Instance UIDs being stored by requests in flight. */
  reserved: Set<string>;
  log: (line: string) => void;
  /** Largest body read; more is 413 and the connection closes (limits.ts MAX_STOW_BODY_BYTES). */
  maxBodyBytes?: number;
  /** Major API version of the request's path (`/v1…` → 1); v1 and v2 validate differently. */
  apiVersion?: number;
  /** `PUT`: an instance already stored is replaced instead of failing with 45070 (upsert.ts). */
  upsert?: boolean;
}

/**
 * The request body as chunks, failing with 413 past `max` bytes: the count that decides for a
 * chunked body (a declared Content-Length was checked before). The socket is not destroyed
 * when reading stops early, so the error can still be answered.
 */
function requestBody(req: IncomingMessage, max: number): AsyncIterable<Uint8Array> {
  const chunks = req.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>;
  if (!Number.isFinite(max)) return chunks;
  return limitedBody(
    chunks,
    max,
    () =>
      new HttpError(
        413,
        `the request body is larger than the ${max} bytes a STOW-RS request may carry`,
        { connection: 'close' },
      ),
  );
}

/** One part of the request as the multipart reader gives it. */
type StowPart = { contentType?: string | undefined; body: AsyncIterable<Uint8Array> };

/**
 * Handles `POST /studies` and `POST /studies/{study}`.
 * Status (Azure DICOM service conformance statement, PS3.18 §10.5.3): 200 all stored, 202
 * some stored, 409 none stored, 400 malformed request, 406 unacceptable Accept, 415 wrong
 * Content-Type. Returns, once the answer is sent, the instances stored (on disk, in the index,
 * recorded in the change feed), each new or `replaced` (an upsert over a stored one).
 */
export async function handleStow(
  req: IncomingMessage,
  res: ServerResponse,
  context: StowContext,
  studyUid?: string,
): Promise<StoredInstance[]> {
  const parts = partsOfRequest(req, context);
  const results = await receiveParts(parts, context, studyUid);
  if (results.length === 0) throw new HttpError(400, 'the request holds no instance');
  await commitAccepted(results, context);
  const committed = results.filter((r) => !r.failure).map(storedInstance);
  const { status, body, stored, failed } = stowAnswer(results, context.baseUrl, studyUid);
  if (results.some((r) => r.multipleValues)) {
    // Azure's StoreController: Warning 299 (MiscPersistentWarning), its agent the host name
    // and a colon (HttpRequestExtensions.GetHost with dicomStandards, which cites PS3.18
    // §11.7.3.2).
    res.setHeader('warning', `299 ${warnAgent(req)} "${MULTIPLE_VALUES_WARNING}"`);
  }
  const replaced = committed.filter((s) => s.replaced).length;
  context.log(
    `${context.upsert ? 'Upsert' : 'STOW'} ${results.length} part(s): ${stored} stored${replaced ? ` (${replaced} replaced)` : ''}, ${failed} failed (${status})`,
  );
  sendJson(res, status, body);
  return committed;
}

/** The Warning header's agent: the Host header's name without its port, and a colon; or "-". */
function warnAgent(req: IncomingMessage): string {
  const host = /^(\[[^\]]*\]|[^:]*)/.exec(req.headers.host ?? '')?.[1];
  return host ? `${host}:` : '-';
}

function storedInstance(r: PartResult): StoredInstance {
  const entry = r.entry!;
  return {
    studyUid: entry.studyUid,
    seriesUid: entry.seriesUid,
    sopUid: entry.sopUid,
    replaced: r.replaced === true,
  };
}

/**
 * Checks the request (Accept, Content-Type) and gives its parts: the one file of a
 * single-part store, or the parts of a multipart/related body.
 */
function partsOfRequest(req: IncomingMessage, context: StowContext): AsyncIterable<StowPart> {
  if (req.headers.accept && !acceptsJson(req.headers.accept)) {
    throw new HttpError(406, 'STOW-RS answers application/dicom+json (PS3.18 §10.5.3)');
  }
  const contentType = req.headers['content-type'] ?? '';
  const { mediaType, params } = parseContentType(contentType);
  const source = requestBody(req, context.maxBodyBytes ?? Infinity);
  if (mediaType === 'application/dicom') {
    // Azure's single-part store (the seed's "store single instance"): the body is the file.
    return (async function* () {
      yield { contentType: 'application/dicom', body: source };
    })();
  }
  if (mediaType === 'multipart/related') {
    const type = params.type ? parseContentType(params.type).mediaType : 'application/dicom';
    if (type !== 'application/dicom') {
      throw new HttpError(
        415,
        `multipart/related of type "${params.type}" is not stored here; send type="application/dicom" parts`,
      );
    }
    if (!params.boundary)
      throw new HttpError(400, 'the multipart/related Content-Type has no boundary parameter');
    return parseMultipart(source, contentType, { maxHeaderBytes: 16 * 1024 });
  }
  throw new HttpError(
    415,
    `Content-Type "${mediaType || '(none)'}" cannot be stored; use multipart/related; type="application/dicom" or application/dicom`,
  );
}

/**
 * Reads every part to its temporary file and decides on each. A body that breaks off or is
 * malformed stores nothing: its reservations are released, its temporary files removed.
 */
async function receiveParts(
  parts: AsyncIterable<StowPart>,
  context: StowContext,
  studyUid: string | undefined,
): Promise<PartResult[]> {
  const results: PartResult[] = [];
  try {
    let index = 0;
    for await (const part of parts) {
      results.push(await receivePart(part, index++, context, studyUid));
      // At most 64 parts (≤ 16 MiB of small ones) wait in memory for their background write.
      if (results.length > 64) await results[results.length - 65]!.synced?.catch(() => undefined);
    }
  } catch (error) {
    release(results, context);
    await discard(results);
    if (error instanceof MultipartError)
      throw new HttpError(400, `malformed multipart body: ${error.message}`);
    throw error;
  }
  return results;
}

/** The SOP Instance UIDs these results reserved are free again. */
function release(results: PartResult[], context: StowContext): void {
  for (const result of results)
    if (result.sopInstanceUid && result.entry) context.reserved.delete(result.sopInstanceUid);
}

/**
 * The body is complete and well-formed: moves the accepted instances into place and into the
 * index. An instance that fails here gets its failure; the temporary files of every failed
 * part are removed.
 */
async function commitAccepted(results: PartResult[], context: StowContext): Promise<void> {
  const accepted = results.filter((r) => r.entry && !r.failure);
  try {
    for (const result of accepted) {
      try {
        result.entry!.mtimeMs = (await result.synced!).mtimeMs;
      } catch (error) {
        result.failure = {
          code: FailureReason.ProcessingFailure,
          comment: `could not write: ${(error as Error).message}`,
        };
      }
    }
    await moveIntoPlace(
      accepted.filter((r) => !r.failure),
      context,
    );
    context.storage.scheduleSave();
  } finally {
    release(results, context);
    await discard(results.filter((r) => r.failure));
  }
}

/** Renames the written files into place, then adds them to the index. */
async function moveIntoPlace(moving: PartResult[], context: StowContext): Promise<void> {
  for (const result of moving) context.storage.committing.add(result.entry!.file);
  // Upsert: the instances being replaced, looked up now (upsert.ts).
  const replacing = moving.map((r) =>
    context.upsert ? beginReplace(context.storage, r.entry!) : undefined,
  );
  try {
    // The change feed's transaction (changeFeed.ts): a create entry per new instance and an
    // update per replaced one (upsert), durable before the renames, settled by the files after
    // them (an instance removed below aborts).
    // Each new version's identity, for the feed to tell at a restart whether its rename
    // happened (an update's path exists either way).
    const identities = await Promise.all(moving.map((result) => fileIdentity(result.temp!)));
    await context.storage.recordChanges(
      moving.map((result, i) => changeOf(result, replacing[i], identities[i])),
      () => placeAndIndex(moving, replacing, context),
    );
  } catch (error) {
    for (const result of moving)
      result.failure ??= {
        code: FailureReason.ProcessingFailure,
        comment: `could not store: ${(error as Error).message}`,
      };
  } finally {
    for (const result of moving) context.storage.committing.delete(result.entry!.file);
    for (const node of replacing) if (node) context.storage.committing.delete(node.file);
  }
}

function changeOf(
  result: PartResult,
  replaced: InstanceNode | undefined,
  identity: string | undefined,
): Change {
  const { studyUid, seriesUid, sopUid, file } = result.entry!;
  return {
    action: replaced ? 'update' : 'create',
    studyUid,
    seriesUid,
    sopUid,
    file,
    ...(identity ? { identity } : {}),
  };
}

async function placeAndIndex(
  moving: PartResult[],
  replacing: Array<InstanceNode | undefined>,
  context: StowContext,
): Promise<void> {
  await context.storage.moveIntoPlace(moving.map((r) => ({ temp: r.temp!, file: r.entry!.file })));
  for (const [i, result] of moving.entries()) {
    const outcome = context.upsert
      ? await finishReplace(context.storage, result.entry!, replacing[i])
      : context.storage.catalog.add(result.entry!);
    result.replaced = replacing[i] !== undefined && outcome.kind === 'added';
    if (outcome.kind === 'duplicate' || outcome.kind === 'conflict') {
      // A file dropped into the folder meanwhile holds the same instance: keep that one
      // (unless the new file was renamed over the old one's: removing it would lose both).
      result.failure = {
        code: FailureReason.Duplicate,
        comment: 'stored concurrently by another request',
      };
      if (replacing[i]?.file !== result.entry!.file)
        await context.storage.removeFile(result.entry!.file);
    }
  }
}

/**
 * The STOW-RS answer (PS3.18 §10.5.3, Table 10.5.3-1): the study's RetrieveURL, a
 * FailedSOPSequence and a ReferencedSOPSequence; 200 all stored, 202 some, 409 none.
 */
function stowAnswer(
  results: PartResult[],
  baseUrl: string,
  studyUid: string | undefined,
): { status: number; body: Record<string, unknown>; stored: number; failed: number } {
  const stored = results.filter((r) => !r.failure);
  const failed = results.filter((r) => r.failure);
  const body: Record<string, unknown> = {};
  const studies = new Set(stored.map((r) => r.entry!.studyUid));
  if (studyUid || studies.size === 1) {
    body[Tag.RetrieveURL] = {
      vr: 'UR',
      Value: [`${baseUrl}/studies/${studyUid ?? [...studies][0]}`],
    };
  }
  if (failed.length) {
    body[Tag.FailedSOPSequence] = { vr: 'SQ', Value: failed.map(failedItem) };
  }
  if (stored.length) {
    body[Tag.ReferencedSOPSequence] = {
      vr: 'SQ',
      Value: stored.map((r) => referencedItem(r, baseUrl)),
    };
  }
  // Azure: 202 when "others failed or returned warnings".
  const warned = stored.some((r) => r.warnings?.length);
  const status = failed.length === 0 && !warned ? 200 : stored.length > 0 ? 202 : 409;
  return { status, body, stored: stored.length, failed: failed.length };
}

/** One item of the FailedSOPSequence (0008,1198). */
function failedItem(r: PartResult): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  if (r.sopClassUid) item[Tag.ReferencedSOPClassUID] = { vr: 'UI', Value: [r.sopClassUid] };
  if (r.sopInstanceUid)
    item[Tag.ReferencedSOPInstanceUID] = { vr: 'UI', Value: [r.sopInstanceUid] };
  item[Tag.FailureReason] = { vr: 'US', Value: [r.failure!.code] };
  // Azure v2: FailedAttributesSequence (0074,1048) items carry an ErrorComment (0000,0902);
  // v1 lists each indexed attribute that failed (StoreResponseBuilder.AddFailure).
  const comments = r.failure!.attributes ?? [`part ${r.index + 1}: ${r.failure!.comment}`];
  item[Tag.FailedAttributesSequence] = {
    vr: 'SQ',
    Value: comments.map((comment) => ({
      [Tag.ErrorComment]: { vr: 'LO', Value: [comment.slice(0, 64)] },
    })),
  };
  return item;
}

/** One item of the ReferencedSOPSequence (0008,1199), with the instance's RetrieveURL. */
function referencedItem(r: PartResult, baseUrl: string): Record<string, unknown> {
  const item = referencedUids(r, baseUrl);
  if (r.warnings?.length) {
    // Azure v2: WarningReason (0008,1196) and one ErrorComment per attribute in the
    // FailedAttributesSequence (0074,1048) of the stored instance's item. The service sets
    // 45063 for Implicit VR first, DatasetHasValidationWarnings (1) only when none is set
    // (StoreService: `warningReasonCode ??= DatasetHasValidationWarnings`).
    const sopClass = r.warnings.find((w) => w.code === WarningReason.DatasetDoesNotMatchSOPClass);
    item[Tag.WarningReason] = { vr: 'US', Value: [(sopClass ?? r.warnings[0]!).code] };
    item[Tag.FailedAttributesSequence] = {
      vr: 'SQ',
      // ErrorComment is LO: 64 characters at most (PS3.5 §6.2).
      Value: r.warnings.map((w) => ({
        [Tag.ErrorComment]: { vr: 'LO', Value: [w.comment.slice(0, 64)] },
      })),
    };
  }
  return item;
}

function referencedUids(r: PartResult, baseUrl: string): Record<string, unknown> {
  return {
    [Tag.ReferencedSOPClassUID]: {
      vr: 'UI',
      Value: [r.entry!.instance[Tag.SOPClassUID] ?? r.sopClassUid],
    },
    [Tag.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [r.entry!.sopUid] },
    [Tag.RetrieveURL]: {
      vr: 'UR',
      Value: [
        `${baseUrl}/studies/${r.entry!.studyUid}/series/${r.entry!.seriesUid}/instances/${r.entry!.sopUid}`,
      ],
    },
  };
}

/** A part's bytes as read: in memory when small, else spilled to its temporary file. */
interface SpooledPart {
  size: number;
  /** The whole part, when it stayed in memory. */
  bytes?: Buffer;
  /** When spilled: the fsync of the temporary file, giving its modification time. */
  synced?: Promise<{ mtimeMs: number }>;
}

/** Writes one part to a temporary file and decides whether it may be stored. */
async function receivePart(
  part: StowPart,
  index: number,
  context: StowContext,
  studyUid: string | undefined,
): Promise<PartResult> {
  const result: PartResult = { index };
  const partType = part.contentType
    ? parseContentType(part.contentType).mediaType
    : 'application/dicom';
  if (!DICOM_TYPES.has(partType)) {
    for await (const _ of part.body) {
      /* skipped */
    }
    result.failure = {
      code: FailureReason.ProcessingFailure,
      comment: `part type ${partType} is not application/dicom`,
    };
    return result;
  }
  const temp = await context.storage.tempPath();
  result.temp = temp;
  const spooled = await spoolPart(part.body, temp);
  if (spooled.synced) result.synced = spooled.synced;
  let identity: InstanceIdentity;
  let dataSetSource: () => Promise<DataSet>;
  try {
    ({ identity, dataSetSource } = await identify(temp, spooled));
  } catch (error) {
    result.failure = unreadable(error);
    return result;
  }
  result.identity = identity;
  result.sopClassUid = identity.sopClassUid;
  result.sopInstanceUid = identity.sopInstanceUid;
  const refused = refusal(identity, context, studyUid);
  if (refused) {
    result.failure = refused;
    return result;
  }
  let dataSet: DataSet;
  try {
    dataSet = await dataSetSource();
  } catch (error) {
    result.failure = { code: FailureReason.ProcessingFailure, comment: (error as Error).message };
    return result;
  }
  // A NUL inside a UID (part10 reads it cut at the NUL): invalid, never merged (issue 10).
  const uidFault = uidProblem(dataSet, identity);
  if (uidFault) {
    result.failure = { code: FailureReason.ValidationFailure, comment: uidFault };
    return result;
  }
  if (checkIndexedTags(result, identity, dataSet, context)) return result;
  context.reserved.add(identity.sopInstanceUid);
  const file = context.upsert
    ? upsertTarget(context.storage, identity)
    : context.storage.targetFor(
        identity.studyInstanceUid,
        identity.seriesInstanceUid,
        identity.sopInstanceUid,
      );
  // mtimeMs is set from the written file before the entry joins the index.
  result.entry = entryFromDataSet(
    dataSet,
    identity,
    { file, size: spooled.size, mtimeMs: 0 },
    context.storage.extendedFields,
  );
  if (spooled.bytes) {
    // Written in the background while the next part arrives.
    result.synced = writeDurably(temp, spooled.bytes);
    result.synced.catch(() => undefined);
  }
  return result;
}

/**
 * Reads a part. Small parts (nearly all) stay in memory until validated and are then written
 * in the background while the next part arrives; larger ones stream to `temp` as they come.
 */
async function spoolPart(body: AsyncIterable<Uint8Array>, temp: string): Promise<SpooledPart> {
  const head: Uint8Array[] = [];
  let size = 0;
  let handle: FileHandle | undefined;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (!handle && size <= IN_MEMORY_PART) {
        head.push(chunk);
        continue;
      }
      if (!handle) {
        handle = await open(temp, 'wx');
        for (const earlier of head) await handle.write(earlier);
      }
      await handle.write(chunk);
    }
    if (!handle) return { size, bytes: Buffer.concat(head, size) };
    const owned = handle;
    handle = undefined;
    // PS3.18 leaves durability to the origin server; we acknowledge only what is on disk.
    const synced = syncAndStamp(owned);
    synced.catch(() => undefined);
    return { size, synced };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** The instance's identity, and its data set when needed (read once for a part in memory). */
async function identify(
  temp: string,
  spooled: SpooledPart,
): Promise<{ identity: InstanceIdentity; dataSetSource: () => Promise<DataSet> }> {
  if (spooled.bytes) {
    // One parse gives both (dicom-parser was the largest share of the server's own CPU).
    const parsed = readInstanceIdentityAndDataSetFromBytes(spooled.bytes);
    return { identity: parsed.identity, dataSetSource: async () => parsed.dataSet };
  }
  await spooled.synced;
  return {
    identity: await readInstanceIdentity(temp),
    dataSetSource: async () => (await readInstanceHeader(temp)).dataSet,
  };
}

/** The failure of a part that is not readable DICOM: missing or bad UIDs fail validation. */
function unreadable(error: unknown): { code: number; comment: string } {
  const message = error instanceof DicomFileError ? error.message : String(error);
  const code =
    error instanceof DicomFileError &&
    (error.code === 'MISSING_UID' || error.code === 'INVALID_UID')
      ? FailureReason.ValidationFailure
      : FailureReason.ProcessingFailure;
  return { code, comment: message.replace(/^The (bytes|file)\s*/i, '') };
}

/**
 * Why an identified instance may not be stored, if it may not: invalid, of another study
 * than the URL's, already stored, being stored by another request, or its series belongs
 * to another study.
 */
function refusal(
  identity: InstanceIdentity,
  context: StowContext,
  studyUid: string | undefined,
): { code: number; comment: string } | undefined {
  const problem = validate(identity, context.apiVersion ?? 2);
  if (problem) return { code: FailureReason.ValidationFailure, comment: problem };
  if (studyUid && identity.studyInstanceUid !== studyUid) {
    return {
      code: FailureReason.StudyMismatch,
      comment: `StudyInstanceUID ${identity.studyInstanceUid} is not ${studyUid}`,
    };
  }
  const catalog = context.storage.catalog;
  // Upsert (PUT) replaces the stored instance instead (upsert.ts).
  if (!context.upsert && catalog.instancesByUid.has(identity.sopInstanceUid))
    return { code: FailureReason.Duplicate, comment: 'instance already exists' };
  if (context.reserved.has(identity.sopInstanceUid)) {
    return {
      code: FailureReason.BeingCreated,
      comment: 'instance is being stored by another request',
    };
  }
  const series = catalog.seriesByUid.get(identity.seriesInstanceUid);
  if (series && series.study.uid !== identity.studyInstanceUid) {
    return {
      code: FailureReason.ValidationFailure,
      comment: `series belongs to study ${series.study.uid}`,
    };
  }
  return undefined;
}

/**
 * Azure DICOM service conformance statement, "Store": StudyInstanceUID, SeriesInstanceUID,
 * SOPInstanceUID, SOPClassUID and PatientID are required; UIDs are 1–64 characters of
 * digits, letters, `.` and `-`. PatientID must be present; v2 "can have the value as null"
 * (conformance statement v2, "Store required attributes"), v1 needs a value (the service's
 * StoreDatasetValidator: a value in v1, presence in v2, and a warning for an empty one).
 */
function validate(identity: InstanceIdentity, apiVersion: number): string | undefined {
  for (const [name, uid] of [
    ['StudyInstanceUID', identity.studyInstanceUid],
    ['SeriesInstanceUID', identity.seriesInstanceUid],
    ['SOPInstanceUID', identity.sopInstanceUid],
    ['SOPClassUID', identity.sopClassUid],
  ] as const) {
    if (!isAcceptableUid(uid)) return `${name} "${uid.slice(0, 40)}" is not a valid UID`;
  }
  if (!identity.patientIdPresent) return 'PatientID (0010,0020) is missing';
  if (!identity.patientId && apiVersion < 2)
    return 'PatientID (0010,0020) is empty (v1 needs a value; v2 accepts it)';
  return undefined;
}

/**
 * What a stored instance is warned about, as the Azure service's StoreDatasetValidator does:
 * an empty PatientID (v2 only: v1 refused it in validate()) and, in every version, Implicit VR
 * Little Endian (45063). The conformance statement v2 says "Only transfer syntaxes with explicit
 * Value Representations are accepted"; the service stores such files, with that warning.
 */
function storeWarnings(identity: InstanceIdentity): PartResult['warnings'] {
  const warnings: NonNullable<PartResult['warnings']> = [];
  if (!identity.patientId)
    warnings.push({
      code: WarningReason.ValidationWarnings,
      comment: 'PatientID (0010,0020) is empty',
    });
  if (identity.transferSyntaxUid === TransferSyntax.ImplicitVRLittleEndian)
    warnings.push({
      code: WarningReason.DatasetDoesNotMatchSOPClass,
      // ErrorComment is LO: 64 characters at most (PS3.5 §6.2).
      comment: 'Implicit VR: explicit VR transfer syntaxes are expected',
    });
  return warnings.length ? warnings : undefined;
}

/**
 * The extended query tags' values checked against their VRs, as the Azure service's
 * StoreDatasetValidator does, and the instance's warnings. v1 (ValidateIndexedItemsAsync):
 * a value that does not fit fails the instance with 43264 and one ErrorComment per attribute;
 * several values warn (Warning header) and the first is indexed. v2 (with leniency): the
 * instance is stored, with WarningReason and the attribute in its FailedAttributesSequence,
 * 202, and the value is left out of the index ("nor can it be used in searches": StoreService
 * DropInvalidMetadata). Neither adds to the tag's error list: only a reindex does
 * (ReindexDatasetValidator → AddExtendedQueryTagError). True when the instance is refused.
 */
function checkIndexedTags(
  result: PartResult,
  identity: InstanceIdentity,
  dataSet: DataSet,
  context: StowContext,
): boolean {
  const { errors, multiple } = indexedTagProblems(dataSet, context.storage.extendedFields);
  const v1 = (context.apiVersion ?? 2) < 2;
  if (v1 && errors.length > 0) {
    result.failure = {
      code: FailureReason.ValidationFailure,
      comment: errors[0]!,
      attributes: errors,
    };
    return true;
  }
  if (v1 && multiple) result.multipleValues = true;
  const warnings = [
    ...(storeWarnings(identity) ?? []),
    ...errors.map((comment) => ({ code: WarningReason.ValidationWarnings, comment })),
  ];
  if (warnings.length > 0) result.warnings = warnings;
  return false;
}

/**
 * The ErrorComments of the extended query tags whose value does not fit, in Azure's form
 * (StoreValidationResultBuilder: "DICOM100: (gggg,eeee) - message"), and whether one holds
 * several values.
 */
function indexedTagProblems(
  dataSet: DataSet,
  fields: readonly FieldSpec[],
): { errors: string[]; multiple: boolean } {
  const errors: string[] = [];
  let multiple = false;
  for (const field of fields) {
    const outcome = field.check?.(dataSet);
    if (outcome?.error) errors.push(`DICOM100: ${formatTag(field.tag)} - ${outcome.error}`);
    if (outcome?.multiple) multiple = true;
  }
  return { errors, multiple };
}

/** fsync, then the modification time the index records, then close. */
async function syncAndStamp(handle: FileHandle): Promise<{ mtimeMs: number }> {
  try {
    // fdatasync: the data and the size; the modification time needs no flush of its own.
    await handle.datasync();
    return { mtimeMs: (await handle.stat()).mtimeMs };
  } finally {
    await handle.close();
  }
}

/** Writes a whole (small) file and fsyncs it. */
async function writeDurably(path: string, bytes: Uint8Array): Promise<{ mtimeMs: number }> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(bytes);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return syncAndStamp(handle);
}

async function discard(results: PartResult[]): Promise<void> {
  for (const result of results) {
    if (!result.temp) continue;
    await result.synced?.catch(() => undefined);
    await rm(result.temp, { force: true }).catch(() => undefined);
    result.temp = undefined;
  }
}
