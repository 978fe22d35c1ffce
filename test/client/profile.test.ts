/**
 * Server profile detection against the real Orthancs: from the DICOMweb URL alone (no
 * server root given), Orthanc is recognised by its `GET /system`, and deletes (Orthanc's
 * REST lookup then delete) work after detection, with and without HTTP basic auth.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DicomWebClient,
  DicomWebHttpError,
  basicAuth,
  type RequestLogEntry,
} from '../../src/dicomweb';
import { freePort, clearOrthanc } from '../support/orthanc';
import { orthanc, resetOrthanc, securedOrthanc, tempDir } from '../support/env';
import { SEED, writeSeedFiles } from '../support/seedData';

describe('detectProfile', () => {
  let files: string[];
  const clients: DicomWebClient[] = [];
  const track = (client: DicomWebClient): DicomWebClient => {
    clients.push(client);
    return client;
  };

  before(async () => {
    await resetOrthanc();
    await clearOrthanc({
      restUrl: securedOrthanc.restUrl,
      basicAuth: { username: securedOrthanc.username, password: securedOrthanc.password },
    });
    files = await writeSeedFiles(tempDir('profile'));
  });
  after(async () => {
    for (const client of clients.splice(0)) await client.close();
  });

  it("Orthanc's DICOMweb URL alone: generic at first, 'orthanc' after detection, and deletes then work", async () => {
    const log: RequestLogEntry[] = [];
    const client = track(
      new DicomWebClient({ baseUrl: orthanc.dicomWebUrl, onRequest: (entry) => log.push(entry) }),
    );
    assert.equal(client.serverProfile.kind, 'generic');
    assert.equal((await client.storeInstances(files)).stored, 3);

    const profile = await client.detectProfile();
    assert.equal(profile.kind, 'orthanc');
    assert.equal(client.serverProfile.capabilities.deleteMethod, 'orthanc-rest');
    assert.ok(
      log.some((entry) => entry.url === `${orthanc.restUrl}/system` && entry.status === 200),
      log.map((e) => `${e.url} ${e.status}`).join('\n'),
    );

    await client.deleteInstance(
      SEED.studyInstanceUid,
      SEED.redTriangle.seriesInstanceUid,
      SEED.redTriangle.sopInstanceUid,
    );
    assert.equal(
      (await client.searchForInstances({}, { studyInstanceUid: SEED.studyInstanceUid })).items
        .length,
      2,
    );
    await client.deleteSeries(SEED.studyInstanceUid, SEED.blueCircle.seriesInstanceUid);
    assert.equal(
      (await client.searchForInstances({}, { studyInstanceUid: SEED.studyInstanceUid })).items
        .length,
      1,
    );
    await client.deleteStudy(SEED.studyInstanceUid);
    assert.deepEqual(
      (await client.searchForStudies({ match: { StudyInstanceUID: SEED.studyInstanceUid } })).items,
      [],
    );
  });

  it('without detection a generic client deletes the DICOMweb way, which Orthanc refuses with 405', async () => {
    const client = track(new DicomWebClient({ baseUrl: orthanc.dicomWebUrl }));
    assert.equal((await client.storeInstances(files)).stored, 3);
    await assert.rejects(
      client.deleteStudy(SEED.studyInstanceUid),
      (error: unknown) => error instanceof DicomWebHttpError && error.status === 405,
    );
    assert.equal(
      (await client.searchForStudies({ match: { StudyInstanceUID: SEED.studyInstanceUid } })).items
        .length,
      1,
      'nothing deleted',
    );
  });

  it("an 'orthanc' client without a server root finds it by itself on the first delete", async () => {
    const client = track(
      new DicomWebClient({ baseUrl: orthanc.dicomWebUrl, serverKind: 'orthanc' }),
    );
    await client.deleteStudy(SEED.studyInstanceUid);
    assert.deepEqual(
      (await client.searchForStudies({ match: { StudyInstanceUID: SEED.studyInstanceUid } })).items,
      [],
    );
  });

  it("the basic-auth Orthanc: detected as 'orthanc' with its credentials, and deletes work", async () => {
    const client = track(
      new DicomWebClient({
        baseUrl: securedOrthanc.dicomWebUrl,
        auth: basicAuth(securedOrthanc.username, securedOrthanc.password),
      }),
    );
    assert.equal((await client.storeInstances(files)).stored, 3);
    assert.equal((await client.detectProfile()).kind, 'orthanc');
    await client.deleteSeries(SEED.studyInstanceUid, SEED.redTriangle.seriesInstanceUid);
    const left = await client.searchForSeries({}, { studyInstanceUid: SEED.studyInstanceUid });
    assert.deepEqual(
      left.items.map((item) => item['0020000E']?.Value?.[0]),
      [SEED.blueCircle.seriesInstanceUid],
    );
    await client.deleteStudy(SEED.studyInstanceUid);
    assert.deepEqual((await client.searchForStudies()).items, []);
  });

  it('with a wrong password the probe fails quietly: generic, never a throw', async () => {
    const client = track(
      new DicomWebClient({
        baseUrl: securedOrthanc.dicomWebUrl,
        auth: basicAuth(securedOrthanc.username, 'wrong'),
      }),
    );
    assert.equal((await client.detectProfile()).kind, 'generic');
  });

  it('nothing listening: generic, quickly, never a throw', async () => {
    const port = await freePort();
    const client = track(new DicomWebClient({ baseUrl: `http://127.0.0.1:${port}/dicom-web` }));
    const started = Date.now();
    assert.equal((await client.detectProfile()).kind, 'generic');
    assert.ok(Date.now() - started < 5_000);
  });

  it('a configured kind is kept when the probe finds nothing', async () => {
    const port = await freePort();
    const client = track(
      new DicomWebClient({
        baseUrl: `http://127.0.0.1:${port}/dicomweb`,
        serverKind: 'dcm4chee',
        retry: { retries: 0 },
      }),
    );
    assert.equal((await client.detectProfile()).kind, 'dcm4chee');
  });

  it('Azure and Google are recognised by their host names without a request', async () => {
    const log: RequestLogEntry[] = [];
    const azure = track(
      new DicomWebClient({
        baseUrl: 'https://contoso-dicom.dicom.azurehealthcareapis.com/v2',
        onRequest: (entry) => log.push(entry),
      }),
    );
    assert.equal(azure.serverProfile.kind, 'azure');
    assert.equal((await azure.detectProfile()).kind, 'azure');
    const google = track(
      new DicomWebClient({
        baseUrl:
          'https://healthcare.googleapis.com/v1/projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb',
        onRequest: (entry) => log.push(entry),
      }),
    );
    assert.equal((await google.detectProfile()).kind, 'google');
    assert.deepEqual(log, []);
  });
});
