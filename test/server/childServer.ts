/**
 * The local server as a child process (the standalone CLI), for tests that kill it with
 * SIGKILL and restart it on the same folder: crash safety of STOW and upsert
 * (crashSafety.test.ts, upsertCrash.test.ts), of the change feed (changeFeedCrash.test.ts) and of
 * a reindex (extendedQueryTagsCrash.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { DicomWebClient, readPartBody } from '../../src/dicomweb';
import type { StoreOptions, StoreSummary } from '../../src/dicomweb/transfer/store';
import { STATE_DIR } from '../../src/server';

const CLI = join(__dirname, '..', '..', 'src', 'server', 'cli.js');

export interface Child {
  process: ChildProcess;
  url: string;
}

/** Starts the CLI on `dir` and a free port; resolves once it names its URL. */
export function startChild(dir: string): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--dir', dir, '--port', '0', '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /DICOMweb service: (http:\/\/\S+)/.exec(output);
      if (match) resolve({ process: child, url: match[1]! });
    });
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.on('exit', (code, signal) =>
      reject(new Error(`server exited early (${code ?? signal}): ${output}`)),
    );
    child.on('error', reject);
  });
}

/** SIGKILL (no cleanup of any kind), resolved once the process is gone. */
export function killHard(child: Child): Promise<void> {
  return new Promise((resolve) => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return resolve();
    child.process.once('exit', () => resolve());
    child.process.kill('SIGKILL');
  });
}

/** Every instance the server serves, by SOP Instance UID, with its bytes. */
export async function servedInstances(client: DicomWebClient): Promise<Map<string, Buffer>> {
  const served = new Map<string, Buffer>();
  for await (const page of client.searchAll('instances', {}, {}, { pageSize: 200 })) {
    for (const item of page.items) {
      const sop = String(item['00080018']?.Value?.[0]);
      const part = await client.retrieveInstanceFile({
        studyInstanceUid: String(item['0020000D']?.Value?.[0]),
        seriesInstanceUid: String(item['0020000E']?.Value?.[0]),
        sopInstanceUid: sop,
      });
      served.set(sop, Buffer.from(await readPartBody(part)));
    }
  }
  return served;
}

// What the crash suites share: the servers they start, the kill in the middle of a batched
// STOW, and the checks after the restart.

/**
 * For a suite that kills and restarts servers: starts one on `dir` (startChild) and kills
 * every one it started when the suite ends, so a failed assertion leaves no process behind.
 * Call inside `describe`.
 */
export function childServers(): (dir: string) => Promise<Child> {
  const children: Child[] = [];
  after(async () => {
    for (const child of children) await killHard(child);
  });
  return async (dir) => {
    const child = await startChild(dir);
    children.push(child);
    return child;
  };
}

/** A client of `child` that never retries: a request the kill cut off stays failed. */
export function noRetryClient(child: Child): DicomWebClient {
  return new DicomWebClient({
    baseUrl: `${child.url}/v2`,
    serverKind: 'local',
    retry: { retries: 0 },
  });
}

/**
 * Stores `paths` in batches through `client` and kills `child` (SIGKILL) once `killAfter`
 * files are done, so the kill lands while batches are in flight; resolves once the process is
 * gone. Asserts the kill came mid-upload (at least `killAfter` acknowledged, not all). The
 * acknowledged files are those the server answered as stored.
 */
export async function storeUntilKilled(
  child: Child,
  client: DicomWebClient,
  paths: string[],
  options: Pick<StoreOptions, 'batchSize' | 'concurrency' | 'replace'> & { killAfter: number },
): Promise<{ summary: StoreSummary; acknowledged: string[] }> {
  const { killAfter, ...store } = options;
  const summary = await client.storeInstances(paths, {
    ...store,
    verifyAmbiguous: false,
    onProgress: (progress) => {
      if (progress.filesDone >= killAfter) child.process.kill('SIGKILL');
    },
  });
  await killHard(child);
  const acknowledged = summary.outcomes
    .filter((o) => o.status === 'stored')
    .map((o) => o.sopInstanceUid!);
  assert.ok(
    acknowledged.length >= killAfter,
    `at least ${killAfter} acknowledged before the kill (${acknowledged.length})`,
  );
  assert.ok(
    acknowledged.length < paths.length,
    `the kill came mid-upload (${acknowledged.length}/${paths.length} acknowledged)`,
  );
  return { summary, acknowledged };
}

/** After a restart: no temporary file of a crashed request is left in the server's folder. */
export async function assertNoTemporaryFiles(dir: string): Promise<void> {
  assert.deepEqual(
    await readdir(join(dir, STATE_DIR, 'tmp')),
    [],
    'temporary files of the crashed requests are gone',
  );
}
