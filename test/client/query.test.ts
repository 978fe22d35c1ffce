/**
 * QIDO-RS against a real Orthanc: wildcards sent raw, date ranges, UID lists, includefield,
 * limit/offset, complete paging, and the tutorial's cURL commands run for real.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  searchRequest,
  storeRequest,
  type DicomJsonDataset,
  type DicomWebClient,
  type QidoQuery,
  type SearchPage,
} from '../../src/dicomweb';
import { uidFromString, writeSmallInstances, type GeneratedInstance } from '../support/bulkData';
import { imageInstanceElements, writePart10 } from '../support/dicomWriter';
import { orthanc, orthancClient, resetOrthanc, tempDir } from '../support/env';
import { SEED, writeSeedFiles } from '../support/seedData';

function getString(dataset: DicomJsonDataset, tag: string): string | undefined {
  const value = dataset[tag]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}

/** One small study per patient, to query by name and date. */
const PATIENTS = [
  { key: 'ohara', name: "O'Hara^Kim", date: '20200315' },
  { key: 'john', name: 'Doe^John', date: '20221231' },
  { key: 'jane', name: 'Doe^Jane', date: '20230102' },
] as const;
type PatientKey = (typeof PATIENTS)[number]['key'];
const studyOf = (key: PatientKey | 'seed'): string =>
  key === 'seed' ? SEED.studyInstanceUid : uidFromString(`query/${key}/study`);

async function writePatientStudy(dir: string, patient: (typeof PATIENTS)[number]): Promise<string> {
  const path = join(dir, `${patient.key}.dcm`);
  const bytes = writePart10(
    imageInstanceElements({
      studyUid: studyOf(patient.key),
      seriesUid: uidFromString(`query/${patient.key}/series`),
      sopInstanceUid: uidFromString(`query/${patient.key}/instance`),
      patientName: patient.name,
      patientId: `Q-${patient.key}`,
      studyDate: patient.date,
      modality: 'OT',
      rows: 2,
      columns: 2,
      samplesPerPixel: 1,
      photometric: 'MONOCHROME2',
      bitsAllocated: 8,
      pixelData: new Uint8Array([0, 64, 128, 255]),
      instanceNumber: 1,
      seriesNumber: 1,
      studyDescription: `Query study of ${patient.key}`,
      seriesDescription: 'Query series',
      accessionNumber: `Q${patient.key.toUpperCase()}`,
    }),
  );
  await writeFile(path, bytes);
  return path;
}

describe('QIDO-RS against Orthanc', () => {
  let client: DicomWebClient;
  let dir: string;
  let seedFiles: string[];
  let paged: GeneratedInstance[];
  let exact: GeneratedInstance[];
  const sentUrls: string[] = [];

  before(async () => {
    await resetOrthanc();
    client = orthancClient({ onRequest: (entry) => sentUrls.push(entry.url) });
    dir = tempDir('query');
    seedFiles = await writeSeedFiles(join(dir, 'seed'));
    const patientFiles = await Promise.all(
      PATIENTS.map((patient) => writePatientStudy(dir, patient)),
    );
    paged = await writeSmallInstances(join(dir, 'paged'), 300, { seed: 'query-paged' });
    exact = await writeSmallInstances(join(dir, 'exact'), 80, { seed: 'query-exact' });
    const summary = await client.storeInstances(
      [...seedFiles, ...patientFiles, ...paged.map((i) => i.path), ...exact.map((i) => i.path)],
      { concurrency: 3 },
    );
    assert.equal(
      summary.stored,
      3 + 3 + 300 + 80,
      JSON.stringify(summary.outcomes.filter((o) => o.status !== 'stored').slice(0, 3)),
    );
  });
  after(() => client.close());

  const studiesMatching = async (query: QidoQuery): Promise<string[]> =>
    (await client.searchForStudies(query)).items
      .map((item) => getString(item, '0020000D') ?? '?')
      .sort();

  describe('person names with ^ and wildcards', () => {
    it('matches Test^Shapes exactly, sent raw', async () => {
      sentUrls.length = 0;
      assert.deepEqual(await studiesMatching({ match: { PatientName: 'Test^Shapes' } }), [
        SEED.studyInstanceUid,
      ]);
      assert.ok(
        sentUrls.some((url) => url.endsWith('/studies?PatientName=Test^Shapes')),
        sentUrls.join('\n'),
      );
    });

    it('the percent-encoded form would match nothing on Orthanc: the client must send raw', async () => {
      const response = await client.transport.sendForBytes({
        method: 'GET',
        url: `${orthanc.dicomWebUrl}/studies?PatientName=Test%5EShapes`,
        headers: { accept: 'application/dicom+json' },
      });
      assert.deepEqual(JSON.parse(response.bytes.toString('utf8')), []);
    });

    it('* and ? wildcards', async () => {
      assert.deepEqual(await studiesMatching({ match: { PatientName: 'Test^Sha*' } }), [
        SEED.studyInstanceUid,
      ]);
      assert.deepEqual(
        await studiesMatching({ match: { PatientName: 'Doe^*' } }),
        [studyOf('john'), studyOf('jane')].sort(),
      );
      assert.deepEqual(await studiesMatching({ match: { PatientName: 'Doe^J?ne' } }), [
        studyOf('jane'),
      ]);
      assert.deepEqual(await studiesMatching({ match: { PatientName: '*^Shapes' } }), [
        SEED.studyInstanceUid,
      ]);
    });

    it("a name with an apostrophe (O'Hara) matches: the quote reaches Orthanc raw too", async () => {
      assert.deepEqual(await studiesMatching({ match: { PatientName: "O'Hara^Kim" } }), [
        studyOf('ohara'),
      ]);
      assert.deepEqual(await studiesMatching({ match: { PatientName: "O'Ha*" } }), [
        studyOf('ohara'),
      ]);
    });

    it('by tag instead of keyword', async () => {
      assert.deepEqual(await studiesMatching({ match: { '00100010': 'Doe^John' } }), [
        studyOf('john'),
      ]);
    });
  });

  describe('date ranges (PS3.18 §8.3.4.1)', () => {
    it('a-b', async () => {
      assert.deepEqual(
        await studiesMatching({ match: { StudyDate: '20200101-20211231' } }),
        [studyOf('ohara'), studyOf('seed')].sort(),
      );
    });
    it('a- (from a date on)', async () => {
      const found = await studiesMatching({ match: { StudyDate: '20221231-' } });
      assert.ok(found.includes(studyOf('john')) && found.includes(studyOf('jane')));
      assert.ok(!found.includes(studyOf('ohara')) && !found.includes(studyOf('seed')));
    });
    it('-b (up to a date)', async () => {
      assert.deepEqual(await studiesMatching({ match: { StudyDate: '-20201231' } }), [
        studyOf('ohara'),
      ]);
    });
    it('a single date', async () => {
      assert.deepEqual(await studiesMatching({ match: { StudyDate: '20230102' } }), [
        studyOf('jane'),
      ]);
    });
  });

  describe('UID lists, includefield, limit and offset', () => {
    it('a UID list matches each listed study', async () => {
      assert.deepEqual(
        await studiesMatching({ match: { StudyInstanceUID: [studyOf('john'), studyOf('ohara')] } }),
        [studyOf('john'), studyOf('ohara')].sort(),
      );
      assert.deepEqual(
        await studiesMatching({
          match: { StudyInstanceUID: `${studyOf('jane')},${SEED.studyInstanceUid}` },
        }),
        [studyOf('jane'), SEED.studyInstanceUid].sort(),
      );
    });

    it('includefield adds attributes Orthanc does not return by default', async () => {
      const plain = await client.searchForStudies({
        match: { StudyInstanceUID: SEED.studyInstanceUid },
      });
      assert.equal(
        plain.items[0]?.['00081030'],
        undefined,
        'StudyDescription is not a default study attribute',
      );
      const included = await client.searchForStudies({
        match: { StudyInstanceUID: SEED.studyInstanceUid },
        includeField: ['00081030', 'SeriesDescription'],
      });
      assert.equal(getString(included.items[0]!, '00081030'), SEED.studyDescription);
    });

    it('limit caps a page and offset moves it', async () => {
      const scope = { studyInstanceUid: paged[0]!.studyInstanceUid };
      const first = await client.searchForInstances({ limit: 7 }, scope);
      const second = await client.searchForInstances({ limit: 7, offset: 7 }, scope);
      assert.equal(first.items.length, 7);
      assert.equal(second.items.length, 7);
      const uids = [...first.items, ...second.items].map((item) => getString(item, '00080018'));
      assert.equal(new Set(uids).size, 14, 'two pages, no record twice');
    });
  });

  describe('paging', () => {
    const uidsOf = (pages: SearchPage[]): string[] =>
      pages.flatMap((page) => page.items.map((item) => getString(item, '00080018') ?? '?'));

    it('searchAll over 300 instances in pages of 40: every UID exactly once', async () => {
      sentUrls.length = 0;
      const pages: SearchPage[] = [];
      for await (const page of client.searchAll(
        'instances',
        { studyInstanceUid: paged[0]!.studyInstanceUid },
        {},
        { pageSize: 40 },
      ))
        pages.push(page);
      const uids = uidsOf(pages);
      assert.equal(uids.length, 300);
      assert.deepEqual([...uids].sort(), paged.map((i) => i.sopInstanceUid).sort());
      assert.deepEqual(
        pages.map((page) => page.items.length),
        [40, 40, 40, 40, 40, 40, 40, 20],
      );
      assert.deepEqual(
        pages.map((page) => page.hasMore),
        [true, true, true, true, true, true, true, false],
      );
      assert.equal(
        sentUrls.filter((url) => url.includes('/instances?')).length,
        8,
        'a short last page ends the paging without another request',
      );
    });

    it('searchAll when the total is a multiple of the page size: a last empty page, then stop', async () => {
      const pages: SearchPage[] = [];
      for await (const page of client.searchAll(
        'instances',
        { studyInstanceUid: exact[0]!.studyInstanceUid },
        {},
        { pageSize: 40 },
      ))
        pages.push(page);
      assert.deepEqual([...uidsOf(pages)].sort(), exact.map((i) => i.sopInstanceUid).sort());
      assert.equal(pages.at(-1)?.hasMore, false);
      assert.ok(pages.length <= 3);
    });

    it('searchPage.hasMore is right at the end', async () => {
      const scope = { studyInstanceUid: paged[0]!.studyInstanceUid };
      const beforeEnd = await client.searchPage('instances', scope, {}, 240, 40);
      assert.equal(beforeEnd.items.length, 40);
      assert.equal(beforeEnd.hasMore, true);
      const last = await client.searchPage('instances', scope, {}, 280, 40);
      assert.equal(last.items.length, 20);
      assert.equal(last.hasMore, false);
      const past = await client.searchPage('instances', scope, {}, 300, 40);
      assert.deepEqual(past.items, []);
      assert.equal(past.hasMore, false);
    });

    it('maxResults stops early', async () => {
      const pages: SearchPage[] = [];
      for await (const page of client.searchAll(
        'instances',
        { studyInstanceUid: paged[0]!.studyInstanceUid },
        {},
        { pageSize: 40, maxResults: 50 },
      ))
        pages.push(page);
      assert.equal(uidsOf(pages).length, 50);
      assert.equal(pages.at(-1)?.hasMore, false);
    });
  });

  describe('the printed cURL commands work when run', () => {
    function bash(
      command: string,
      cwd: string,
    ): { stdout: string; status: number | null; stderr: string } {
      const result = spawnSync('bash', ['-c', command], { cwd, encoding: 'utf8', timeout: 30_000 });
      return { stdout: result.stdout, status: result.status, stderr: result.stderr };
    }

    it('the QIDO command finds what the client finds', () => {
      const command = client.curlOf(
        searchRequest('studies', {}, { match: { PatientName: 'Doe^J*', StudyDate: '20230101-' } }),
      );
      const result = bash(`${command} --silent --show-error --fail`, dir);
      assert.equal(result.status, 0, result.stderr);
      const found = (JSON.parse(result.stdout) as DicomJsonDataset[]).map((item) =>
        getString(item, '0020000D'),
      );
      assert.deepEqual(found, [studyOf('jane')]);
    });

    it("the seed's --form STOW command stores the files", async () => {
      const files = await writeSmallInstances(join(dir, 'curl'), 2, { seed: 'query-curl' });
      assert.deepEqual(
        (await client.searchForInstances({}, { studyInstanceUid: files[0]!.studyInstanceUid }))
          .items,
        [],
      );
      const command = client.curlOf(storeRequest(files.map((f) => f.path)));
      assert.match(command, /--form "file1=@.*;type=application\/dicom"/);
      const result = bash(
        `${command} --silent --show-error --fail --write-out '\\n%{http_code}'`,
        dir,
      );
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /\n200$/);
      const stored = await client.searchForInstances(
        {},
        { studyInstanceUid: files[0]!.studyInstanceUid },
      );
      assert.deepEqual(
        stored.items.map((item) => getString(item, '00080018')).sort(),
        files.map((f) => f.sopInstanceUid).sort(),
      );
    });
  });
});
