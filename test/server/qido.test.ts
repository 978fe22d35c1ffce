/**
 * QIDO-RS matching on the local server (PS3.4 §C.2.2.2, PS3.18 §8.3.4, the Azure DICOM
 * service's rules): wildcards, date ranges, UID lists, fuzzy person names, includefield,
 * limit/offset newest-first, and percent-decoded values (which Orthanc does not decode).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LocalServer } from '../../src/server';
import { multipart, rawRequest, smallInstance, startTestServer, stringOf } from './helpers';

type Dataset = Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string } | undefined>;

const PATIENTS = [
  { name: 'Doe^John', date: '20200105', modality: 'CT', id: 'P1' },
  { name: 'Doe^Jane', date: '20200615', modality: 'MR', id: 'P2' },
  { name: 'Smith^Johnny^Q', date: '20210101', modality: 'CT', id: 'P3' },
  { name: 'Müller^Anna', date: '20221231', modality: 'US', id: 'P4' },
];

describe('QIDO-RS matching on the local server', () => {
  let server: LocalServer;
  const studies: string[] = [];

  before(async () => {
    server = await startTestServer();
    for (const [i, p] of PATIENTS.entries()) {
      const { bytes, params } = smallInstance(`qido-${i}`, {
        patientName: p.name,
        studyDate: p.date,
        modality: p.modality,
        patientId: p.id,
        // UTF-8 names need their character set (PS3.5 §6.1.2.3).
        extraElements: [{ tag: 0x00080005, vr: 'CS', value: 'ISO_IR 192' }],
      });
      studies.push(params.studyUid);
      // Second instance in the same series, to count instances.
      const twin = smallInstance(`qido-${i}-b`, {
        ...params,
        sopInstanceUid: `${params.sopInstanceUid}.2`,
        instanceNumber: 2,
        patientName: p.name,
        extraElements: [{ tag: 0x00080005, vr: 'CS', value: 'ISO_IR 192' }],
      });
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        {
          'content-type': 'multipart/related; type="application/dicom"; boundary=qq',
          accept: 'application/dicom+json',
        },
        multipart('qq', [{ body: bytes }, { body: twin.bytes }]),
      );
      assert.equal(response.status, 200, response.text);
    }
  });
  after(() => server.close());

  async function search(path: string): Promise<Dataset[]> {
    const response = await rawRequest(server, 'GET', path, { accept: 'application/dicom+json' });
    if (response.status === 204) return [];
    assert.equal(response.status, 200, `${path}: ${response.text}`);
    return response.json() as Dataset[];
  }
  const names = (results: Dataset[]) =>
    results.map((r) => (r['00100010']?.Value?.[0] as { Alphabetic: string }).Alphabetic).sort();

  it('exact person name, case-insensitive; percent-encoded ^ and + decoded', async () => {
    assert.deepEqual(names(await search('/v2/studies?PatientName=Doe^John')), ['Doe^John']);
    assert.deepEqual(names(await search('/v2/studies?PatientName=doe%5Ejohn')), ['Doe^John']);
    assert.deepEqual(
      names(await search('/v2/studies?PatientName=M%C3%BCller%5EAnna')),
      ['Müller^Anna'],
      'UTF-8 decoded and matched',
    );
  });

  it('wildcards * and ?', async () => {
    assert.deepEqual(names(await search('/v2/studies?PatientName=Doe*')), ['Doe^Jane', 'Doe^John']);
    assert.deepEqual(names(await search('/v2/studies?PatientName=Doe^J?n*')), ['Doe^Jane']);
    assert.equal(
      (await search('/v2/studies?PatientName=*')).length,
      4,
      '* alone is universal matching',
    );
  });

  it('fuzzy matching: each query word starts a name word (Azure "prefix word match")', async () => {
    assert.deepEqual(names(await search('/v2/studies?PatientName=joh&fuzzymatching=true')), [
      'Doe^John',
      'Smith^Johnny^Q',
    ]);
    assert.deepEqual(names(await search('/v2/studies?PatientName=jo%20smi&fuzzymatching=true')), [
      'Smith^Johnny^Q',
    ]);
    assert.deepEqual(
      names(await search('/v2/studies?PatientName=joh')),
      [],
      'without fuzzymatching, no prefix match',
    );
  });

  it('date ranges a-b, a-, -b and a single date', async () => {
    assert.deepEqual(names(await search('/v2/studies?StudyDate=20200101-20201231')), [
      'Doe^Jane',
      'Doe^John',
    ]);
    assert.deepEqual(names(await search('/v2/studies?StudyDate=20210101-')), [
      'Müller^Anna',
      'Smith^Johnny^Q',
    ]);
    assert.deepEqual(names(await search('/v2/studies?StudyDate=-20200105')), ['Doe^John']);
    assert.deepEqual(names(await search('/v2/studies?StudyDate=20221231')), ['Müller^Anna']);
  });

  it('UID lists (comma separated), and a study-level key in a series search', async () => {
    const two = await search(`/v2/studies?StudyInstanceUID=${studies[0]},${studies[2]}`);
    assert.deepEqual(
      two.map((r) => stringOf(r, '0020000D')).sort(),
      [studies[0], studies[2]].sort(),
    );
    const series = await search('/v2/series?PatientID=P2');
    assert.equal(series.length, 1);
    assert.equal(stringOf(series[0]!, '00080060'), 'MR');
    assert.equal(
      stringOf(series[0]!, '00100020'),
      'P2',
      'an unscoped series search carries the study attributes',
    );
  });

  it('ModalitiesInStudy and the computed counts', async () => {
    const ct = await search('/v2/studies?ModalitiesInStudy=CT');
    assert.deepEqual(names(ct), ['Doe^John', 'Smith^Johnny^Q']);
    assert.deepEqual(ct[0]!['00201208']?.Value, [2]);
    assert.deepEqual(ct[0]!['00201206']?.Value, [1]);
  });

  it('includefield: named attributes from the index and from the files; all', async () => {
    const withDescription = await search(
      `/v2/studies/${studies[0]}/series?includefield=SeriesDescription,00080070`,
    );
    assert.ok(withDescription[0]!['0008103E']?.Value);
    assert.ok('00080070' in withDescription[0]!, 'Manufacturer is present (empty) when asked');
    const fromFile = await search(
      `/v2/studies/${studies[0]}/instances?includefield=PixelSpacing&includefield=SamplesPerPixel`,
    );
    assert.deepEqual(fromFile[0]!['00280002']?.Value, [1], 'SamplesPerPixel read from the file');
    const all = await search(`/v2/studies/${studies[0]}/instances?includefield=all`);
    assert.ok(all[0]!['00280004'], 'all includes PhotometricInterpretation');
    assert.ok(all[0]!['7FE00010']?.BulkDataURI, 'bulk data as BulkDataURI');
  });

  it('limit and offset page newest-first, without overlap; past the end is 204', async () => {
    const first = await search('/v2/studies?limit=3');
    const second = await search('/v2/studies?limit=3&offset=3');
    assert.equal(first.length, 3);
    assert.equal(second.length, 1);
    const all = [...first, ...second].map((r) => stringOf(r, '0020000D'));
    assert.deepEqual(all, [...studies].reverse(), 'newest first');
    const past = await rawRequest(server, 'GET', '/v2/studies?offset=10', {
      accept: 'application/dicom+json',
    });
    assert.equal(past.status, 204);
  });

  it('instances of a series come with their series and study UIDs', async () => {
    const all = await search('/v2/instances?PatientName=Doe^Jane');
    assert.equal(all.length, 2);
    for (const item of all) {
      assert.equal(stringOf(item, '0020000D'), studies[1]);
      assert.ok(stringOf(item, '0020000E'));
      assert.deepEqual(item['00280010']?.Value, [8]);
    }
  });
});
