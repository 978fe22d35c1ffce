/**
 * Authentication against the Orthanc started with HTTP basic auth: the right password
 * works, a wrong one is a typed 401 that never repeats the secret, a 401 asks the
 * provider to refresh exactly once, and neither the request log nor printed cURL
 * commands carry a credential.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BASIC_PLACEHOLDER,
  DicomWebClient,
  DicomWebHttpError,
  TOKEN_PLACEHOLDER,
  basicAuth,
  bearerAuth,
  searchRequest,
  storeRequest,
  type AuthProvider,
  type RequestLogEntry,
} from '../../src/dicomweb';
import { clearOrthanc } from '../support/orthanc';
import { resetOrthanc, securedClient, securedOrthanc, tempDir } from '../support/env';
import { SEED, writeSeedFiles } from '../support/seedData';

const basicHeader = (user: string, password: string): string =>
  Buffer.from(`${user}:${password}`).toString('base64');

describe('HTTP basic auth on Orthanc', () => {
  let files: string[];
  let password: string;
  const wrongPassword = 'not-the-password-Zq9';
  const clients: DicomWebClient[] = [];
  const track = (client: DicomWebClient): DicomWebClient => {
    clients.push(client);
    return client;
  };

  /** Every way the secret could show up in a text. */
  function assertNoSecret(text: string, what: string): void {
    for (const secret of [
      password,
      wrongPassword,
      basicHeader(securedOrthanc.username, password),
      basicHeader(securedOrthanc.username, wrongPassword),
    ]) {
      assert.ok(!text.includes(secret), `${what} contains a secret: ${text}`);
    }
  }

  before(async () => {
    await resetOrthanc();
    password = securedOrthanc.password;
    await clearOrthanc({
      restUrl: securedOrthanc.restUrl,
      basicAuth: { username: securedOrthanc.username, password },
    });
    files = await writeSeedFiles(tempDir('auth'));
  });
  after(async () => {
    for (const client of clients.splice(0)) await client.close();
  });

  it('with the right password: store, search, retrieve metadata', async () => {
    const client = track(securedClient());
    const summary = await client.storeInstances(files);
    assert.equal(summary.stored, 3, JSON.stringify(summary.outcomes));
    const studies = await client.searchForStudies({ match: { PatientName: 'Test^Shapes' } });
    assert.equal(studies.items.length, 1);
    const metadata = await client.retrieveStudyMetadata(SEED.studyInstanceUid);
    assert.equal(metadata.length, 3);
  });

  it('without credentials: 401', async () => {
    const client = track(new DicomWebClient({ baseUrl: securedOrthanc.dicomWebUrl }));
    await assert.rejects(
      client.searchForStudies(),
      (error: unknown) => error instanceof DicomWebHttpError && error.status === 401,
    );
  });

  it('with a wrong password: a DicomWebHttpError 401 whose message, URL and server message hold no secret', async () => {
    const client = track(securedClient(wrongPassword));
    let caught: unknown;
    try {
      await client.searchForStudies({ match: { PatientName: 'Test^*' } });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof DicomWebHttpError, String(caught));
    assert.equal(caught.status, 401);
    assert.equal(caught.method, 'GET');
    assert.match(caught.url ?? '', /\/studies\?PatientName=Test\^\*$/);
    assertNoSecret(
      `${caught.message} ${caught.url} ${caught.serverMessage} ${caught.stack} ${JSON.stringify(caught.body)}`,
      'the error',
    );
  });

  it('a STOW with a wrong password reports each file failed with 401, without the secret', async () => {
    const client = track(securedClient(wrongPassword));
    const summary = await client.storeInstances(files);
    assert.equal(summary.failed, 3);
    for (const outcome of summary.outcomes) {
      assert.equal(outcome.httpStatus, 401);
      assertNoSecret(JSON.stringify(outcome), 'the outcome');
    }
  });

  it('a password from a callback (secret storage) is asked for each request', async () => {
    let asked = 0;
    const client = track(
      new DicomWebClient({
        baseUrl: securedOrthanc.dicomWebUrl,
        auth: basicAuth(securedOrthanc.username, async () => {
          asked++;
          return password;
        }),
      }),
    );
    await client.searchForStudies();
    await client.searchForSeries();
    assert.equal(asked, 2);
  });

  it('a bearer provider is asked to refresh exactly once on 401, then the 401 reaches the caller', async () => {
    const calls: boolean[] = [];
    const client = track(
      new DicomWebClient({
        baseUrl: securedOrthanc.dicomWebUrl,
        auth: bearerAuth(async (forceRefresh) => {
          calls.push(forceRefresh);
          return `token-${calls.length}`;
        }),
      }),
    );
    await assert.rejects(
      client.searchForStudies(),
      (error: unknown) => error instanceof DicomWebHttpError && error.status === 401,
    );
    assert.deepEqual(calls, [false, true], 'one normal request, one forced refresh, no loop');
  });

  it('a refresh that yields good credentials makes the request succeed on its second try', async () => {
    let refreshes = 0;
    let current = wrongPassword;
    const entries: RequestLogEntry[] = [];
    const provider: AuthProvider = {
      kind: 'basic',
      authorization: async () => `Basic ${basicHeader(securedOrthanc.username, current)}`,
      refresh: async () => {
        refreshes++;
        current = password;
        return true;
      },
    };
    const client = track(
      new DicomWebClient({
        baseUrl: securedOrthanc.dicomWebUrl,
        auth: provider,
        onRequest: (entry) => entries.push(entry),
      }),
    );
    const result = await client.searchForStudies({
      match: { StudyInstanceUID: SEED.studyInstanceUid },
    });
    assert.equal(result.items.length, 1);
    assert.equal(refreshes, 1);
    assert.deepEqual(
      entries.map((entry) => entry.status),
      [401, 200],
    );
    // A second request uses the refreshed credentials straight away.
    await client.searchForSeries();
    assert.equal(refreshes, 1);
  });

  it('an upload that meets a 401 (expired token) refreshes once and sends the batch again from the files', async () => {
    await clearOrthanc({
      restUrl: securedOrthanc.restUrl,
      basicAuth: { username: securedOrthanc.username, password },
    });
    let refreshes = 0;
    let current = wrongPassword;
    const provider: AuthProvider = {
      kind: 'bearer',
      authorization: async () => `Basic ${basicHeader(securedOrthanc.username, current)}`,
      refresh: async () => {
        refreshes++;
        current = password;
        return true;
      },
    };
    const client = track(
      new DicomWebClient({ baseUrl: securedOrthanc.dicomWebUrl, auth: provider }),
    );
    let last: { bytesSent: number; bytesTotal: number } | undefined;
    const summary = await client.storeInstances(files, { onProgress: (p) => (last = p) });
    assert.equal(summary.stored, 3, JSON.stringify(summary.outcomes));
    assert.ok(summary.outcomes.every((o) => o.httpStatus === 200));
    assert.equal(refreshes, 1);
    assert.equal(last?.bytesSent, last?.bytesTotal, 'a resent batch is not counted twice');
    const held = await track(securedClient()).searchForInstances(
      {},
      { studyInstanceUid: SEED.studyInstanceUid },
    );
    assert.equal(held.items.length, 3);
  });

  it('an upload whose refreshed credentials fail too: one refresh, one resend, then a 401 outcome', async () => {
    const calls: boolean[] = [];
    const client = track(
      new DicomWebClient({
        baseUrl: securedOrthanc.dicomWebUrl,
        auth: bearerAuth(async (forceRefresh) => {
          calls.push(forceRefresh);
          return 'expired-token';
        }),
      }),
    );
    const summary = await client.storeInstances([files[0]!]);
    assert.equal(summary.outcomes[0]?.status, 'failed');
    assert.equal(summary.outcomes[0]?.httpStatus, 401);
    assert.deepEqual(calls.slice(0, 2), [false, true], 'the resend asked for a fresh token');
    assert.equal(calls.filter((force) => force).length, 1, 'refreshed exactly once');
  });

  it('the request log never holds a credential', async () => {
    const entries: RequestLogEntry[] = [];
    const good = track(
      new DicomWebClient({
        baseUrl: securedOrthanc.dicomWebUrl,
        serverKind: 'orthanc',
        auth: basicAuth(securedOrthanc.username, password),
        onRequest: (entry) => entries.push(entry),
      }),
    );
    const bad = track(
      new DicomWebClient({
        baseUrl: securedOrthanc.dicomWebUrl,
        auth: basicAuth(securedOrthanc.username, wrongPassword),
        onRequest: (entry) => entries.push(entry),
      }),
    );
    const inUrl = track(
      new DicomWebClient({
        baseUrl: securedOrthanc.dicomWebUrl.replace(
          'http://',
          `http://${securedOrthanc.username}:${password}@`,
        ),
        onRequest: (entry) => entries.push(entry),
      }),
    );
    await good.searchForStudies();
    await good.storeInstances([files[0]!]);
    await good.detectProfile();
    await bad.searchForStudies().catch(() => undefined);
    await bad.storeInstances([files[0]!]);
    await inUrl.searchForStudies().catch(() => undefined);
    assert.ok(entries.length >= 6, `${entries.length} entries`);
    assert.ok(entries.some((entry) => entry.status === 401));
    assertNoSecret(JSON.stringify(entries), 'the request log');
  });

  it('curlOf prints the placeholder, not the secret', () => {
    const basic = track(securedClient());
    const printed = [
      basic.curlOf(searchRequest('studies')),
      basic.curlOf(storeRequest(files)),
    ].join('\n');
    assert.ok(printed.includes(`Authorization: Basic ${BASIC_PLACEHOLDER}`));
    assertNoSecret(printed, 'the printed command');
    const token = 'eyJhbGciOiJSUzI1NiJ9.very-secret-token';
    const bearer = track(
      new DicomWebClient({
        baseUrl: securedOrthanc.dicomWebUrl,
        auth: bearerAuth(async () => token),
      }),
    );
    const printedBearer = bearer.curlOf(searchRequest('studies'));
    assert.ok(printedBearer.includes(`Authorization: Bearer ${TOKEN_PLACEHOLDER}`));
    assert.ok(!printedBearer.includes(token));
  });

  it('the printed command works once the placeholder is replaced by the user', async () => {
    const { spawnSync } = await import('node:child_process');
    const command = track(securedClient()).curlOf(
      searchRequest('studies', {}, { match: { PatientName: 'Test^Shapes' } }),
    );
    const filled = command.replace(
      BASIC_PLACEHOLDER,
      basicHeader(securedOrthanc.username, password),
    );
    const result = spawnSync('bash', ['-c', `${filled} --silent --fail`], {
      encoding: 'utf8',
      cwd: join(tempDir('auth-curl')),
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as unknown[]).length, 1);
  });
});
