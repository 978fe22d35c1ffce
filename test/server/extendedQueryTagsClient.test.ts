/**
 * The client's extended query tag and operation calls (src/dicomweb/extendedQueryTags.ts)
 * against the real local server: add, follow the reindex with backoff to its end, list,
 * errors, enable/disable, delete; a cancelled wait stops at once; a wait past its deadline
 * fails with TIMEOUT; the server's refusals arrive as typed HTTP errors.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DicomWebError,
  DicomWebHttpError,
  PROFILES,
  type DicomWebClient,
  type OperationState,
} from '../../src/dicomweb';
import type { LocalServer } from '../../src/server';
import { localClient, smallInstance, startTestServer, tempDir } from './helpers';

const PATIENT_WEIGHT = '00101030';

describe("the client's extended query tag calls", () => {
  let server: LocalServer;
  let client: DicomWebClient;
  const instances = Array.from({ length: 120 }, (_, i) =>
    smallInstance(`eqt-client-${i}`, {
      extraElements: [{ tag: PATIENT_WEIGHT, vr: 'DS', value: i === 7 ? 'n/a' : String(50 + i) }],
    }),
  );

  before(async () => {
    const dir = tempDir('eqt-client');
    for (const [i, instance] of instances.entries())
      await writeFile(join(dir, `${i}.dcm`), instance.bytes);
    server = await startTestServer({ dir });
    client = localClient(server);
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('the local and Azure profiles offer extended query tags, Orthanc does not', () => {
    assert.equal(client.serverProfile.capabilities.extendedQueryTags, true);
    assert.equal(PROFILES.azure.capabilities.extendedQueryTags, true);
    assert.equal(PROFILES.orthanc.capabilities.extendedQueryTags, false);
  });

  it('adds a tag and follows its reindex to succeeded, reporting progress', async () => {
    const reference = await client.addExtendedQueryTags([
      { path: 'PatientWeight', level: 'Study' },
    ]);
    assert.match(reference.id, /^[0-9a-f]{32}$/);
    const seen: OperationState[] = [];
    const final = await client.waitForOperation(reference.id, {
      onProgress: (state) => seen.push(state),
      polling: { firstDelayMs: 5, maxDelayMs: 20 },
    });
    assert.equal(final.status, 'succeeded');
    assert.equal(final.percentComplete, 100);
    assert.equal(final.type, 'reindex');
    assert.deepEqual(final.resources, [`${server.url}/v2/extendedquerytags/${PATIENT_WEIGHT}`]);
    assert.equal(seen.at(-1), final);
    const percents = seen.map((state) => state.percentComplete);
    assert.deepEqual(
      percents,
      [...percents].sort((a, b) => a - b),
      'progress never goes back',
    );
  });

  it('lists and gets the tag with its error, and the error with its UIDs', async () => {
    const [tag] = await client.listExtendedQueryTags();
    assert.equal(tag!.path, PATIENT_WEIGHT);
    assert.equal(tag!.vr, 'DS');
    assert.equal(tag!.level, 'Study');
    assert.equal(tag!.status, 'Ready');
    assert.equal(tag!.errorCount, 1);
    assert.equal(tag!.queryStatus, 'Disabled');
    assert.deepEqual(await client.getExtendedQueryTag('PatientWeight'), tag);
    const errors = await client.listExtendedQueryTagErrors(PATIENT_WEIGHT, { limit: 10 });
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.sopInstanceUid, instances[7]!.params.sopInstanceUid);
    assert.match(errors[0]!.errorMessage, /n\/a/);
  });

  it('enables the tag, and QIDO then matches on it', async () => {
    const updated = await client.updateExtendedQueryTag(PATIENT_WEIGHT, { queryStatus: 'Enabled' });
    assert.equal(updated.queryStatus, 'Enabled');
    const found = await client.searchForStudies({ match: { PatientWeight: '53' } });
    assert.deepEqual(
      found.items.map((d) => d['0020000D']?.Value?.[0]),
      [instances[3]!.params.studyUid],
    );
  });

  it('refuses a second add with a 409 HTTP error, and a bad path before sending', async () => {
    await assert.rejects(
      client.addExtendedQueryTags([{ path: 'PatientWeight', level: 'Study' }]),
      (error: unknown) => error instanceof DicomWebHttpError && error.status === 409,
    );
    await assert.rejects(
      client.getExtendedQueryTag('../studies'),
      (error: unknown) => error instanceof DicomWebError && error.code === 'INVALID_REQUEST',
    );
  });

  it('stops waiting at once when cancelled, and with TIMEOUT past its deadline', async () => {
    const reference = await client.addExtendedQueryTags([{ path: 'PatientSize', level: 'Study' }]);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(
      client.waitForOperation(reference.id, { signal: aborted.signal }),
      (error: unknown) => error instanceof DicomWebError && error.code === 'CANCELLED',
    );
    // 120 instances take longer to reindex than one poll: a 1 ms deadline is past at once.
    const started = await client.getOperation(reference.id);
    if (started.status === 'running' || started.status === 'notStarted') {
      await assert.rejects(
        client.waitForOperation(reference.id, { polling: { timeoutMs: 1, firstDelayMs: 5 } }),
        (error: unknown) => error instanceof DicomWebError && error.code === 'TIMEOUT',
      );
    }
    const final = await client.waitForOperation(reference.id, {
      polling: { firstDelayMs: 5, maxDelayMs: 20 },
    });
    assert.equal(final.status, 'succeeded');
  });

  it('deletes the tag: a 404 after', async () => {
    await client.deleteExtendedQueryTag(PATIENT_WEIGHT);
    await assert.rejects(
      client.getExtendedQueryTag(PATIENT_WEIGHT),
      (error: unknown) => error instanceof DicomWebHttpError && error.status === 404,
    );
    assert.deepEqual(
      (await client.listExtendedQueryTags()).map((t) => t.path),
      ['00101020'],
    );
  });
});
