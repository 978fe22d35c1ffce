/**
 * Deleting a study, series or instance. Not in PS3.18: each kind of server deletes its own
 * way (serverProfiles.ts `deleteMethod`): a DICOMweb-path `DELETE` (Azure, Google,
 * the local server; Google's may be a long-running operation), Orthanc's REST API by its
 * own IDs, or dcm4chee-arc's reject-then-delete.
 */
import { parseJson, readSmallBody } from '../answers';
import {
  DEFAULT_OPERATION_POLLING,
  operationsRoot,
  parseOperation,
  type LongRunningOperation,
} from './operations';
import { deleteRequest, resourcePath, type InstancePath, type RequestSpec } from '../requests';
import type { DicomWebSession, RequestOptions } from '../session';
import { DicomWebError, DicomWebHttpError } from '../transport/errors';
import { sleep } from '../transport/http';

/** A DELETE answer is empty or a small JSON operation: a body past this is not read. */
const OPERATION_BODY_LIMIT = 64 * 1024;

/**
 * Deletes exactly the resource named, the way the server kind allows. A missing resource
 * rejects with a 404 {@link DicomWebHttpError}, so a caller never believes a no-op worked.
 */
export async function deleteResource(
  session: DicomWebSession,
  target: InstancePath,
  options: RequestOptions = {},
): Promise<void> {
  resourcePath(target); // validates every UID before anything is sent
  const profile = session.serverProfile;
  switch (profile.capabilities.deleteMethod) {
    case 'dicomweb': {
      const spec = deleteRequest(target);
      const response = await session.send(spec, { signal: options.signal });
      // Azure and the local server: 204, no body. Google: a long-running operation for a
      // study or a series; the data is gone only when it is done.
      const operation = parseOperation(await readSmallBody(response, OPERATION_BODY_LIMIT));
      if (operation) await waitForOperation(session, operation, options);
      return;
    }
    case 'orthanc-rest':
      return deleteWithOrthancRest(session, target, options);
    case 'dcm4chee-reject':
      return deleteWithDcm4cheeReject(session, target, options);
    default:
      throw new DicomWebError('UNSUPPORTED', `${profile.label} does not offer deletion`);
  }
}

/** The request descriptions a delete sends, for "Copy as cURL" and the log. */
export function deleteRequests(session: DicomWebSession, target: InstancePath): RequestSpec[] {
  const method = session.serverProfile.capabilities.deleteMethod;
  if (method === 'orthanc-rest') {
    const uid = target.sopInstanceUid ?? target.seriesInstanceUid ?? target.studyInstanceUid;
    const level = target.sopInstanceUid
      ? 'instances'
      : target.seriesInstanceUid
        ? 'series'
        : 'studies';
    return [
      {
        method: 'POST',
        path: '/tools/lookup',
        headers: { 'content-type': 'text/plain' },
        body: { kind: 'text', contentType: 'text/plain', text: uid },
        root: 'server',
      },
      {
        method: 'DELETE',
        path: `/${level}/{Orthanc ID from the lookup}`,
        headers: {},
        root: 'server',
      },
    ];
  }
  if (method === 'dcm4chee-reject') {
    const reject: RequestSpec = {
      method: 'POST',
      path: `${resourcePath(target)}/reject/113001^DCM`,
      headers: {},
    };
    return target.seriesInstanceUid ? [reject] : [reject, deleteRequest(target)];
  }
  return [deleteRequest(target)];
}

/**
 * Polls a long-running operation (`GET {api root}/{name}`) until it is done, with waits
 * doubling from {@link OperationPolling.firstDelayMs} to `maxDelayMs`. A failed operation
 * rejects with OPERATION_FAILED and the server's message; past `timeoutMs` with TIMEOUT,
 * naming the operation so the user can look it up.
 */
async function waitForOperation(
  session: DicomWebSession,
  first: LongRunningOperation,
  options: RequestOptions,
): Promise<void> {
  const polling = { ...DEFAULT_OPERATION_POLLING, ...session.operationPolling };
  const root = operationsRoot(session.baseUrl);
  const url = root ? `${root}/${first.name}` : undefined;
  const deadline = performance.now() + polling.timeoutMs;
  let operation = first;
  let delay = polling.firstDelayMs;
  while (!operation.done) {
    if (!url) {
      throw new DicomWebError(
        'UNSUPPORTED',
        `the server answered with operation ${first.name}, but its API root is not in the URL ${session.baseUrl}`,
      );
    }
    if (performance.now() + delay > deadline) {
      throw new DicomWebError(
        'TIMEOUT',
        `the delete was still running on the server after ${Math.round(polling.timeoutMs / 1000)} s (operation ${first.name})`,
        { method: 'GET', url },
      );
    }
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, polling.maxDelayMs);
    operation = await pollOperation(session, url, first.name, options);
  }
  if (operation.error) {
    throw new DicomWebError(
      'OPERATION_FAILED',
      `the server could not finish the delete: ${operation.error.message ?? `code ${operation.error.code ?? '?'}`} (operation ${first.name})`,
      {
        method: 'GET',
        url: url ?? session.baseUrl,
        serverMessage: operation.error.message,
      },
    );
  }
}

/** One look at the operation `name`; an answer about anything else is malformed. */
async function pollOperation(
  session: DicomWebSession,
  url: string,
  name: string,
  options: RequestOptions,
): Promise<LongRunningOperation> {
  const { bytes } = await session.transport.sendForBytes({
    method: 'GET',
    url,
    headers: { accept: 'application/json' },
    signal: options.signal,
    ...session.inMemory('json'),
  });
  const next = parseOperation(bytes);
  if (!next || next.name !== name) {
    throw new DicomWebError(
      'MALFORMED_RESPONSE',
      `the answer about operation ${name} is not that operation`,
      { method: 'GET', url },
    );
  }
  return next;
}

/** Orthanc's REST root: configured, or found above the DICOMweb URL by detection. */
async function orthancRoot(session: DicomWebSession, options: RequestOptions): Promise<string> {
  if (session.serverRoot) return session.serverRoot;
  await session.detectProfile(options);
  if (!session.serverRoot) {
    throw new DicomWebError(
      'UNSUPPORTED',
      'cannot find the Orthanc REST API above this DICOMweb URL; set the server root',
    );
  }
  return session.serverRoot;
}

/** Orthanc's UID → its own ID (`POST /tools/lookup`, body = raw UID). */
async function orthancLookup(
  session: DicomWebSession,
  root: string,
  uid: string,
  type: 'Study' | 'Series' | 'Instance',
  options: RequestOptions,
): Promise<string | undefined> {
  const { bytes } = await session.transport.sendForBytes({
    method: 'POST',
    url: `${root}/tools/lookup`,
    headers: { 'content-type': 'text/plain', accept: 'application/json' },
    body: uid,
    signal: options.signal,
    ...session.inMemory('json'),
  });
  const found = parseJson(bytes, 'POST', `${root}/tools/lookup`) as Array<{
    ID?: string;
    Type?: string;
  }>;
  return Array.isArray(found) ? found.find((entry) => entry.Type === type)?.ID : undefined;
}

/** The Orthanc ID of a series' study or an instance's series. */
async function orthancParent(
  session: DicomWebSession,
  root: string,
  level: 'series' | 'instances',
  id: string,
  options: RequestOptions,
): Promise<string | undefined> {
  const { bytes } = await session.transport.sendForBytes({
    method: 'GET',
    url: `${root}/${level}/${id}`,
    headers: { accept: 'application/json' },
    signal: options.signal,
    ...session.inMemory('json'),
  });
  const body = parseJson(bytes, 'GET', `${root}/${level}/${id}`) as {
    ParentStudy?: string;
    ParentSeries?: string;
  };
  return level === 'series' ? body.ParentStudy : body.ParentSeries;
}

async function deleteWithOrthancRest(
  session: DicomWebSession,
  target: InstancePath,
  options: RequestOptions,
): Promise<void> {
  const root = await orthancRoot(session, options);
  const path = await orthancPathOf(session, root, target, options);
  const response = await session.transport.send({
    method: 'DELETE',
    url: `${root}${path}`,
    signal: options.signal,
  });
  await response.dump();
}

/**
 * The Orthanc REST path of exactly the resource named, following the parent chain so that
 * a series or instance UID reused under another study is never hit; 404 when not there.
 */
async function orthancPathOf(
  session: DicomWebSession,
  root: string,
  target: InstancePath,
  options: RequestOptions,
): Promise<string> {
  const notFound = (what: string, uid: string): DicomWebHttpError =>
    new DicomWebHttpError(
      'DELETE',
      session.urlOf(deleteRequest(target)),
      404,
      'Not Found',
      `${what} ${uid} is not on the server`,
    );
  const lookup = (
    uid: string,
    type: 'Study' | 'Series' | 'Instance',
  ): Promise<string | undefined> => orthancLookup(session, root, uid, type, options);
  const parent = (level: 'series' | 'instances', id: string): Promise<string | undefined> =>
    orthancParent(session, root, level, id, options);

  const studyId = await lookup(target.studyInstanceUid, 'Study');
  if (!studyId) throw notFound('study', target.studyInstanceUid);
  if (!target.seriesInstanceUid) return `/studies/${studyId}`;
  const seriesId = await lookup(target.seriesInstanceUid, 'Series');
  if (!seriesId || (await parent('series', seriesId)) !== studyId) {
    throw notFound('series', target.seriesInstanceUid);
  }
  if (!target.sopInstanceUid) return `/series/${seriesId}`;
  const instanceId = await lookup(target.sopInstanceUid, 'Instance');
  if (!instanceId || (await parent('instances', instanceId)) !== seriesId) {
    throw notFound('instance', target.sopInstanceUid);
  }
  return `/instances/${instanceId}`;
}

async function deleteWithDcm4cheeReject(
  session: DicomWebSession,
  target: InstancePath,
  options: RequestOptions,
): Promise<void> {
  // dcm4chee-arc refuses to delete what was not rejected first (403); 113001^DCM is
  // "Rejected for Quality Reasons" (PS3.16 CID 7011). Rejected series and instances are
  // hidden from QIDO/WADO at once; a rejected study can then be deleted for good.
  const reject = await session.transport.send({
    method: 'POST',
    url: `${session.baseUrl}${resourcePath(target)}/reject/113001^DCM`,
    signal: options.signal,
  });
  await reject.dump();
  if (!target.seriesInstanceUid) {
    const response = await session.send(deleteRequest(target), { signal: options.signal });
    await response.dump();
  }
}
