/**
 * The local server in a process of its own, for the fuzz suite (test/server/fuzz.test.ts):
 * its memory can be measured apart from the test runner's, and a server that freezes
 * cannot freeze the runner. Started with `child_process.fork`; the folder comes in
 * `DICOMWEB_FUZZ_DIR`. It says `{ type: 'listening', url, port }` over IPC once it listens,
 * answers `{ type: 'usage' }` with its peak RSS, and closes cleanly on `{ type: 'close' }`.
 *
 * `DICOMWEB_FUZZ_SERVER_MODULE` may name another build of `src/server` (its compiled
 * index.js), so the same suite can be run against an older commit to see what it catches.
 */
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import type { LocalServer, LocalServerOptions } from '../../src/server';

type Start = (options: LocalServerOptions) => Promise<LocalServer>;

async function main(): Promise<void> {
  const dir = process.env.DICOMWEB_FUZZ_DIR;
  if (!dir || !process.send)
    throw new Error('fuzzServerChild: start me with fork() and DICOMWEB_FUZZ_DIR');
  const modulePath = process.env.DICOMWEB_FUZZ_SERVER_MODULE || '../../src/server';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startLocalServer } = require(modulePath) as { startLocalServer: Start };
  const logFile = process.env.DICOMWEB_FUZZ_LOG;
  const log = logFile
    ? (line: string) => appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`)
    : undefined;
  const server = await startLocalServer({
    dir,
    port: 0,
    indexSaveDelayMs: 50,
    ...(log ? { log } : {}),
  });
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'usage') {
      // maxRSS is the peak resident set of the process so far, in KiB (getrusage ru_maxrss).
      const spaces = Object.fromEntries(
        getHeapSpaceStatistics().map((space) => [
          space.space_name,
          { size: space.space_size, used: space.space_used_size },
        ]),
      );
      process.send!({
        type: 'usage',
        maxRssKiB: process.resourceUsage().maxRSS,
        memory: process.memoryUsage(),
        spaces,
      });
    } else if (message?.type === 'close') {
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    }
  });
  process.send({ type: 'listening', url: server.url, port: server.port });
}

main().catch((error: unknown) => {
  console.error(`fuzzServerChild: ${(error as Error)?.stack ?? error}`);
  process.exit(1);
});
