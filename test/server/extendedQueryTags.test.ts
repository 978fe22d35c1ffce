/**
 * The local server's extended query tags and operations, black-box over HTTP as the Azure
 * DICOM service answers them ("Extended query tags overview"; OperationsController: 202 and
 * Location while running, 200 once ended): every endpoint and its errors, a reindex over
 * the real sample files, a value that does not fit its VR listed as an error with its
 * instance's UIDs, QIDO on the ready tags, and the tags kept across a restart.
 */
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lookupTag } from '../../src/dicom/dictionary';
import type { LocalServer } from '../../src/server';
import { FIELD_BY_TAG } from '../../src/server/catalog';
import { EXTENDED_QUERY_TAG_VRS } from '../../src/dicom/extendedQueryTagVrs';
import { MAX_EXTENDED_QUERY_TAGS } from '../../src/server/extendedQueryTags';
import { ensureSampleFiles, type SampleCatalog } from '../support/sampleFiles';
import { rawRequest, smallInstance, startTestServer, tempDir } from './helpers';

const PATIENT_WEIGHT = '00101030';
const SLICE_THICKNESS = '00180050';
const PRIVATE_TAG = '00091001';
const CREATOR = 'EQT TEST';

interface Json {
  status: number;
  headers: Headers;
  body: unknown;
}

async function call(
  server: LocalServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<Json> {
  const response = await fetch(`${server.url}/v2${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

/** Polls the operation until it ends (200); the deadline only guards against a hang. */
async function waitForOperation(href: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(href);
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status === 200) return body;
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('location'), href, 'a running operation names itself');
    assert.ok(Date.now() < deadline, `operation still ${String(body.status)} after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function weightInstance(name: string, weight: string, extra = false) {
  return smallInstance(name, {
    extraElements: [
      { tag: PATIENT_WEIGHT, vr: 'DS', value: weight },
      ...(extra
        ? [
            { tag: '00090010', vr: 'LO', value: CREATOR },
            { tag: PRIVATE_TAG, vr: 'LO', value: 'private-one' },
          ]
        : []),
    ],
  });
}

describe("the local server's extended query tags", () => {
  let server: LocalServer;
  let dir: string;
  let catalog: SampleCatalog;
  const good = weightInstance('eqt-good', '72.5', true);
  const bad = weightInstance('eqt-bad', 'heavy');
  const realSamples = ['mrSmall', 'ctSmall', 'rleMr', 'jpegBaselineRgb', 'daikonImplicit'] as const;

  before(async () => {
    catalog = await ensureSampleFiles();
    dir = tempDir('eqt');
    for (const name of realSamples)
      await copyFile(catalog.files[name].path, join(dir, `${name}.dcm`));
    await writeFile(join(dir, 'good.dcm'), good.bytes);
    await writeFile(join(dir, 'bad.dcm'), bad.bytes);
    server = await startTestServer({ dir });
  });
  after(async () => {
    await server.close();
  });

  describe('POST refuses what Azure refuses, with 400 and nothing added', () => {
    const refused: Array<[string, unknown]> = [
      ['a body that is not an array', { Path: PATIENT_WEIGHT, Level: 'Study' }],
      ['an empty array', []],
      ['an unknown keyword', [{ Path: 'NoSuchKeyword', Level: 'Study' }]],
      ['a tag QIDO already searches', [{ Path: 'PatientName', Level: 'Study' }]],
      ['a sequence', [{ Path: 'ReferencedStudySequence', Level: 'Study' }]],
      ['an unsupported VR (LT)', [{ Path: 'ImageComments', Level: 'Instance' }]],
      ['a VR the tag does not have', [{ Path: PATIENT_WEIGHT, VR: 'LO', Level: 'Study' }]],
      ['no level', [{ Path: PATIENT_WEIGHT }]],
      ['an unknown level', [{ Path: PATIENT_WEIGHT, Level: 'Patient' }]],
      ['a private tag without creator', [{ Path: PRIVATE_TAG, VR: 'LO', Level: 'Instance' }]],
      [
        'a private tag without VR',
        [{ Path: PRIVATE_TAG, PrivateCreator: CREATOR, Level: 'Instance' }],
      ],
      [
        'a standard tag with a creator',
        [{ Path: PATIENT_WEIGHT, PrivateCreator: CREATOR, Level: 'Study' }],
      ],
      [
        'the same tag twice',
        [
          { Path: PATIENT_WEIGHT, Level: 'Study' },
          { Path: 'PatientWeight', Level: 'Study' },
        ],
      ],
    ];
    for (const [what, body] of refused) {
      it(`refuses ${what}`, async () => {
        const answer = await call(server, 'POST', '/extendedquerytags', body);
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
        assert.deepEqual((await call(server, 'GET', '/extendedquerytags')).body, []);
      });
    }

    it('refuses another media type (415) and malformed JSON (400)', async () => {
      const url = `${server.url}/v2/extendedquerytags`;
      const text = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '[]',
      });
      assert.equal(text.status, 415);
      const broken = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '[{',
      });
      assert.equal(broken.status, 400);
    });
  });

  describe('adding tags reindexes the stored instances', () => {
    let operationHref: string;

    before(async () => {
      const answer = await call(server, 'POST', '/extendedquerytags', [
        { Path: 'PatientWeight', Level: 'Study' },
        { Path: SLICE_THICKNESS, VR: 'DS', Level: 'Series' },
        { Path: PRIVATE_TAG, VR: 'LO', PrivateCreator: CREATOR, Level: 'Instance' },
      ]);
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      const reference = answer.body as { id: string; href: string };
      assert.match(reference.id, /^[0-9a-f]{32}$/);
      assert.equal(reference.href, `${server.url}/v2/operations/${reference.id}`);
      operationHref = reference.href;
    });

    it('follows the reindex operation to succeeded at 100 percent', async () => {
      const state = await waitForOperation(operationHref);
      assert.equal(state.status, 'succeeded');
      assert.equal(state.type, 'reindex');
      assert.equal(state.percentComplete, 100);
      assert.deepEqual(state.resources, [
        `${server.url}/v2/extendedquerytags/${PATIENT_WEIGHT}`,
        `${server.url}/v2/extendedquerytags/${SLICE_THICKNESS}`,
        `${server.url}/v2/extendedquerytags/${PRIVATE_TAG}`,
      ]);
      assert.ok(Date.parse(String(state.lastUpdatedTime)) >= Date.parse(String(state.createdTime)));
      // API v1 names the same end `completed` (Azure's OperationsController.GetV1State).
      const v1 = await fetch(operationHref.replace('/v2/', '/v1/'));
      assert.equal(((await v1.json()) as { status: string }).status, 'completed');
    });

    it('lists the tags, Ready, with their VR, level and error count', async () => {
      const listed = (await call(server, 'GET', '/extendedquerytags')).body as Array<
        Record<string, unknown>
      >;
      assert.deepEqual(
        listed.map((t) => [t.Path, t.VR, t.Level, t.Status]),
        [
          [PATIENT_WEIGHT, 'DS', 'Study', 'Ready'],
          [SLICE_THICKNESS, 'DS', 'Series', 'Ready'],
          [PRIVATE_TAG, 'LO', 'Instance', 'Ready'],
        ],
      );
      const page = await call(server, 'GET', '/extendedquerytags?offset=1&limit=1');
      assert.deepEqual(
        (page.body as Array<{ Path: string }>).map((t) => t.Path),
        [SLICE_THICKNESS],
      );
      assert.equal((await call(server, 'GET', '/extendedquerytags?limit=0')).status, 400);
      assert.equal((await call(server, 'GET', '/extendedquerytags?limit=201')).status, 400);
      assert.equal((await call(server, 'GET', '/extendedquerytags?foo=1')).status, 400);
    });

    it('lists the value that does not fit DS as an error with its UIDs, and disables the tag', async () => {
      const tag = (await call(server, 'GET', '/extendedquerytags/PatientWeight')).body as Record<
        string,
        unknown
      >;
      assert.equal(tag.QueryStatus, 'Disabled', 'a tag with errors is not queried');
      assert.deepEqual(tag.Errors, {
        Count: 1,
        Href: `${server.url}/v2/extendedquerytags/${PATIENT_WEIGHT}/errors`,
      });
      const errors = (await call(server, 'GET', `/extendedquerytags/${PATIENT_WEIGHT}/errors`))
        .body as Array<Record<string, string>>;
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.StudyInstanceUid, bad.params.studyUid);
      assert.equal(errors[0]!.SeriesInstanceUid, bad.params.seriesUid);
      assert.equal(errors[0]!.SopInstanceUid, bad.params.sopInstanceUid);
      assert.match(errors[0]!.ErrorMessage!, /heavy.*DS/);
      const clean = (await call(server, 'GET', `/extendedquerytags/${SLICE_THICKNESS}/errors`))
        .body;
      assert.deepEqual(clean, []);
    });

    it('refuses QIDO on a disabled tag, and matches once PATCH enables it', async () => {
      assert.equal((await call(server, 'GET', '/studies?PatientWeight=72.5')).status, 400);
      const patched = await call(server, 'PATCH', `/extendedquerytags/${PATIENT_WEIGHT}`, {
        QueryStatus: 'Enabled',
      });
      assert.equal(patched.status, 200);
      assert.equal((patched.body as { QueryStatus: string }).QueryStatus, 'Enabled');
      const found = await call(server, 'GET', '/studies?PatientWeight=72.5');
      assert.equal(found.status, 200);
      const studies = found.body as Array<Record<string, { Value?: unknown[] }>>;
      assert.deepEqual(
        studies.map((s) => s['0020000D']!.Value![0]),
        [good.params.studyUid],
      );
      assert.deepEqual(studies[0]![PATIENT_WEIGHT], { vr: 'DS', Value: [72.5] });
      const badPatch = await call(server, 'PATCH', `/extendedquerytags/${PATIENT_WEIGHT}`, {
        QueryStatus: 'On',
      });
      assert.equal(badPatch.status, 400);
    });

    it('matches a private tag only in its creator block, at the instance level', async () => {
      const found = await call(server, 'GET', `/instances?${PRIVATE_TAG}=private-one`);
      assert.equal(found.status, 200);
      const instances = found.body as Array<Record<string, { Value?: unknown[] }>>;
      assert.deepEqual(
        instances.map((i) => i['00080018']!.Value![0]),
        [good.params.sopInstanceUid],
      );
      // An instance-level tag cannot narrow a study search.
      assert.equal((await call(server, 'GET', `/studies?${PRIVATE_TAG}=private-one`)).status, 400);
    });

    it('indexes the real samples: each series found by its SliceThickness as its metadata says', async () => {
      let checked = 0;
      for (const name of realSamples) {
        const sample = catalog.files[name];
        const located = await call(
          server,
          'GET',
          `/instances?SOPInstanceUID=${sample.sopInstanceUid}`,
        );
        if (located.status !== 200) continue; // a sample sharing another's SOP Instance UID
        const hit = (located.body as Array<Record<string, { Value?: string[] }>>)[0]!;
        const study = hit['0020000D']!.Value![0]!;
        const series = hit['0020000E']!.Value![0]!;
        const metadata = (
          await call(
            server,
            'GET',
            `/studies/${study}/series/${series}/instances/${sample.sopInstanceUid}/metadata`,
          )
        ).body as Array<Record<string, { Value?: number[] }>>;
        const thickness = metadata[0]![SLICE_THICKNESS]?.Value?.[0];
        if (thickness === undefined) continue;
        const found = await call(
          server,
          'GET',
          `/studies/${study}/series?SliceThickness=${thickness}`,
        );
        assert.equal(found.status, 200, `${name}: SliceThickness=${thickness}`);
        const uids = (found.body as Array<Record<string, { Value?: string[] }>>).map(
          (s) => s['0020000E']!.Value![0],
        );
        assert.ok(uids.includes(series), `${name}: its series is found by ${thickness}`);
        checked++;
      }
      assert.ok(checked >= 2, `only ${checked} real samples carry Slice Thickness`);
    });

    it('indexes a new store at once', async () => {
      const fresh = weightInstance('eqt-fresh', '81');
      const boundary = 'eqtboundary';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
        fresh.bytes,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const stored = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        {
          'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          accept: 'application/dicom+json',
        },
        body,
      );
      assert.equal(stored.status, 200, stored.text);
      const found = await call(server, 'GET', '/studies?PatientWeight=81');
      assert.deepEqual(
        (found.body as Array<Record<string, { Value?: unknown[] }>>).map(
          (s) => s['0020000D']!.Value![0],
        ),
        [fresh.params.studyUid],
      );
    });

    it('refuses adding an existing tag again with 409', async () => {
      const again = await call(server, 'POST', '/extendedquerytags', [
        { Path: 'PatientWeight', Level: 'Study' },
      ]);
      assert.equal(again.status, 409);
    });

    it('keeps the tags, their errors and the operation across a restart', async () => {
      await server.close();
      server = await startTestServer({ dir });
      const tag = (await call(server, 'GET', `/extendedquerytags/${PATIENT_WEIGHT}`))
        .body as Record<string, unknown>;
      assert.equal(tag.Status, 'Ready');
      assert.equal(tag.QueryStatus, 'Enabled');
      assert.equal((tag.Errors as { Count: number }).Count, 1);
      const found = await call(server, 'GET', '/studies?PatientWeight=72.5');
      assert.equal(found.status, 200);
      const id = operationHref.split('/').pop()!;
      const state = await fetch(`${server.url}/v2/operations/${id}`);
      assert.equal(state.status, 200);
      assert.equal(((await state.json()) as { status: string }).status, 'succeeded');
    });

    it('deletes a tag (204): gone from the list, 404 after, and QIDO refuses it', async () => {
      const deleted = await fetch(`${server.url}/v2/extendedquerytags/${SLICE_THICKNESS}`, {
        method: 'DELETE',
      });
      assert.equal(deleted.status, 204);
      assert.equal(
        (await call(server, 'GET', `/extendedquerytags/${SLICE_THICKNESS}`)).status,
        404,
      );
      assert.equal(
        (await call(server, 'GET', `/extendedquerytags/${SLICE_THICKNESS}/errors`)).status,
        404,
      );
      assert.equal(
        (await call(server, 'DELETE', `/extendedquerytags/${SLICE_THICKNESS}`)).status,
        404,
      );
      assert.equal((await call(server, 'GET', '/series?SliceThickness=5')).status, 400);
    });
  });

  it('answers 404 for an unknown operation, 400 for a malformed id, 405 for another method', async () => {
    assert.equal((await call(server, 'GET', `/operations/${'0'.repeat(32)}`)).status, 404);
    assert.equal((await call(server, 'GET', '/operations/not-an-id')).status, 400);
    assert.equal((await call(server, 'DELETE', `/operations/${'0'.repeat(32)}`)).status, 405);
    assert.equal((await call(server, 'PUT', '/extendedquerytags')).status, 405);
    assert.equal((await call(server, 'GET', '/extendedquerytags/zz/errors')).status, 400);
  });
});

/** Tags of the dictionary an extended query tag may index, for the count limit. */
function indexableTags(count: number): string[] {
  const out: string[] = [];
  for (let element = 0x1000; out.length < count && element < 0x10000; element++) {
    const tag = `0018${element.toString(16).toUpperCase().padStart(4, '0')}`;
    const info = lookupTag(tag);
    if (info && !info.retired && EXTENDED_QUERY_TAG_VRS.includes(info.vr) && !FIELD_BY_TAG.has(tag))
      out.push(tag);
  }
  return out;
}

describe("the local server's reindex cancel", () => {
  it('a DELETE while the tag is being added cancels its reindex', async () => {
    const dir = tempDir('eqt-cancel');
    // Enough instances that the reindex is still running when the DELETE arrives (a slower,
    // busier machine only widens that margin).
    for (let i = 0; i < 1000; i++)
      await writeFile(join(dir, `${i}.dcm`), weightInstance(`eqt-cancel-${i}`, String(i)).bytes);
    const server = await startTestServer({ dir, watch: false });
    try {
      const added = await call(server, 'POST', '/extendedquerytags', [
        { Path: PATIENT_WEIGHT, Level: 'Study' },
      ]);
      const href = (added.body as { href: string }).href;
      const deleted = await fetch(`${server.url}/v2/extendedquerytags/${PATIENT_WEIGHT}`, {
        method: 'DELETE',
      });
      assert.equal(deleted.status, 204);
      const state = await waitForOperation(href);
      assert.equal(state.status, 'canceled');
      assert.ok(
        Number(state.percentComplete) < 100,
        `stopped at ${String(state.percentComplete)}%`,
      );
      assert.deepEqual((await call(server, 'GET', '/extendedquerytags')).body, []);
      assert.equal((await call(server, 'GET', '/studies?PatientWeight=5')).status, 400);
    } finally {
      await server.close();
    }
  });
});

describe("the local server's extended query tag limits", () => {
  it(`accepts ${MAX_EXTENDED_QUERY_TAGS} tags and refuses one more with 400`, async () => {
    const server = await startTestServer();
    try {
      const tags = indexableTags(MAX_EXTENDED_QUERY_TAGS + 1);
      assert.equal(tags.length, MAX_EXTENDED_QUERY_TAGS + 1);
      const body = tags
        .slice(0, MAX_EXTENDED_QUERY_TAGS)
        .map((Path) => ({ Path, Level: 'Instance' }));
      const added = await call(server, 'POST', '/extendedquerytags', body);
      assert.equal(added.status, 202, JSON.stringify(added.body));
      const one = await call(server, 'POST', '/extendedquerytags', [
        { Path: tags.at(-1), Level: 'Instance' },
      ]);
      assert.equal(one.status, 400);
      assert.match(JSON.stringify(one.body), /at most 128/);
      const listed = await call(server, 'GET', '/extendedquerytags?limit=200');
      assert.equal((listed.body as unknown[]).length, MAX_EXTENDED_QUERY_TAGS);
    } finally {
      await server.close();
    }
  });

  it('counts every error but keeps only maxErrorsPerTag of them', async () => {
    const dir = tempDir('eqt-errors');
    for (const name of ['a', 'b', 'c'])
      await writeFile(join(dir, `${name}.dcm`), weightInstance(`eqt-err-${name}`, 'x').bytes);
    const server = await startTestServer({ dir, extendedQueryTags: { maxErrorsPerTag: 2 } });
    try {
      const added = await call(server, 'POST', '/extendedquerytags', [
        { Path: PATIENT_WEIGHT, Level: 'Study' },
      ]);
      await waitForOperation((added.body as { href: string }).href);
      const tag = (await call(server, 'GET', `/extendedquerytags/${PATIENT_WEIGHT}`)).body as {
        Errors: { Count: number };
      };
      assert.equal(tag.Errors.Count, 3);
      const errors = (await call(server, 'GET', `/extendedquerytags/${PATIENT_WEIGHT}/errors`))
        .body as unknown[];
      assert.equal(errors.length, 2);
    } finally {
      await server.close();
    }
  });
});
