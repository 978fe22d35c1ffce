/**
 * A STOW whose extended query tag value does not fit the tag's VR, black-box over HTTP, as
 * the Azure DICOM service's StoreDatasetValidator and StoreService decide it:
 * - v1 validates the indexed tags: the instance fails (FailureReason 43264, one ErrorComment
 *   "DICOM100: (gggg,eeee) - …" per attribute), 409 when none is stored, 202 when some are;
 *   several values are a warning (HTTP Warning 299) and the first value is indexed.
 * - v2 stores it with WarningReason 1 and the attribute in its FailedAttributesSequence, 202,
 *   and leaves the value out of the index.
 * - Neither adds to the tag's error list nor disables it: only a reindex does
 *   (ReindexDatasetValidator → AddExtendedQueryTagError).
 * Each case runs over four tags of three levels and four VRs (DS, DA, IS, CS).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatTag } from '../../src/dicom/dictionary';
import { Tag } from '../../src/dicom/tags';
import type { LocalServer } from '../../src/server';
import { MULTIPLE_VALUES_WARNING } from '../../src/server/stow';
import { multipart, rawRequest, smallInstance, startTestServer, stowOutcome } from './helpers';

interface TagCase {
  keyword: string;
  path: string;
  vr: string;
  level: 'Study' | 'Series' | 'Instance';
  /** The QIDO resource that matches at the tag's level. */
  resource: 'studies' | 'series' | 'instances';
  good: string;
  bad: string;
}

const CASES: TagCase[] = [
  {
    keyword: 'PatientWeight',
    path: '00101030',
    vr: 'DS',
    level: 'Study',
    resource: 'studies',
    good: '72.5',
    bad: 'heavy',
  },
  {
    keyword: 'AcquisitionDate',
    path: '00080022',
    vr: 'DA',
    level: 'Series',
    resource: 'series',
    good: '20240115',
    bad: '20241399',
  },
  {
    keyword: 'AcquisitionNumber',
    path: '00200012',
    vr: 'IS',
    level: 'Instance',
    resource: 'instances',
    good: '7',
    bad: '12.5',
  },
  {
    keyword: 'Laterality',
    path: '00200060',
    vr: 'CS',
    level: 'Series',
    resource: 'series',
    good: 'L',
    bad: 'left',
  },
];

type Item = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

function instanceWith(name: string, values: Array<[TagCase, string]>) {
  return smallInstance(name, {
    extraElements: values.map(([tagCase, value]) => ({
      tag: parseInt(tagCase.path, 16),
      vr: tagCase.vr,
      value,
    })),
  });
}

let counter = 0;

async function stow(
  server: LocalServer,
  version: 'v1' | 'v2',
  instances: Buffer[],
): Promise<{ status: number; body: Item; warning: string | undefined }> {
  const boundary = `eqtstow${counter++}`;
  const answer = await rawRequest(
    server,
    'POST',
    `/${version}/studies`,
    {
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      accept: 'application/dicom+json',
    },
    multipart(
      boundary,
      instances.map((body) => ({ body })),
    ),
  );
  const warning = answer.headers.warning;
  return {
    status: answer.status,
    body: answer.json() as Item,
    warning: Array.isArray(warning) ? warning.join(', ') : warning,
  };
}

/** A GET's JSON; a QIDO that matches nothing answers 204 (Azure), read as []. */
async function getJson(server: LocalServer, path: string): Promise<unknown> {
  const response = await fetch(`${server.url}/v2${path}`);
  if (response.status === 204 && path.includes('?')) return [];
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return response.json();
}

/** The ErrorComments of a FailedAttributesSequence. */
function comments(item: Item | undefined): string[] {
  const sequence = (item?.[Tag.FailedAttributesSequence]?.Value ?? []) as Item[];
  return sequence.map((entry) => String(entry[Tag.ErrorComment]?.Value?.[0]));
}

function items(body: Item, tag: string): Item[] {
  return (body[tag]?.Value ?? []) as Item[];
}

/** The instance as QIDO finds it by SOP Instance UID, with the tag asked for. */
async function found(server: LocalServer, sop: string, tagCase: TagCase): Promise<Item[]> {
  return (await getJson(
    server,
    `/instances?SOPInstanceUID=${sop}&includefield=${tagCase.path}`,
  )) as Item[];
}

async function tagState(server: LocalServer, tagCase: TagCase) {
  const tag = (await getJson(server, `/extendedquerytags/${tagCase.path}`)) as {
    Status: string;
    QueryStatus: string;
    Errors: { Count: number };
  };
  const errors = (await getJson(server, `/extendedquerytags/${tagCase.path}/errors`)) as unknown[];
  return { status: tag.Status, queryStatus: tag.QueryStatus, count: tag.Errors.Count, errors };
}

describe('a STOW whose extended query tag value does not fit its VR', () => {
  let server: LocalServer;

  before(async () => {
    server = await startTestServer();
    const added = await fetch(`${server.url}/v2/extendedquerytags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(CASES.map(({ keyword, level }) => ({ Path: keyword, Level: level }))),
    });
    assert.equal(added.status, 202);
    const { href } = (await added.json()) as { href: string };
    // No instance is stored yet: the reindex ends at once.
    for (let i = 0; ; i++) {
      const state = await fetch(href);
      if (state.status === 200) break;
      assert.ok(i < 500, 'the reindex of an empty folder ends');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
  after(async () => {
    await server.close();
  });

  for (const tagCase of CASES) {
    const label = `${tagCase.keyword} (${tagCase.vr}, ${tagCase.level})`;

    it(`v2 stores it with a warning (202), the tag keeps no error: ${label}`, async () => {
      const bad = instanceWith(`v2-bad-${tagCase.keyword}`, [[tagCase, tagCase.bad]]);
      const answer = await stow(server, 'v2', [bad.bytes]);
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      const [item] = items(answer.body, Tag.ReferencedSOPSequence);
      assert.deepEqual(item?.[Tag.WarningReason]?.Value, [1]);
      const [comment] = comments(item);
      assert.ok(
        comment?.startsWith(`DICOM100: ${formatTag(tagCase.path)} - `),
        `the ErrorComment names the attribute: ${comment}`,
      );
      assert.ok(comment.includes(tagCase.bad), `the ErrorComment shows the value: ${comment}`);
      assert.ok(comment.length <= 64, 'an ErrorComment is LO: at most 64 characters');
      const hits = await found(server, bad.params.sopInstanceUid, tagCase);
      assert.equal(hits.length, 1, 'the instance is stored and found');
      const wado = await fetch(
        `${server.url}/v2/studies/${bad.params.studyUid}/series/${bad.params.seriesUid}/instances/${bad.params.sopInstanceUid}`,
        { headers: { accept: 'multipart/related; type="application/dicom"' } },
      );
      assert.equal(wado.status, 200, 'its file is retrieved whole');
      await wado.arrayBuffer();
      const state = await tagState(server, tagCase);
      assert.deepEqual(state, {
        status: 'Ready',
        queryStatus: 'Enabled',
        count: 0,
        errors: [],
      });
    });

    it(`v1 refuses it (409, 43264, the attribute named) and stores nothing: ${label}`, async () => {
      const bad = instanceWith(`v1-bad-${tagCase.keyword}`, [[tagCase, tagCase.bad]]);
      const answer = await stow(server, 'v1', [bad.bytes]);
      assert.equal(answer.status, 409, JSON.stringify(answer.body));
      const [item] = items(answer.body, Tag.FailedSOPSequence);
      assert.deepEqual(item?.[Tag.FailureReason]?.Value, [43264]);
      assert.deepEqual(item?.[Tag.ReferencedSOPInstanceUID]?.Value, [bad.params.sopInstanceUid]);
      const [comment] = comments(item);
      assert.ok(comment?.startsWith(`DICOM100: ${formatTag(tagCase.path)} - `), comment);
      assert.deepEqual(await found(server, bad.params.sopInstanceUid, tagCase), []);
      assert.equal((await tagState(server, tagCase)).count, 0);
    });

    it(`v1 stores a value that fits, and QIDO matches it: ${label}`, async () => {
      const good = instanceWith(`v1-good-${tagCase.keyword}`, [[tagCase, tagCase.good]]);
      const answer = await stow(server, 'v1', [good.bytes]);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const uidTag =
        tagCase.resource === 'studies'
          ? Tag.StudyInstanceUID
          : tagCase.resource === 'series'
            ? Tag.SeriesInstanceUID
            : Tag.SOPInstanceUID;
      const uid =
        tagCase.resource === 'studies'
          ? good.params.studyUid
          : tagCase.resource === 'series'
            ? good.params.seriesUid
            : good.params.sopInstanceUid;
      const hits = (await getJson(
        server,
        `/${tagCase.resource}?${tagCase.keyword}=${tagCase.good}`,
      )) as Item[];
      assert.deepEqual(
        hits.map((hit) => hit[uidTag]?.Value?.[0]),
        [uid],
      );
    });
  }

  it('v1 names every attribute that fails, one ErrorComment each', async () => {
    const bad = instanceWith(
      'v1-two-bad',
      CASES.slice(0, 2).map((c): [TagCase, string] => [c, c.bad]),
    );
    const answer = await stow(server, 'v1', [bad.bytes]);
    assert.equal(answer.status, 409);
    const got = comments(items(answer.body, Tag.FailedSOPSequence)[0]);
    assert.deepEqual(
      got.map((c) => c.slice(0, 21)),
      CASES.slice(0, 2).map((c) => `DICOM100: ${formatTag(c.path)}`),
    );
  });

  it('v1 stores the good instances of a request whose other instance fails (202)', async () => {
    const [weight] = CASES;
    const good = instanceWith('v1-mixed-good', [[weight!, '80']]);
    const bad = instanceWith('v1-mixed-bad', [[weight!, 'eighty']]);
    const answer = await stow(server, 'v1', [good.bytes, bad.bytes]);
    assert.equal(answer.status, 202);
    const outcome = stowOutcome(answer.body);
    assert.deepEqual(outcome.stored, [good.params.sopInstanceUid]);
    assert.deepEqual(outcome.failed, [{ uid: bad.params.sopInstanceUid, reason: 43264 }]);
  });

  it('several values: the first is indexed; v1 warns (Warning 299), v2 does not', async () => {
    const [weight] = CASES;
    const v1 = instanceWith('multi-v1', [[weight!, '61\\62']]);
    const v1Answer = await stow(server, 'v1', [v1.bytes]);
    assert.equal(v1Answer.status, 200, JSON.stringify(v1Answer.body));
    // The agent is the host name and a colon, as Azure writes it (HttpRequestExtensions.GetHost).
    assert.match(v1Answer.warning ?? '', /^299 127\.0\.0\.1: "(.*)"$/);
    assert.ok(v1Answer.warning!.endsWith(`"${MULTIPLE_VALUES_WARNING}"`));
    const v2 = instanceWith('multi-v2', [[weight!, '63\\64']]);
    const v2Answer = await stow(server, 'v2', [v2.bytes]);
    assert.equal(v2Answer.status, 200, JSON.stringify(v2Answer.body));
    assert.equal(v2Answer.warning, undefined);
    for (const [first, instance] of [
      ['61', v1],
      ['63', v2],
    ] as const) {
      const hits = (await getJson(server, `/studies?PatientWeight=${first}`)) as Item[];
      assert.deepEqual(
        hits.map((hit) => hit[Tag.StudyInstanceUID]?.Value?.[0]),
        [instance.params.studyUid],
      );
    }
  });

  it('an upsert (PUT) stores it with the same warning (202)', async () => {
    const [weight] = CASES;
    const bad = instanceWith('put-bad', [[weight!, 'none']]);
    const boundary = 'eqtput';
    const answer = await rawRequest(
      server,
      'PUT',
      '/v2/studies',
      {
        'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
        accept: 'application/dicom+json',
      },
      multipart(boundary, [{ body: bad.bytes }]),
    );
    assert.equal(answer.status, 202, answer.text);
    const [item] = items(answer.json() as Item, Tag.ReferencedSOPSequence);
    assert.deepEqual(item?.[Tag.WarningReason]?.Value, [1]);
    assert.match(comments(item)[0] ?? '', /^DICOM100: \(0010,1030\) - /);
  });
});
