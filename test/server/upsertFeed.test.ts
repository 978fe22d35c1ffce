/**
 * Upsert in the change feed: Azure records a replaced instance as an `update` entry and turns
 * the entries of its older versions `replaced` (Learn, "Change feed overview": Action
 * create/update/delete, State current/replaced/deleted). A PUT of a new instance is a create.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LocalServer } from '../../src/server';
import { rawRequest, smallInstance, startTestServer } from './helpers';

const DICOM = { 'content-type': 'application/dicom', accept: 'application/dicom+json' };

interface Entry {
  Sequence: number;
  SopInstanceUid: string;
  Action: string;
  State: string;
}

describe('upsert in the change feed of the local server', () => {
  let server: LocalServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('a replace is an update entry, the older version replaced; a new instance is a create', async () => {
    const first = smallInstance('upsert-feed', { seriesDescription: 'first' });
    const second = smallInstance('upsert-feed', { seriesDescription: 'second' });
    const fresh = smallInstance('upsert-feed-new');
    assert.equal((await rawRequest(server, 'POST', '/v2/studies', DICOM, first.bytes)).status, 200);
    assert.equal((await rawRequest(server, 'PUT', '/v2/studies', DICOM, second.bytes)).status, 200);
    assert.equal((await rawRequest(server, 'PUT', '/v2/studies', DICOM, fresh.bytes)).status, 200);

    const res = await rawRequest(server, 'GET', '/v1/changefeed?includemetadata=false');
    assert.equal(res.status, 200, res.text);
    const entries = (res.json() as Entry[]).map(({ SopInstanceUid, Action, State }) => ({
      sop: SopInstanceUid,
      action: Action,
      state: State,
    }));
    assert.deepEqual(entries, [
      { sop: first.params.sopInstanceUid, action: 'create', state: 'replaced' },
      { sop: first.params.sopInstanceUid, action: 'update', state: 'current' },
      { sop: fresh.params.sopInstanceUid, action: 'create', state: 'current' },
    ]);
  });
});
