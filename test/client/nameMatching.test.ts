/**
 * Patient names with spaces, apostrophes, carets, accented and CJK letters (issue 11, item 8):
 * Orthanc 1.10 does not percent-decode search values, so `*Mary%20Ann*` or `M%C3%BCller*`
 * matched nothing there while the local server found them. The client now sends Orthanc the
 * nearest wildcard pattern it understands and filters the answer exactly; every query below
 * must give the same studies on the real Orthanc and on the local server.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CLIENT_FILTER_MAX_PAGES,
  DicomWebClient,
  type DicomJsonDataset,
  type QidoQuery,
} from '../../src/dicomweb';
import type { LocalServer } from '../../src/server';
import { uidFromString } from '../support/bulkData';
import { imageInstanceElements, writePart10 } from '../support/dicomWriter';
import { orthanc, orthancClient, resetOrthanc, tempDir } from '../support/env';
import { localClient, startTestServer } from '../server/helpers';
import { writeFile } from 'node:fs/promises';

/** One study a patient; `ISO_IR 192` declares UTF-8 (PS3.5 §6.1.2.5.3). */
const PATIENTS = {
  obrien: "O'Brien^Mary Ann",
  annabel: 'Mary^Annabel',
  umlaut: 'Müller^Jürgen',
  mueller: 'Mueller^Hans',
  accent: 'Dupré^Zoé',
  yamada: '山田^太郎',
  kim: 'Kim^Min Jun',
} as const;
type Key = keyof typeof PATIENTS;
const studyOf = (key: Key): string => uidFromString(`names/${key}/study`);
const keyOf = new Map(Object.keys(PATIENTS).map((key) => [studyOf(key as Key), key]));

async function writePatient(
  dir: string,
  key: string,
  name: string = PATIENTS[key as Key],
): Promise<string> {
  const path = join(dir, `${key}.dcm`);
  const elements = imageInstanceElements({
    studyUid: uidFromString(`names/${key}/study`),
    seriesUid: uidFromString(`names/${key}/series`),
    sopInstanceUid: uidFromString(`names/${key}/instance`),
    patientName: name,
    patientId: `N-${key}`,
    studyDate: '20240101',
    modality: 'OT',
    rows: 2,
    columns: 2,
    samplesPerPixel: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: 8,
    pixelData: new Uint8Array([0, 64, 128, 255]),
    instanceNumber: 1,
    seriesNumber: 1,
    studyDescription: `Names ${key}`,
    seriesDescription: 'Names',
    accessionNumber: `N${key.toUpperCase()}`.slice(0, 16),
    extraElements: [{ tag: 0x00080005, vr: 'CS', value: 'ISO_IR 192' }],
  });
  await writeFile(path, writePart10(elements));
  return path;
}

/** The queries a first user typed, and the patients each must find (on every server). */
const CASES: Array<{ typed: string; expected: Key[] }> = [
  { typed: '*Mary Ann*', expected: ['obrien'] },
  { typed: "O'Brien^Mary Ann", expected: ['obrien'] },
  { typed: 'Müller*', expected: ['umlaut'] },
  { typed: 'müller^jürgen', expected: ['umlaut'] },
  { typed: '*Zoé', expected: ['accent'] },
  { typed: '山田*', expected: ['yamada'] },
  { typed: '*^太郎', expected: ['yamada'] },
  { typed: 'Kim^Min Jun', expected: ['kim'] },
  { typed: '*Ann*', expected: ['annabel', 'obrien'] },
  { typed: 'M*', expected: ['annabel', 'mueller', 'umlaut'] },
];

describe('patient names a URL cannot carry raw, on Orthanc and on the local server', () => {
  let orthancSide: DicomWebClient;
  let server: LocalServer;
  let localSide: DicomWebClient;
  const sentToOrthanc: string[] = [];

  before(async () => {
    await resetOrthanc();
    orthancSide = orthancClient({ onRequest: (entry) => sentToOrthanc.push(entry.url) });
    server = await startTestServer();
    localSide = localClient(server);
    const dir = tempDir('names');
    const files = await Promise.all(
      (Object.keys(PATIENTS) as Key[]).map((key) => writePatient(dir, key)),
    );
    for (const client of [orthancSide, localSide]) {
      const summary = await client.storeInstances(files);
      assert.equal(
        summary.stored,
        files.length,
        JSON.stringify(summary.outcomes.filter((o) => o.status !== 'stored')),
      );
    }
  });
  after(async () => {
    await orthancSide.close();
    await localSide.close();
    await server.close();
  });

  const found = (items: DicomJsonDataset[]): string[] =>
    items
      .map((item) => keyOf.get(String(item['0020000D']?.Value?.[0])) ?? '?')
      .filter((key) => key !== '?')
      .sort();
  const studies = async (client: DicomWebClient, query: QidoQuery): Promise<string[]> =>
    found((await client.searchForStudies(query)).items);

  for (const { typed, expected } of CASES) {
    it(`PatientName=${typed} finds ${expected.join(', ')} on both servers`, async () => {
      assert.deepEqual(
        await studies(orthancSide, { match: { PatientName: typed } }),
        expected,
        'Orthanc',
      );
      assert.deepEqual(
        await studies(localSide, { match: { PatientName: typed } }),
        expected,
        'local server',
      );
    });
  }

  it('sends Orthanc a wider pattern it can take raw, and the local server the value as typed', async () => {
    sentToOrthanc.length = 0;
    await orthancSide.searchForStudies({ match: { PatientName: '*Mary Ann*' } });
    await orthancSide.searchForStudies({ match: { PatientName: 'Müller*' } });
    assert.ok(
      sentToOrthanc.some((url) => url.includes('PatientName=*Mary?Ann*')),
      sentToOrthanc.join('\n'),
    );
    assert.ok(
      sentToOrthanc.some((url) => /PatientName=M\*(&|$)/.test(url)),
      sentToOrthanc.join('\n'),
    );
    assert.ok(
      sentToOrthanc.every((url) => !/PatientName=[^&]*%/.test(url)),
      'no percent-encoded search value reaches Orthanc',
    );
  });

  it('the value percent-encoded, as before, finds nothing on Orthanc (why the client widens)', async () => {
    const response = await orthancSide.transport.sendForBytes({
      method: 'GET',
      url: `${orthanc.dicomWebUrl}/studies?PatientName=*Mary%20Ann*`,
      headers: { accept: 'application/dicom+json' },
    });
    assert.deepEqual(JSON.parse(response.bytes.toString('utf8') || '[]'), []);
  });

  it('pages correctly when the client filters: offsets advance by the rows the server sent', async () => {
    for (const client of [orthancSide, localSide]) {
      // One row a page: Orthanc's answer to "M*" holds three rows for the one "Müller*" keeps.
      const pages = [];
      let offset = 0;
      for (;;) {
        const page = await client.searchPage(
          'studies',
          {},
          { match: { PatientName: 'Müller*' } },
          offset,
          1,
        );
        pages.push(page);
        offset += page.scanned ?? page.items.length;
        if (!page.hasMore) break;
        assert.ok(pages.length < 20, 'paging ends');
      }
      assert.deepEqual(found(pages.flatMap((page) => page.items)), ['umlaut']);
      const all = [];
      for await (const page of client.searchAll(
        'studies',
        {},
        { match: { PatientName: 'Müller*' } },
        { pageSize: 1 },
      ))
        all.push(...page.items);
      assert.deepEqual(found(all), ['umlaut']);
    }
  });
});

describe('"Load more" when the client filters every row of a page away', () => {
  it(`reads on at most ${CLIENT_FILTER_MAX_PAGES} server pages, then leaves "Load more" for the next click`, async () => {
    const server = await startTestServer();
    const dir = tempDir('names-cap');
    // A client with Orthanc's profile widens "Müller*" to "M*" whatever the server: here the
    // local server answers it, and none of its M… names is a Müller.
    const names = Array.from({ length: CLIENT_FILTER_MAX_PAGES + 2 }, (_, i) =>
      writePatient(dir, `cap${i}`, `Mayer^Nr${i}`),
    );
    const sent: string[] = [];
    const client = new DicomWebClient({
      baseUrl: `${server.url}/v2`,
      serverKind: 'orthanc',
      onRequest: (entry) => sent.push(entry.url),
    });
    try {
      assert.equal(
        (await client.storeInstances(await Promise.all(names))).stored,
        CLIENT_FILTER_MAX_PAGES + 2,
      );
      sent.length = 0;
      const first = await client.searchPage(
        'studies',
        {},
        { match: { PatientName: 'Müller*' } },
        0,
        1,
      );
      assert.equal(sent.length, CLIENT_FILTER_MAX_PAGES, sent.join('\n'));
      assert.deepEqual(first.items, []);
      assert.equal(first.scanned, CLIENT_FILTER_MAX_PAGES);
      assert.equal(first.hasMore, true, '"Load more" stays: the server has more rows');
      const rest = await client.searchPage(
        'studies',
        {},
        { match: { PatientName: 'Müller*' } },
        first.scanned!,
        1,
      );
      assert.deepEqual(rest.items, []);
      assert.equal(rest.hasMore, false, 'the last rows were read: no "Load more" after them');
    } finally {
      await client.close();
      await server.close();
    }
  });
});
