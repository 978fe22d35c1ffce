/**
 * Issue 10, finding 4b/4c, the decisions: where a connection comes from (a repository's
 * .vscode/settings.json or the user's settings), that saving never copies workspace
 * entries into user settings, which origins may receive a credential and an Entra token,
 * and that a URL's user info is moved out of the URL. The credential gate in front of
 * every AuthProvider, with a recorded prompt and an in-memory Memento.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bearerAuth, type AuthProvider } from '../../src/dicomweb/transport/auth';
import {
  approvalsNeeded,
  connectionsFromInspection,
  inspectionForTrust,
  isAzureDicomUrl,
  NO_APPROVALS,
  parseApprovals,
  splitUserInfo,
  userListWith,
  userListWithout,
  withoutUserInfo,
  WorkspaceConnectionError,
} from '../../src/config/connectionPolicy';
import { APPROVALS_KEY, CredentialGate } from '../../src/config/credentialGate';
import type { ServerConnection } from '../../src/config/serverConnection';
import { DicomWebClient } from '../../src/dicomweb';
import { DicomWebFrameSource } from '../../src/preview/frameSource';

const mine: ServerConnection = {
  id: 'a1',
  name: 'My Azure',
  url: 'https://ws-dicom.dicom.azurehealthcareapis.com/v2',
  kind: 'azure',
  auth: 'entra',
};
const hostile: ServerConnection = {
  id: 'a1',
  name: 'My Azure',
  url: 'https://evil.example/v2',
  kind: 'azure',
  auth: 'entra',
  caFile: '/tmp/evil-ca.pem',
  rejectUnauthorized: false,
};

describe('connections from settings (issue 10, finding 4b)', () => {
  it('marks workspace entries, gives them ids of their own and drops their TLS fields', () => {
    const list = connectionsFromInspection({ globalValue: [mine], workspaceValue: [hostile] });
    assert.equal(list.length, 2);
    assert.deepEqual(list[0], mine);
    assert.equal(list[1].source, 'workspace');
    assert.equal(
      list[1].id,
      'workspace:a1',
      'a workspace entry never shares the id (and so the secret) of a user connection',
    );
    assert.equal(list[1].caFile, undefined);
    assert.equal(list[1].rejectUnauthorized, undefined);
    assert.equal(list[1].url, 'https://evil.example/v2');
  });

  it('in Restricted Mode, a workspace that is not trusted names no server; once trusted, its entries come back marked', () => {
    const inspection = {
      globalValue: [mine],
      workspaceValue: [hostile],
      workspaceFolderValue: [{ ...hostile, id: 'folder' }],
    };
    assert.deepEqual(connectionsFromInspection(inspectionForTrust(inspection, false)), [mine]);
    const trusted = connectionsFromInspection(inspectionForTrust(inspection, true));
    assert.deepEqual(
      trusted.map((entry) => entry.source ?? 'user'),
      ['user', 'workspace', 'workspace'],
    );
    assert.equal(inspectionForTrust(undefined, false), undefined);
  });

  it('drops from workspace entries what decides where credentials go: trustedOrigins, a serverRoot on another origin', () => {
    const [kept, dropped] = connectionsFromInspection({
      workspaceValue: [
        {
          id: 'o1',
          name: 'Orthanc',
          url: 'http://pacs.example:8042/dicom-web',
          serverRoot: 'http://pacs.example:8042',
          trustedOrigins: ['https://evil.example'],
        },
        {
          id: 'o2',
          name: 'Orthanc',
          url: 'http://pacs.example:8042/dicom-web',
          serverRoot: 'https://evil.example/api',
        },
      ],
    });
    assert.equal(kept.serverRoot, 'http://pacs.example:8042', 'same origin: kept');
    assert.equal(kept.trustedOrigins, undefined);
    assert.equal(dropped.serverRoot, undefined, 'another origin: dropped');
    const [user] = connectionsFromInspection({
      globalValue: [
        {
          id: 'u',
          name: 'U',
          url: 'https://a.example/x',
          trustedOrigins: ['https://bulk.a.example'],
        },
      ],
    });
    assert.deepEqual(
      user.trustedOrigins,
      ['https://bulk.a.example'],
      "the user's own entries keep them",
    );
  });

  it('ignores malformed entries and a `source` written into the user value', () => {
    const list = connectionsFromInspection({
      globalValue: [null, 5, { id: 'x' }, { ...mine, source: 'workspace' }],
      workspaceValue: 'nope',
    });
    assert.deepEqual(list, [mine]);
  });

  it("an entry that is in both the user and the workspace value is the user's", () => {
    const list = connectionsFromInspection({ globalValue: [mine], workspaceValue: [mine] });
    assert.deepEqual(list, [mine]);
  });

  it('saving builds the user list from the user value only: workspace entries are never copied', () => {
    const added: ServerConnection = {
      id: 'b2',
      name: 'Orthanc',
      url: 'http://localhost:8042/dicom-web',
    };
    const next = userListWith([mine], added);
    assert.deepEqual(next, [mine, added]);
    assert.ok(!JSON.stringify(next).includes('evil.example'));
    assert.deepEqual(userListWith([mine, added], { ...added, name: 'Renamed' }), [
      mine,
      { ...added, name: 'Renamed' },
    ]);
    assert.deepEqual(userListWith(undefined, added), [added]);
    assert.deepEqual(userListWithout([mine, added], 'a1'), [added]);
    const fromWorkspace = connectionsFromInspection({ workspaceValue: [hostile] })[0];
    assert.throws(() => userListWith([mine], fromWorkspace), WorkspaceConnectionError);
  });
});

describe('credentials only where approved (issue 10, finding 4b)', () => {
  const ws = (c: ServerConnection) => connectionsFromInspection({ workspaceValue: [c] })[0];

  it('Azure DICOM hosts: https and *.dicom.azurehealthcareapis.com only', () => {
    assert.ok(isAzureDicomUrl('https://ws-dicom.dicom.azurehealthcareapis.com/v2'));
    assert.ok(isAzureDicomUrl('https://WS-DICOM.DICOM.AzureHealthcareAPIs.com:443/v2'));
    for (const url of [
      'http://ws-dicom.dicom.azurehealthcareapis.com/v2',
      'https://dicom.azurehealthcareapis.com.evil.example/v2',
      'https://evil.example/ws.dicom.azurehealthcareapis.com',
      'https://evildicom.azurehealthcareapis.com/v2',
      'https://.dicom.azurehealthcareapis.com/v2',
      'https://ws.fhir.azurehealthcareapis.com/v2',
      'not a url',
    ])
      assert.ok(!isAzureDicomUrl(url), url);
  });

  it('decides which approvals a connection needs', () => {
    assert.deepEqual(
      approvalsNeeded(mine, NO_APPROVALS),
      [],
      'a user Entra connection to Azure needs nothing',
    );
    assert.deepEqual(
      approvalsNeeded({ ...mine, url: 'https://dicom.example.org/v2' }, NO_APPROVALS),
      [{ kind: 'entra', origin: 'https://dicom.example.org' }],
    );
    assert.deepEqual(approvalsNeeded(ws(hostile), NO_APPROVALS), [
      { kind: 'workspace', origin: 'https://evil.example' },
      { kind: 'entra', origin: 'https://evil.example' },
    ]);
    // Even an Azure host from a workspace: the user's token could be replayed by its owner.
    assert.deepEqual(approvalsNeeded(ws(mine), NO_APPROVALS), [
      { kind: 'workspace', origin: 'https://ws-dicom.dicom.azurehealthcareapis.com' },
    ]);
    assert.deepEqual(
      approvalsNeeded(ws({ ...hostile, auth: 'none' }), NO_APPROVALS),
      [],
      'nothing to send, nothing to ask',
    );
    const approvals = { workspace: ['https://evil.example'], entra: ['https://evil.example'] };
    assert.deepEqual(approvalsNeeded(ws(hostile), approvals), []);
    // Approval is per origin: another port or scheme asks again.
    assert.equal(
      approvalsNeeded(
        ws({ ...hostile, url: 'https://evil.example:8443/v2', auth: 'bearer' }),
        approvals,
      ).length,
      1,
    );
    assert.equal(
      approvalsNeeded(ws({ ...hostile, url: 'http://evil.example/v2', auth: 'basic' }), approvals)
        .length,
      1,
    );
  });

  it('reads stored approvals defensively', () => {
    assert.deepEqual(parseApprovals(undefined), NO_APPROVALS);
    assert.deepEqual(parseApprovals({ workspace: ['https://a', 3, null], entra: 'https://b' }), {
      workspace: ['https://a'],
      entra: [],
    });
  });

  it('the gate sends no credential (reads no secret) until the origin is approved, asks once, remembers, and revokes', async () => {
    const store = new Map<string, unknown>();
    const state = {
      get: <T>(key: string) => store.get(key) as T | undefined,
      update: async (key: string, value: unknown) => void store.set(key, value),
    };
    const asked: string[] = [];
    let answer = false;
    const gate = new CredentialGate(
      state,
      () => ({ confirm: async (message: string) => (asked.push(message), answer) }),
      { info: () => undefined, warn: () => undefined },
    );
    let secretReads = 0;
    const provider: AuthProvider = bearerAuth(async () => (secretReads++, 'the-users-token'));
    const connection = ws({ ...hostile, url: 'http://127.0.0.1:9/dicom-web', auth: 'bearer' });
    const guarded = gate.guard(connection, provider);

    assert.equal(await guarded.authorization(), undefined, 'refused: no Authorization');
    assert.equal(await guarded.authorization(), undefined);
    assert.equal(await guarded.refresh?.(), false, 'no new credential asked after a 401 either');
    assert.equal(secretReads, 0, 'the secret was never read');
    assert.equal(asked.length, 1, 'asked once, the refusal holds for the session');
    assert.match(
      asked[0],
      /^This workspace's settings point DICOMweb Explorer at http:\/\/127\.0\.0\.1:9\. Send your credentials there\?$/,
    );

    await gate.revoke(['http://127.0.0.1:9']);
    answer = true;
    const [a, b] = await Promise.all([guarded.authorization(), guarded.authorization()]);
    assert.equal(a, 'Bearer the-users-token');
    assert.equal(b, 'Bearer the-users-token');
    assert.equal(asked.length, 2, 'concurrent requests share one question');
    assert.deepEqual(store.get(APPROVALS_KEY), { workspace: ['http://127.0.0.1:9'], entra: [] });
    assert.equal(await guarded.authorization(), 'Bearer the-users-token');
    assert.equal(asked.length, 2, 'an approval is remembered');

    await gate.revoke(['http://127.0.0.1:9']);
    answer = false;
    assert.equal(await guarded.authorization(), undefined, 'revoked: asked again, refused');
    assert.equal(asked.length, 3);
  });

  it("the gate asks separately for an Entra token off the Azure hosts, even for the user's own connection", async () => {
    const store = new Map<string, unknown>();
    const state = {
      get: <T>(key: string) => store.get(key) as T | undefined,
      update: async (key: string, value: unknown) => void store.set(key, value),
    };
    const asked: string[] = [];
    const gate = new CredentialGate(
      state,
      () => ({ confirm: async (message: string) => (asked.push(message), false) }),
      { info: () => undefined, warn: () => undefined },
    );
    let tokens = 0;
    const provider = bearerAuth(async () => (tokens++, 'entra-token'));
    assert.equal(
      await gate.guard({ ...mine, url: 'https://dicom.example.org/v2' }, provider).authorization(),
      undefined,
    );
    assert.match(asked[0], /not an Azure DICOM host/);
    assert.equal(
      await gate.guard(mine, provider).authorization(),
      'Bearer entra-token',
      'Azure host: no question',
    );
    assert.equal(tokens, 1);
    assert.equal(asked.length, 1);
  });
});

describe('user info in URLs (issue 10, finding 4c)', () => {
  it('splits user:password@ out of a URL', () => {
    assert.deepEqual(splitUserInfo('https://alice:s%40cret@pacs.example/dicom-web'), {
      url: 'https://pacs.example/dicom-web',
      username: 'alice',
      password: 's@cret',
    });
    assert.deepEqual(splitUserInfo('https://pacs.example/dicom-web'), {
      url: 'https://pacs.example/dicom-web',
    });
    assert.deepEqual(splitUserInfo('http://bob@127.0.0.1:8042/dicom-web'), {
      url: 'http://127.0.0.1:8042/dicom-web',
      username: 'bob',
    });
  });

  it('a connection with user info is used without it: HTTP basic unless another auth is set', () => {
    const moved = withoutUserInfo({
      id: 'c',
      name: 'PACS',
      url: 'https://alice:pw@pacs.example/dicom-web',
    });
    assert.deepEqual(moved.connection, {
      id: 'c',
      name: 'PACS',
      url: 'https://pacs.example/dicom-web',
      auth: 'basic',
      username: 'alice',
    });
    assert.equal(moved.password, 'pw');
    assert.ok(moved.hadUserInfo);
    const bearer = withoutUserInfo({
      id: 'c',
      name: 'PACS',
      url: 'https://alice:pw@pacs.example/dicom-web',
      auth: 'bearer',
    });
    assert.equal(bearer.connection.url, 'https://pacs.example/dicom-web');
    assert.equal(bearer.connection.auth, 'bearer');
    assert.equal(bearer.password, undefined);
    assert.ok(!JSON.stringify(bearer.connection).includes('pw'));
  });
});

describe('what the preview posts to its webview (issue 10, finding 4c)', () => {
  it('the source label of a DICOMweb preview carries no user info', async () => {
    const client = new DicomWebClient({ baseUrl: 'https://alice:s3cret@pacs.example/dicom-web' });
    try {
      const source = new DicomWebFrameSource(client, {
        studyInstanceUid: '1',
        seriesInstanceUid: '2',
        sopInstanceUid: '3',
      });
      assert.equal(source.label, 'https://pacs.example/dicom-web');
    } finally {
      await client.close();
    }
  });
});
