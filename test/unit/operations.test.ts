/**
 * Google Cloud Healthcare's long-running delete (src/dicomweb/profiles/operations.ts). No Google
 * service is reachable here: a raw `node:http` server on 127.0.0.1 answers exactly what
 * Google's reference documents for `studies.delete` (an Operation) and `operations.get`
 * (the same Operation, then `done`), so the test sees every request the client sends.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { listenOnLoopback } from '../support/loopback';
import { DicomWebClient, DicomWebError, operationsRoot, parseOperation } from '../../src/dicomweb';

const STORE = 'projects/demo/locations/us-central1/datasets/ds/dicomStores/store';
const OPERATION = 'projects/demo/locations/us-central1/datasets/ds/operations/1234567890';
const STUDY = '1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers) await close();
});

/** A stand-in of Google's REST surface: the answer to each request comes from `answer`. */
async function googleLike(
  answer: (req: IncomingMessage, index: number) => { status: number; body?: unknown },
): Promise<{ baseUrl: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const { status, body } = answer(req, seen.length - 1);
    req.resume();
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  });
  const { port, close } = await listenOnLoopback(server);
  closers.push(close);
  return { baseUrl: `http://127.0.0.1:${port}/v1/${STORE}/dicomWeb`, seen };
}

const fastPolling = { firstDelayMs: 5, maxDelayMs: 20, timeoutMs: 5_000 };

describe('parseOperation and operationsRoot', () => {
  it('reads an Operation and ignores anything else', () => {
    const bytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
    assert.deepEqual(parseOperation(bytes({ name: OPERATION })), { name: OPERATION, done: false });
    assert.deepEqual(
      parseOperation(bytes({ name: OPERATION, done: true, error: { code: 9, message: 'busy' } })),
      { name: OPERATION, done: true, error: { code: 9, message: 'busy' } },
    );
    assert.equal(parseOperation(Buffer.alloc(0)), undefined, 'a 204 has no body');
    assert.equal(parseOperation(bytes({})), undefined, "an instance delete's Empty");
    assert.equal(parseOperation(Buffer.from('not json')), undefined);
    assert.equal(parseOperation(bytes([{ name: OPERATION }])), undefined);
    assert.equal(
      parseOperation(bytes({ name: 'projects/a/locations/b/datasets/../operations/x' })),
      undefined,
      'no path tricks',
    );
    assert.equal(
      parseOperation(bytes({ name: 'https://elsewhere.example/operations/1' })),
      undefined,
    );
  });

  it('finds the API root above /projects/', () => {
    assert.equal(
      operationsRoot(`https://healthcare.googleapis.com/v1/${STORE}/dicomWeb`),
      'https://healthcare.googleapis.com/v1',
    );
    assert.equal(
      operationsRoot(`https://healthcare.googleapis.com/v1beta1/${STORE}/dicomWeb`),
      'https://healthcare.googleapis.com/v1beta1',
    );
    assert.equal(operationsRoot('https://example.azurehealthcareapis.com/v2'), undefined);
  });
});

describe('a delete answered with a long-running operation', () => {
  it('returns only once operations.get says done, polling the operation by name', async () => {
    const google = await googleLike((req, index) => {
      if (req.method === 'DELETE') return { status: 200, body: { name: OPERATION } };
      return {
        status: 200,
        body:
          index < 3
            ? { name: OPERATION, metadata: { apiMethodName: 'DeleteStudy' } }
            : { name: OPERATION, done: true, response: {} },
      };
    });
    const client = new DicomWebClient({
      baseUrl: google.baseUrl,
      serverKind: 'google',
      operationPolling: fastPolling,
    });
    try {
      await client.deleteStudy(STUDY);
    } finally {
      await client.close();
    }
    assert.deepEqual(google.seen, [
      `DELETE /v1/${STORE}/dicomWeb/studies/${STUDY}`,
      `GET /v1/${OPERATION}`,
      `GET /v1/${OPERATION}`,
      `GET /v1/${OPERATION}`,
    ]);
  });

  it("a failed operation rejects with OPERATION_FAILED and the server's message", async () => {
    const google = await googleLike((req) =>
      req.method === 'DELETE'
        ? { status: 200, body: { name: OPERATION } }
        : {
            status: 200,
            body: {
              name: OPERATION,
              done: true,
              error: { code: 13, message: 'internal error while deleting' },
            },
          },
    );
    const client = new DicomWebClient({
      baseUrl: google.baseUrl,
      serverKind: 'google',
      operationPolling: fastPolling,
    });
    try {
      await assert.rejects(client.deleteStudy(STUDY), (error: unknown) => {
        assert.ok(error instanceof DicomWebError);
        assert.equal(error.code, 'OPERATION_FAILED');
        assert.match(error.message, /internal error while deleting/);
        assert.match(error.message, /operations\/1234567890/);
        return true;
      });
    } finally {
      await client.close();
    }
  });

  it('cancelling while it waits rejects with CANCELLED at once', async () => {
    const google = await googleLike((req) =>
      req.method === 'DELETE'
        ? { status: 200, body: { name: OPERATION } }
        : { status: 200, body: { name: OPERATION } },
    );
    const client = new DicomWebClient({
      baseUrl: google.baseUrl,
      serverKind: 'google',
      operationPolling: { firstDelayMs: 60_000, maxDelayMs: 60_000, timeoutMs: 600_000 },
    });
    const controller = new AbortController();
    try {
      const deleting = client.deleteStudy(STUDY, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      const started = performance.now();
      await assert.rejects(
        deleting,
        (error: unknown) => error instanceof DicomWebError && error.code === 'CANCELLED',
      );
      assert.ok(performance.now() - started < 5_000, 'not after the 60 s wait');
    } finally {
      await client.close();
    }
  });

  it('an operation that never ends times out with its name', async () => {
    const google = await googleLike(() => ({ status: 200, body: { name: OPERATION } }));
    const client = new DicomWebClient({
      baseUrl: google.baseUrl,
      serverKind: 'google',
      operationPolling: { firstDelayMs: 5, maxDelayMs: 10, timeoutMs: 100 },
    });
    try {
      await assert.rejects(
        client.deleteStudy(STUDY),
        (error: unknown) =>
          error instanceof DicomWebError &&
          error.code === 'TIMEOUT' &&
          error.message.includes(OPERATION),
      );
      assert.ok(
        google.seen.filter((line) => line.startsWith('GET')).length >= 2,
        google.seen.join('\n'),
      );
    } finally {
      await client.close();
    }
  });

  it('a 204 (Azure, the local server) and an empty JSON object (Google instance delete) end the delete at once', async () => {
    for (const answer of [{ status: 204 }, { status: 200, body: {} }]) {
      const server = await googleLike(() => answer);
      const client = new DicomWebClient({
        baseUrl: server.baseUrl,
        serverKind: 'google',
        operationPolling: fastPolling,
      });
      try {
        await client.deleteStudy(STUDY);
      } finally {
        await client.close();
      }
      assert.deepEqual(server.seen, [`DELETE /v1/${STORE}/dicomWeb/studies/${STUDY}`]);
    }
  });
});
