/**
 * The local server as a child process (the standalone CLI), for tests that kill it with
 * SIGKILL and restart it on the same folder: crash safety of STOW and upsert
 * (crashSafety.test.ts, upsertCrash.test.ts), of the change feed (changeFeedCrash.test.ts) and of
 * a reindex (extendedQueryTagsCrash.test.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readPartBody, type DicomWebClient } from '../../src/dicomweb';

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
