/**
 * Extended query tags with data partitions on: the Azure DICOM service keeps one list of tags
 * for the whole service ("Extended query tags overview": tags are added at the service's base
 * URI, not under /partitions/{name}), so a tag is indexed and matched in every partition —
 * those holding data when it is added, and one created after it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LocalServer } from '../../src/server';
import { rawRequest, smallInstance, startTestServer } from './helpers';

const PATIENT_WEIGHT = '00101030';
const DICOM_JSON = { accept: 'application/dicom+json' };

function weighed(name: string, weight: string) {
  return smallInstance(name, { extraElements: [{ tag: PATIENT_WEIGHT, vr: 'DS', value: weight }] });
}

async function stow(server: LocalServer, partition: string, bytes: Buffer): Promise<void> {
  const res = await rawRequest(
    server,
    'POST',
    `/v2/partitions/${partition}/studies`,
    { 'content-type': 'application/dicom', ...DICOM_JSON },
    bytes,
  );
  assert.equal(res.status, 200, res.text);
}

async function studiesWithWeight(
  server: LocalServer,
  partition: string,
  weight: string,
): Promise<string[]> {
  const res = await rawRequest(
    server,
    'GET',
    `/v2/partitions/${partition}/studies?PatientWeight=${weight}`,
    DICOM_JSON,
  );
  // PS3.18 §10.6.3.2 (Azure as well): no match is 204 with no body.
  if (res.status === 204) return [];
  assert.equal(res.status, 200, res.text);
  const rows = JSON.parse(res.text) as Array<Record<string, { Value?: string[] }>>;
  return rows.map((row) => row['0020000D']!.Value![0]!);
}

describe('extended query tags across data partitions', () => {
  let server: LocalServer;
  const inA = weighed('eqt-part-a', '72.5');
  const inB = weighed('eqt-part-b', '80');
  const inDefault = weighed('eqt-part-default', '72.5');

  before(async () => {
    server = await startTestServer({ partitions: true });
    await stow(server, 'site-a', inA.bytes);
    await stow(server, 'site-b', inB.bytes);
    await stow(server, 'Microsoft.Default', inDefault.bytes);
    const added = await fetch(`${server.url}/v2/extendedquerytags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ Path: PATIENT_WEIGHT, Level: 'Study' }]),
    });
    assert.equal(added.status, 202, await added.clone().text());
    const { href } = (await added.json()) as { href: string };
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(href);
      const body = (await res.json()) as { status: string };
      if (res.status === 200) {
        assert.equal(body.status, 'succeeded');
        break;
      }
      assert.ok(Date.now() < deadline, `reindex still ${body.status} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  after(async () => {
    await server.close();
  });

  it('matches the tag in each partition that held data when it was added, and only there', async () => {
    assert.deepEqual(await studiesWithWeight(server, 'site-a', '72.5'), [inA.params.studyUid]);
    assert.deepEqual(await studiesWithWeight(server, 'site-b', '72.5'), []);
    assert.deepEqual(await studiesWithWeight(server, 'site-b', '80'), [inB.params.studyUid]);
    assert.deepEqual(await studiesWithWeight(server, 'Microsoft.Default', '72.5'), [
      inDefault.params.studyUid,
    ]);
  });

  it('indexes the tag in a partition created after it', async () => {
    const late = weighed('eqt-part-late', '91');
    await stow(server, 'site-late', late.bytes);
    assert.deepEqual(await studiesWithWeight(server, 'site-late', '91'), [late.params.studyUid]);
    assert.deepEqual(await studiesWithWeight(server, 'site-a', '91'), []);
  });
});
