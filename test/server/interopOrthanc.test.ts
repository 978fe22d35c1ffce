/**
 * Orthanc's DICOMweb plugin as a client of the local server (Orthanc 1.10, DICOMweb plugin
 * 1.7, Debian): the local server is registered in Orthanc as a DICOMweb server with its
 * bearer token as an HTTP header (`PUT /dicom-web/servers/{name}`, "HttpHeaders"), then
 * Orthanc pushes its instances there (`/stow`), searches it (`/get`, QIDO-RS relayed) and
 * pulls a study back (`/retrieve`, WADO-RS); each is checked on both sides.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DicomWebClient, bearerAuth, readPartBody } from '../../src/dicomweb';
import type { LocalServer } from '../../src/server';
import { readFile } from 'node:fs/promises';
import { readInstanceIdentity } from '../../src/dicom/part10';
import { startOrthanc, type OrthancInstance } from '../support/orthanc';
import { ensureSampleFiles } from '../support/sampleFiles';
import { smallInstance, startTestServer } from './helpers';

const TOKEN = 'orthanc-interop-token';
const SERVER = 'local';

/** One call to Orthanc's REST API; the body as JSON when it is an object, else as it is. */
async function orthanc(
  instance: OrthancInstance,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; text: string }> {
  const response = await fetch(`${instance.restUrl}${path}`, {
    method,
    body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

describe("Orthanc's DICOMweb plugin as a client of the local server", () => {
  let server: LocalServer;
  let orthancServer: OrthancInstance;
  let client: DicomWebClient;
  const orthancIds = new Map<string, string>();
  const pushed = [
    smallInstance('interop-push-a'),
    smallInstance('interop-push-b', {
      studyUid: smallInstance('interop-push-a').params.studyUid,
      seriesUid: smallInstance('interop-push-a').params.seriesUid,
    }),
  ];

  before(async () => {
    server = await startTestServer({ token: TOKEN });
    client = new DicomWebClient({
      baseUrl: `${server.url}/v2`,
      serverKind: 'local',
      auth: bearerAuth(async () => TOKEN),
    });
    orthancServer = await startOrthanc({ name: 'interop' });
  });
  after(async () => {
    await client.close();
    await orthancServer?.stop();
    await server.close();
  });

  it('registers the local server with its token as an HTTP header', async () => {
    const put = await orthanc(orthancServer, 'PUT', `/dicom-web/servers/${SERVER}`, {
      Url: `${server.url}/v2/`,
      HttpHeaders: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(put.status, 200, put.text);
    const listed = await orthanc(orthancServer, 'GET', '/dicom-web/servers');
    assert.deepEqual(listed.json, [SERVER]);
  });

  it("pushes Orthanc's instances to the local server (/stow): stored there, byte for byte", async () => {
    for (const instance of pushed) {
      const stored = await orthanc(orthancServer, 'POST', '/instances', instance.bytes);
      assert.equal(stored.status, 200, stored.text);
      orthancIds.set(instance.params.sopInstanceUid, (stored.json as { ID: string }).ID);
    }
    const stow = await orthanc(orthancServer, 'POST', `/dicom-web/servers/${SERVER}/stow`, {
      Resources: [...orthancIds.values()],
      Synchronous: true,
    });
    assert.equal(stow.status, 200, stow.text);
    for (const instance of pushed) {
      const { studyUid, seriesUid, sopInstanceUid } = instance.params;
      const part = await client.retrieveInstanceFile({
        studyInstanceUid: studyUid,
        seriesInstanceUid: seriesUid,
        sopInstanceUid,
      });
      const onLocal = Buffer.from(await readPartBody(part));
      const inOrthanc = await fetch(
        `${orthancServer.restUrl}/instances/${orthancIds.get(sopInstanceUid)}/file`,
      );
      const original = Buffer.from(await inOrthanc.arrayBuffer());
      assert.equal(Buffer.compare(onLocal, original), 0, `${sopInstanceUid} arrived whole`);
    }
  });

  it('searches the local server through Orthanc (/get): studies, series and instances', async () => {
    const study = pushed[0]!.params.studyUid;
    const get = (Uri: string, Arguments: Record<string, string> = {}) =>
      orthanc(orthancServer, 'POST', `/dicom-web/servers/${SERVER}/get`, { Uri, Arguments });
    const studies = await get('/studies', { StudyInstanceUID: study });
    assert.equal(studies.status, 200, studies.text);
    const studyRows = studies.json as Array<Record<string, { Value?: unknown[] }>>;
    assert.deepEqual(
      studyRows.map((row) => row['0020000D']?.Value?.[0]),
      [study],
    );
    assert.equal(studyRows[0]!['00201208']?.Value?.[0], 2, 'NumberOfStudyRelatedInstances');
    const series = await get(`/studies/${study}/series`);
    assert.equal(series.status, 200, series.text);
    assert.equal((series.json as unknown[]).length, 1);
    const instances = await get(`/studies/${study}/instances`, { includefield: '00100010' });
    assert.equal(instances.status, 200, instances.text);
    const uids = (instances.json as Array<Record<string, { Value?: unknown[] }>>)
      .map((row) => row['00080018']?.Value?.[0])
      .sort();
    assert.deepEqual(uids, pushed.map((p) => p.params.sopInstanceUid).sort());
    const metadata = await get(`/studies/${study}/metadata`);
    assert.equal(metadata.status, 200, metadata.text);
    assert.equal((metadata.json as unknown[]).length, 2);
  });

  it('pulls a study the local server holds into Orthanc (/retrieve), byte for byte', async () => {
    const only = smallInstance('interop-pull');
    const stored = await rawStore(server, only.bytes);
    assert.equal(stored, 200);
    const retrieve = await orthanc(orthancServer, 'POST', `/dicom-web/servers/${SERVER}/retrieve`, {
      Resources: [{ Study: only.params.studyUid }],
      Synchronous: true,
    });
    assert.equal(retrieve.status, 200, retrieve.text);
    const id = await orthancInstanceId(orthancServer, only.params.sopInstanceUid);
    const file = await fetch(`${orthancServer.restUrl}/instances/${id}/file`);
    const bytes = Buffer.from(await file.arrayBuffer());
    assert.equal(Buffer.compare(bytes, only.bytes), 0, 'pulled whole');
  });

  it('pulls a JPEG instance at the instance level (/retrieve): Orthanc holds it, pixels intact', async () => {
    const samples = await ensureSampleFiles();
    const jpeg = samples.files.jpegBaselineRgb;
    const identity = await readInstanceIdentity(jpeg.path);
    assert.equal(await rawStore(server, await readFile(jpeg.path)), 200);
    const retrieve = await orthanc(orthancServer, 'POST', `/dicom-web/servers/${SERVER}/retrieve`, {
      Resources: [
        {
          Study: identity.studyInstanceUid,
          Series: identity.seriesInstanceUid,
          Instance: identity.sopInstanceUid,
        },
      ],
      Synchronous: true,
    });
    assert.equal(retrieve.status, 200, retrieve.text);
    const id = await orthancInstanceId(orthancServer, identity.sopInstanceUid);
    const syntax = await orthanc(orthancServer, 'GET', `/instances/${id}/metadata/TransferSyntax`);
    const png = await fetch(`${orthancServer.restUrl}/instances/${id}/preview`);
    const bytes = Buffer.from(await png.arrayBuffer());
    assert.equal(
      png.status,
      200,
      `Orthanc decodes the pulled pixels (transfer syntax ${syntax.text})`,
    );
    assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
    // Measured: Orthanc asks for the stored syntax (transfer-syntax=*), so nothing is transcoded.
    assert.equal(syntax.text, jpeg.transferSyntaxUid);
  });

  it('is refused without the token header: the local server answers Orthanc 401', async () => {
    await orthanc(orthancServer, 'PUT', '/dicom-web/servers/anonymous', {
      Url: `${server.url}/v2/`,
    });
    const get = await orthanc(orthancServer, 'POST', '/dicom-web/servers/anonymous/get', {
      Uri: '/studies',
    });
    assert.notEqual(get.status, 200);
    assert.match(get.text, /401/);
  });
});

/** Orthanc's own id of the instance with this SOP Instance UID; fails when it holds none. */
async function orthancInstanceId(
  instance: OrthancInstance,
  sopInstanceUid: string,
): Promise<string> {
  const listed = await orthanc(instance, 'GET', '/instances?expand');
  const found = (
    listed.json as Array<{ ID: string; MainDicomTags: { SOPInstanceUID?: string } }>
  ).find((entry) => entry.MainDicomTags.SOPInstanceUID === sopInstanceUid);
  assert.ok(found, `Orthanc holds ${sopInstanceUid}: ${listed.text.slice(0, 300)}`);
  return found.ID;
}

/** One single-part STOW straight to the local server (the Azure form), with the token. */
async function rawStore(server: LocalServer, bytes: Buffer): Promise<number> {
  const response = await fetch(`${server.url}/v2/studies`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/dicom',
      accept: 'application/dicom+json',
    },
    body: bytes,
  });
  await response.arrayBuffer();
  return response.status;
}
