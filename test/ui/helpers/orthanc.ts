/**
 * The Orthanc that `npm test` started, seen from a UI scenario: the connection the user's
 * settings name, a client to seed it and to check what it holds afterwards.
 */
import * as assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { DicomWebClient } from '../../../src/dicomweb';
import { orthanc, orthancClient, resetOrthanc, tempDir } from '../../support/env';
import { writeSeedFiles } from '../../support/seedData';

export const CONNECTION_NAME = 'Orthanc (test)';

/** The `dicomweb.servers` entry of the test Orthanc. */
export function orthancConnection(): Record<string, unknown> {
  return {
    id: 'orthanc-ui',
    name: CONNECTION_NAME,
    url: orthanc.dicomWebUrl,
    kind: 'orthanc',
    serverRoot: orthanc.restUrl,
  };
}

/**
 * Empties the test Orthanc and stores the seed study (and `extraFiles`) through the
 * project's DICOMweb client. Returns the client; close it at the end of the scenario.
 */
export async function seedOrthanc(extraFiles: string[] = []): Promise<DicomWebClient> {
  await resetOrthanc();
  const client = orthancClient();
  const dir = tempDir('ui-seed');
  try {
    const files = [...(await writeSeedFiles(dir)), ...extraFiles];
    const summary = await client.storeInstances(files);
    assert.equal(
      summary.stored,
      files.length,
      `Orthanc should store every seed file: ${JSON.stringify(summary.outcomes)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return client;
}

/** The number of instances Orthanc holds that match `match` (QIDO-RS). */
export async function countInstances(
  client: DicomWebClient,
  match: Record<string, string>,
): Promise<number> {
  const result = await client.search('instances', {}, { match });
  return result.items.length;
}
