/**
 * The dcmjs `dicomweb-client` (npm; what OHIF and many notebooks use) against the local
 * server with a bearer token, over test/support/nodeXhr.ts: store, search at every level and
 * scope, metadata at three levels, retrieve of an instance, a series and a study, frames and
 * bulk data. test/server/notebookCode.test.ts runs the snippets the extension prints (store,
 * search, study metadata, frames, delete); this covers the calls those snippets never make.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { api } from 'dicomweb-client';
import { Tag } from '../../src/dicom/tags';
import type { LocalServer } from '../../src/server';
import { installNodeXhr } from '../support/nodeXhr';
import { SEED, writeSeedFiles } from '../support/seedData';
import { ensureSampleFiles, type SampleFile } from '../support/sampleFiles';
import { readInstanceIdentity } from '../../src/dicom/part10';
import { startTestServer, tempDir } from './helpers';

const TOKEN = 'dcmjs-interop-token';
const STUDY = SEED.studyInstanceUid;
type Dataset = Record<string, { vr?: string; Value?: unknown[]; BulkDataURI?: string }>;

/** The calls of the library used here (its types mark options the calls do not need). */
interface DcmjsClient {
  storeInstances(options: { datasets: ArrayBuffer[] }): Promise<unknown>;
  searchForStudies(options?: object): Promise<Dataset[]>;
  searchForSeries(options?: object): Promise<Dataset[]>;
  searchForInstances(options?: object): Promise<Dataset[]>;
  retrieveStudyMetadata(options: object): Promise<Dataset[]>;
  retrieveSeriesMetadata(options: object): Promise<Dataset[]>;
  retrieveInstanceMetadata(options: object): Promise<Dataset[]>;
  retrieveInstance(options: object): Promise<ArrayBuffer>;
  retrieveSeries(options: object): Promise<ArrayBuffer[]>;
  retrieveStudy(options: object): Promise<ArrayBuffer[]>;
  retrieveInstanceFrames(options: object): Promise<Array<ArrayBuffer | Uint8Array>>;
  retrieveBulkData(options: object): Promise<Array<ArrayBuffer | Uint8Array>>;
}

const value = (dataset: Dataset | undefined, tag: string): unknown => dataset?.[tag]?.Value?.[0];
const arrayBufferOf = (bytes: Buffer): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

describe('the dcmjs dicomweb-client against the local server', () => {
  let server: LocalServer;
  let client: DcmjsClient;
  let files: string[];
  let jpeg: SampleFile;
  let jpegIds: { studyInstanceUID: string; seriesInstanceUID: string; sopInstanceUID: string };

  before(async () => {
    installNodeXhr();
    server = await startTestServer({ token: TOKEN });
    type Options = ConstructorParameters<typeof api.DICOMwebClient>[0];
    client = new api.DICOMwebClient({
      url: `${server.url}/v2`,
      headers: { Authorization: `Bearer ${TOKEN}` },
    } as Options) as unknown as DcmjsClient;
    files = await writeSeedFiles(tempDir('dcmjs'));
    jpeg = (await ensureSampleFiles()).files.jpegBaselineRgb;
    const identity = await readInstanceIdentity(jpeg.path);
    jpegIds = {
      studyInstanceUID: identity.studyInstanceUid,
      seriesInstanceUID: identity.seriesInstanceUid,
      sopInstanceUID: identity.sopInstanceUid,
    };
  });
  after(() => server.close());

  it('stores the seed files and a JPEG instance in one multipart request', async () => {
    const datasets = await Promise.all(
      [...files, jpeg.path].map(async (file) => arrayBufferOf(await readFile(file))),
    );
    await client.storeInstances({ datasets });
    const studies = await client.searchForStudies();
    assert.deepEqual(
      studies.map((study) => value(study, Tag.StudyInstanceUID)).sort(),
      [STUDY, jpegIds.studyInstanceUID].sort(),
    );
  });

  it('searches series and instances at the root, in a study and in a series', async () => {
    const allSeries = await client.searchForSeries();
    assert.equal(allSeries.length, 3, 'the seed has two series, the JPEG file one');
    const seedSeries = await client.searchForSeries({ studyInstanceUID: STUDY });
    assert.equal(seedSeries.length, 2);
    assert.equal((await client.searchForInstances()).length, 4);
    assert.equal((await client.searchForInstances({ studyInstanceUID: STUDY })).length, 3);
    const red = SEED.redTriangle;
    const inSeries = await client.searchForInstances({
      studyInstanceUID: STUDY,
      seriesInstanceUID: red.seriesInstanceUid,
    });
    assert.ok(inSeries.some((row) => value(row, Tag.SOPInstanceUID) === red.sopInstanceUid));
    const byName = await client.searchForStudies({
      queryParams: { PatientName: '*', includefield: 'StudyDescription' },
    });
    assert.equal(byName.length, 2);
  });

  it('retrieves metadata at the study, series and instance level', async () => {
    const red = SEED.redTriangle;
    assert.equal((await client.retrieveStudyMetadata({ studyInstanceUID: STUDY })).length, 3);
    const series = await client.retrieveSeriesMetadata({
      studyInstanceUID: STUDY,
      seriesInstanceUID: red.seriesInstanceUid,
    });
    assert.ok(series.length >= 1);
    const [instance] = await client.retrieveInstanceMetadata({
      studyInstanceUID: STUDY,
      seriesInstanceUID: red.seriesInstanceUid,
      sopInstanceUID: red.sopInstanceUid,
    });
    assert.equal(value(instance, Tag.SOPInstanceUID), red.sopInstanceUid);
    assert.ok(instance?.[Tag.PixelData]?.BulkDataURI, 'Pixel Data is offered by URI');
  });

  it('retrieves an instance (its bytes as stored), a series and a study', async () => {
    const red = SEED.redTriangle;
    const instance = await client.retrieveInstance({
      studyInstanceUID: STUDY,
      seriesInstanceUID: red.seriesInstanceUid,
      sopInstanceUID: red.sopInstanceUid,
    });
    const file = files.find((path) => path.endsWith(red.fileName))!;
    assert.ok(Buffer.from(instance).equals(await readFile(file)), 'the stored bytes');
    const series = await client.retrieveSeries({
      studyInstanceUID: STUDY,
      seriesInstanceUID: red.seriesInstanceUid,
    });
    assert.ok(series.length >= 1);
    assert.equal((await client.retrieveStudy({ studyInstanceUID: STUDY })).length, 3);
  });

  it('retrieves a JPEG frame as stored and Pixel Data by its BulkDataURI', async () => {
    const [frame] = await client.retrieveInstanceFrames({
      ...jpegIds,
      frameNumbers: [1],
      mediaTypes: [{ mediaType: 'image/jpeg', transferSyntaxUID: jpeg.transferSyntaxUid }],
    });
    const bytes = new Uint8Array(frame as ArrayBuffer);
    assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], 'a JPEG stream (SOI)');
    const [metadata] = await client.retrieveInstanceMetadata(jpegIds);
    const uri = metadata?.[Tag.PixelData]?.BulkDataURI;
    assert.ok(uri);
    const [bulk] = await client.retrieveBulkData({ BulkDataURI: uri });
    assert.ok(new Uint8Array(bulk as ArrayBuffer).byteLength > 0, 'Pixel Data bulk data');
  });
});
