/**
 * Names in the patient's language through the local server: pydicom's charset files stored
 * by STOW-RS come back from QIDO-RS (answered from the index) and WADO-RS metadata (read from
 * the file) as the Unicode pydicom's tests expect, whatever their Specific Character Set
 * (PS3.5 §6.1, Annexes H–K; JSON is UTF-8, PS3.18 §F.2). QIDO matching works on the decoded
 * name, so a search typed in Japanese finds the ISO 2022 file.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Tag } from '../../src/dicom/tags';
import type { LocalServer } from '../../src/server';
import { encodedPersonName, ensureSampleFiles, type CharsetSample } from '../support/sampleFiles';
import { multipart, rawRequest, startTestServer } from './helpers';

type Dataset = Record<string, { vr: string; Value?: unknown[] } | undefined>;

const uidOf = (dataset: Dataset, tag: string) => dataset[tag]?.Value?.[0] as string;

describe('Specific Character Set on the local server (QIDO-RS, WADO-RS metadata)', () => {
  let server: LocalServer;
  let named: CharsetSample[];
  const studyOf = new Map<string, string>();

  before(async () => {
    const catalog = await ensureSampleFiles();
    // The "Multi" files are headers cut before their Pixel Data (the server refuses an image
    // without it) and chrFrenMulti reuses chrFren's SOP Instance UID: the other 13 cover every
    // character set of the catalog, the ISO 2022 ones included.
    const refused = new Set([
      'chrFrenMulti',
      'chrJapMulti',
      'chrJapMultiExplicitIR6',
      'chrKoreanMulti',
    ]);
    named = Object.values(catalog.charset).filter(
      (s) => s.patientName !== undefined && !refused.has(s.name),
    );
    server = await startTestServer();
    const parts = await Promise.all(named.map(async (s) => ({ body: await readFile(s.path) })));
    const response = await rawRequest(
      server,
      'POST',
      '/v2/studies',
      {
        'content-type': 'multipart/related; type="application/dicom"; boundary=cs',
        accept: 'application/dicom+json',
      },
      multipart('cs', parts),
    );
    assert.equal(response.status, 200, response.text);
  });
  after(() => server.close());

  async function get(path: string): Promise<Dataset[]> {
    const response = await rawRequest(server, 'GET', path, { accept: 'application/dicom+json' });
    if (response.status === 204) return [];
    assert.equal(response.status, 200, `${path}: ${response.text}`);
    assert.match(String(response.headers['content-type']), /json/);
    return response.json() as Dataset[];
  }

  it('QIDO-RS instances: every file’s Patient’s Name as Unicode', async () => {
    const rows = await get('/v2/instances?includefield=00100010&limit=200');
    for (const sample of named) {
      const row = rows.find((r) =>
        r[Tag.PatientName]?.Value?.some((v) => encodedPersonName(v) === sample.patientName),
      );
      assert.ok(row, `${sample.name}: no instance named ${sample.patientName}`);
      studyOf.set(sample.name, uidOf(row, Tag.StudyInstanceUID));
    }
  });

  it('WADO-RS metadata: the same names, read from the stored files', async () => {
    for (const sample of named) {
      const study = studyOf.get(sample.name);
      assert.ok(study, `${sample.name}: found by QIDO first`);
      const [metadata] = await get(`/v2/studies/${study}/metadata`);
      assert.ok(metadata);
      assert.deepEqual(
        metadata[Tag.PatientName]?.Value?.map(encodedPersonName),
        [sample.patientName],
        sample.name,
      );
    }
  });

  it('QIDO-RS matches on the decoded name (ideographic group, wildcard)', async () => {
    const rows = await get(`/v2/studies?PatientName=${encodeURIComponent('*山田*')}`);
    const found = rows.map((r) => encodedPersonName(r[Tag.PatientName]?.Value?.[0])).sort();
    assert.deepEqual(found, [
      'Yamada^Tarou=山田^太郎=やまだ^たろう',
      'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
    ]);
  });
});
