/**
 * Crash safety: the server runs as a child process (the standalone CLI) and is killed with
 * SIGKILL in the middle of a large STOW-RS upload, twice: while the client's batched
 * uploads are in flight, and while one request is half-way through a 4 MB part. After a
 * restart on the same folder, every instance the server acknowledged is there byte for
 * byte, and nothing it serves is half-written.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DicomWebClient } from '../../src/dicomweb';
import { STATE_DIR } from '../../src/server';
import { writeSmallInstances } from '../support/bulkData';
import {
  assertNoTemporaryFiles,
  childServers,
  killHard,
  noRetryClient,
  servedInstances,
  storeUntilKilled,
} from './childServer';
import { multipart, smallInstance, tempDir } from './helpers';

describe('crash safety of the local server (SIGKILL mid-STOW, restart)', () => {
  const start = childServers();

  it(
    'keeps every acknowledged instance and serves nothing half-written',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir('crash');
      const files = await writeSmallInstances(tempDir('crash-files'), 400, {
        studies: 4,
        seed: 'crash',
      });
      const originals = new Map<string, Buffer>();
      for (const file of files) originals.set(file.sopInstanceUid, await readFile(file.path));

      // 1. Batched uploads in flight; killed once a quarter has been acknowledged.
      let server = await start(dir);
      let client = noRetryClient(server);
      const { acknowledged } = await storeUntilKilled(
        server,
        client,
        files.map((f) => f.path),
        { batchSize: 10, concurrency: 3, killAfter: 100 },
      );
      await client.close();

      // 2. One request half-way through a 4 MB part, killed while the body is still arriving.
      server = await start(dir);
      const big = smallInstance('crash-big', {
        rows: 2048,
        columns: 2048,
        pixelData: new Uint8Array(2048 * 2048).fill(7),
      });
      const complete = smallInstance('crash-complete-part');
      const body = multipart('crashb', [{ body: complete.bytes }, { body: big.bytes }]);
      const half = body.subarray(0, complete.bytes.length + big.bytes.length / 2);
      const url = new URL(`${server.url}/v2/studies`);
      const pending = request({
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: url.pathname,
        headers: {
          'content-type': 'multipart/related; type="application/dicom"; boundary=crashb',
          'content-length': body.length,
        },
      });
      pending.on('error', () => undefined);
      pending.write(half);
      await sleep(500);
      const tmpDuring = await readdir(join(dir, STATE_DIR, 'tmp'));
      assert.ok(tmpDuring.length >= 1, 'the parts are being written to temporary files');
      await killHard(server);
      pending.destroy();

      // 3. Restart on the same folder.
      server = await start(dir);
      client = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
      const served = await servedInstances(client);
      for (const uid of acknowledged) {
        assert.ok(served.has(uid), `acknowledged instance ${uid} is served after the crash`);
      }
      for (const [uid, bytes] of served) {
        const original = originals.get(uid);
        assert.ok(original, `${uid} is one of the uploaded instances`);
        assert.equal(Buffer.compare(bytes, original), 0, `${uid} is served whole, byte for byte`);
      }
      assert.ok(!served.has(big.params.sopInstanceUid), 'the half-sent instance is not served');
      assert.ok(
        !served.has(complete.params.sopInstanceUid),
        'nothing of an unacknowledged, unfinished request is stored',
      );
      await assertNoTemporaryFiles(dir);
      await client.close();
      await killHard(server);
    },
  );
});
