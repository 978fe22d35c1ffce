/**
 * Add Server's probes (issue 11, item 8): Orthanc's root URL typed without `/dicom-web` was
 * accepted and the tree then showed Orthanc's "Missing 'since' argument"; the extension's own
 * local server was detected as a generic server. Against the real Orthanc and local server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearerAuth, DicomWebClient, DicomWebHttpError } from '../../src/dicomweb';
import type { LocalServer } from '../../src/server';
import { orthanc, resetOrthanc } from '../support/env';
import { startTestServer } from '../server/helpers';

const probe = (baseUrl: string): DicomWebClient =>
  new DicomWebClient({ baseUrl, retry: { retries: 0 } });

describe('Add Server: where the DICOMweb root is, and what kind of server answers', () => {
  let server: LocalServer;
  before(async () => {
    await resetOrthanc();
    server = await startTestServer();
  });
  after(() => server.close());

  it("offers Orthanc's DICOMweb root for its REST root, whose /studies?limit=1 is not QIDO", async () => {
    const client = probe(orthanc.restUrl);
    try {
      const answer = await client.transport.sendForBytes({
        method: 'GET',
        url: `${orthanc.restUrl}/studies?limit=1`,
        headers: { accept: 'application/dicom+json' },
        acceptStatus: () => true,
      });
      assert.notEqual(
        answer.response.status,
        200,
        "Orthanc's own /studies?limit=1 is what the tree used to show",
      );
      assert.equal(await client.findDicomWebRoot(), `${orthanc.restUrl}/dicom-web`);
    } finally {
      await client.close();
    }
  });

  it('keeps a URL that already is a DICOMweb root, and finds none on an unreachable one', async () => {
    for (const [url, expected] of [
      [orthanc.dicomWebUrl, orthanc.dicomWebUrl],
      [`${server.url}/v2`, `${server.url}/v2`],
      ['http://127.0.0.1:9', undefined],
    ] as const) {
      const client = probe(url);
      try {
        assert.equal(await client.findDicomWebRoot(), expected, url);
      } finally {
        await client.close();
      }
    }
  });

  it('detects the local server by its Server header, and Orthanc as before', async () => {
    const local = probe(`${server.url}/v2`);
    const theirs = probe(orthanc.dicomWebUrl);
    try {
      assert.equal((await local.detectProfile()).kind, 'local');
      assert.equal((await theirs.detectProfile()).kind, 'orthanc');
    } finally {
      await local.close();
      await theirs.close();
    }
  });
});

describe('a 401 says whether the request carried a credential', () => {
  it('refused (a wrong token sent) and missing (none sent) are told apart', async () => {
    const server = await startTestServer({ token: 'the-right-token' });
    const wrong = new DicomWebClient({
      baseUrl: `${server.url}/v2`,
      serverKind: 'local',
      auth: bearerAuth(async () => 'a-wrong-token'),
    });
    const none = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
    try {
      const refused = await wrong.searchForStudies().then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof DicomWebHttpError && refused.status === 401, String(refused));
      assert.equal(refused.credentialSent, true);
      assert.match(
        refused.serverMessage ?? '',
        /refused \(invalid_token\)/,
        'the local server no longer says a token is "required" when one was sent',
      );
      const missing = await none.searchForStudies().then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(missing instanceof DicomWebHttpError && missing.status === 401, String(missing));
      assert.equal(missing.credentialSent, false);
      assert.match(missing.serverMessage ?? '', /required/);
    } finally {
      await wrong.close();
      await none.close();
      await server.close();
    }
  });
});
