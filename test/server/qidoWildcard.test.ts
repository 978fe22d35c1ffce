/**
 * One QIDO-RS search cannot freeze the local server (issue 10, finding 2): the wildcard
 * patterns that held it at 100 % CPU for over 30 s are answered at once while other requests
 * keep being served, and a matching key longer than QIDO_MAX_PATTERN_LENGTH is refused with 400.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LocalServer } from '../../src/server';
import { QIDO_MAX_PATTERN_LENGTH } from '../../src/dicom/wildcard';
import { multipart, rawRequest, smallInstance, startTestServer } from './helpers';

const DESCRIPTION = 'CT CHEST ABDOMEN PELVIS WITH CONTRAST';
const accept = { accept: 'application/dicom+json' };

describe('QIDO-RS wildcards on the local server: bounded, without backtracking (issue 10, finding 2)', () => {
  let server: LocalServer;
  let studyUid: string;

  before(async () => {
    server = await startTestServer();
    const { bytes, params } = smallInstance('qido-wildcard', { studyDescription: DESCRIPTION });
    studyUid = params.studyUid;
    const stored = await rawRequest(
      server,
      'POST',
      '/v2/studies',
      { 'content-type': 'multipart/related; type="application/dicom"; boundary=ww', ...accept },
      multipart('ww', [{ body: bytes }]),
    );
    assert.equal(stored.status, 200, stored.text);
  });
  after(() => server.close());

  const search = (value: string) =>
    rawRequest(server, 'GET', `/v2/studies?StudyDescription=${encodeURIComponent(value)}`, accept);

  it(
    "the issue's patterns are answered (204) while a ping sent at the same time is answered too",
    { timeout: 20_000 },
    async () => {
      for (const pattern of ['*a*a*a*a*a*a*a*a*b', `${'*?'.repeat(18)}*Z`]) {
        // Sent together: with the backtracking RegExp the search held the only thread for
        // over 30 s and the ping waited behind it (the test then times out below).
        const [answer, ping] = await Promise.all([
          search(pattern),
          rawRequest(server, 'GET', '/v2/studies?limit=1', accept),
        ]);
        assert.equal(answer.status, 204, `${pattern}: ${answer.text}`);
        assert.equal(ping.status, 200);
      }
      // And the same shapes match when the value allows it (the search is not just refused).
      const found = await search('*C*O*N*T*R*A*S*T');
      assert.equal(found.status, 200, found.text);
      assert.equal(
        (found.json() as Array<Record<string, { Value?: unknown[] }>>)[0]!['0020000D']!.Value![0],
        studyUid,
      );
    },
  );

  it(`a matching key of ${QIDO_MAX_PATTERN_LENGTH} characters is searched, one more is refused with 400`, async () => {
    const atBound = `*${'?'.repeat(QIDO_MAX_PATTERN_LENGTH - 2)}*`;
    assert.equal(atBound.length, QIDO_MAX_PATTERN_LENGTH);
    assert.equal((await search(atBound)).status, 204, 'no description is that long');
    const over = await search(`${atBound}*`);
    assert.equal(over.status, 400, over.text);
    assert.match(over.text, new RegExp(`at most ${QIDO_MAX_PATTERN_LENGTH}`));
    // UID lists are not patterns: a long list of UIDs stays accepted.
    const uids = Array.from({ length: 20 }, (_, i) => `${studyUid}.${i}`)
      .concat(studyUid)
      .join(',');
    assert.ok(uids.length > QIDO_MAX_PATTERN_LENGTH);
    assert.equal(
      (await rawRequest(server, 'GET', `/v2/studies?StudyInstanceUID=${uids}`, accept)).status,
      200,
    );
  });
});
