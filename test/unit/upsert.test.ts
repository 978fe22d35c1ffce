/**
 * Upsert in the client, on data: which servers "Upload and Replace" is offered for (profile,
 * then the Azure API version in the service URL), how a stored file is told replaced or new
 * from the search made before it was sent, and how the report says it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROFILES, type ServerKind } from '../../src/dicomweb/profiles/serverProfiles';
import { apiMajorVersion, supportsUpsert } from '../../src/dicomweb/profiles/upsert';
import { headline, outcomeLabel, reportMarkdown } from '../../src/dicomweb/transfer/outcomeText';
import type { FileOutcome } from '../../src/dicomweb/transfer/store';
import { markReplaced } from '../../src/dicomweb/transfer/upsertOutcome';

describe('which servers replace on PUT /studies', () => {
  it('reads the API version from the service URL, partitions and prerelease included', () => {
    assert.equal(apiMajorVersion('https://ws-svc.dicom.azurehealthcareapis.com/v2'), 2);
    assert.equal(apiMajorVersion('https://ws-svc.dicom.azurehealthcareapis.com/v2/'), 2);
    assert.equal(apiMajorVersion('https://x.dicom.azurehealthcareapis.com/v2/partitions/p1'), 2);
    assert.equal(apiMajorVersion('https://x.dicom.azurehealthcareapis.com/v1.0-prerelease'), 1);
    assert.equal(apiMajorVersion('https://x.dicom.azurehealthcareapis.com/v1'), 1);
    assert.equal(apiMajorVersion('http://127.0.0.1:8042/dicom-web'), undefined);
    assert.equal(apiMajorVersion('http://host/v2x/studies'), undefined);
  });

  it('offers it for Azure from v2 and the local server, for no other kind of server', () => {
    const azure = PROFILES.azure;
    assert.equal(supportsUpsert(azure, 'https://a.dicom.azurehealthcareapis.com/v2'), true);
    assert.equal(supportsUpsert(azure, 'https://a.dicom.azurehealthcareapis.com/v3'), true);
    assert.equal(supportsUpsert(azure, 'https://a.dicom.azurehealthcareapis.com/v1'), false);
    // Azure's unversioned URL is not v2: no PUT route there.
    assert.equal(supportsUpsert(azure, 'https://a.dicom.azurehealthcareapis.com'), false);
    assert.equal(supportsUpsert(PROFILES.local, 'http://127.0.0.1:4100/v2'), true);
    assert.equal(supportsUpsert(PROFILES.local, 'http://127.0.0.1:4100'), true);
    assert.equal(supportsUpsert(PROFILES.local, 'http://127.0.0.1:4100/v1'), false);
    for (const kind of ['google', 'orthanc', 'dcm4chee', 'generic'] as ServerKind[])
      assert.equal(supportsUpsert(PROFILES[kind], 'https://host/v2'), false, kind);
  });
});

describe('replaced or new, from the search before the batch was sent', () => {
  const stored: FileOutcome = { file: 'a.dcm', status: 'stored', sopInstanceUid: '1.2.3' };

  it('calls a stored file replaced when the instance was there before, new otherwise', () => {
    assert.equal(markReplaced(stored, new Set(['1.2.3'])).replaced, true);
    assert.equal(markReplaced(stored, new Set(['9.9'])).replaced, false);
    const warned = markReplaced({ ...stored, status: 'warning' }, new Set(['1.2.3']));
    assert.equal(warned.replaced, true);
  });

  it('claims nothing when the search failed, and says so', () => {
    const outcome = markReplaced(stored, undefined);
    assert.equal(outcome.replaced, undefined);
    assert.equal(outcome.status, 'stored');
    assert.match(outcome.message!, /replaced or new: unknown/);
  });

  it('leaves failed and skipped files alone', () => {
    const failed: FileOutcome = { file: 'b.dcm', status: 'failed', sopInstanceUid: '1.2.3' };
    assert.deepEqual(markReplaced(failed, new Set(['1.2.3'])), failed);
    const skipped: FileOutcome = { file: 'c.dcm', status: 'skipped' };
    assert.deepEqual(markReplaced(skipped, new Set()), skipped);
  });

  it('does not call an unclear answer a replacement when the old instance may be what was found', () => {
    const verified = { ...stored, verified: true };
    const outcome = markReplaced(verified, new Set(['1.2.3']));
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.replaced, undefined);
    assert.match(outcome.message!, /whether it was replaced is unknown/);
    // Not there before, there now: the upload stored it, new.
    assert.equal(markReplaced(verified, new Set()).replaced, false);
  });
});

describe('the upload report of Upload and Replace', () => {
  const outcomes: FileOutcome[] = [
    { file: 'a.dcm', status: 'stored', sopInstanceUid: '1.1', replaced: true },
    { file: 'b.dcm', status: 'stored', sopInstanceUid: '1.2', replaced: false },
    { file: 'c.dcm', status: 'warning', sopInstanceUid: '1.3', replaced: true },
    { file: 'd.dcm', status: 'failed', sopInstanceUid: '1.4', message: 'HTTP 500' },
  ];
  const result = {
    outcomes,
    stored: 2,
    warnings: 1,
    failed: 1,
    skipped: 0,
    serverWarnings: [],
    notDicom: [],
    target: 'Local',
  };

  it('labels each file replaced, new or failed', () => {
    assert.deepEqual(outcomes.map(outcomeLabel), [
      'replaced',
      'new',
      'replaced, with warnings',
      'failed',
    ]);
    const rows = reportMarkdown(result)
      .split('\n')
      .filter((line) => /\.dcm/.test(line));
    assert.deepEqual(
      rows.map((row) => row.split('|')[1]!.trim()),
      ['replaced', 'new', 'replaced, with warnings', 'failed'],
    );
  });

  it('counts replaced and new in the headline, and nothing of it for a plain upload', () => {
    assert.equal(headline(result), '2 stored, 1 stored with warnings, 1 failed; 2 replaced, 1 new');
    const plain = { ...result, outcomes: outcomes.map(({ replaced: _r, ...rest }) => rest) };
    assert.equal(headline(plain), '2 stored, 1 stored with warnings, 1 failed');
  });
});
