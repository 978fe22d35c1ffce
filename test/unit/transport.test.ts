/**
 * The transport and the response parsers on bytes: a raw `node:http` / `node:net` server on
 * 127.0.0.1 sends exactly the bytes (or the silence) a test needs. This is not a DICOMweb
 * server double: it tests how the client copes with malformed, truncated, slow and
 * refused answers, which a well-behaved Orthanc never sends.
 */
import assert from 'node:assert/strict';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { listenOnLoopback } from '../support/loopback';
import {
  DicomWebClient,
  DicomWebError,
  DicomWebHttpError,
  readPartBody,
  redactUrl,
  type DicomJsonDataset,
  type SearchPage,
} from '../../src/dicomweb';

/** Fails the test instead of hanging when a promise never settles. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (hang)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

/** An HTTP server whose answers a test writes by hand; it records every request. */
async function httpServer(
  handler: (req: IncomingMessage, res: ServerResponse, seen: Seen[]) => void,
): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createHttpServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => handler(req, res, seen));
  });
  const { port, close } = await listenOnLoopback(server);
  servers.push(close);
  return { url: `http://127.0.0.1:${port}/dicom-web`, seen, server };
}

/** A TCP server that writes raw bytes (status line and all) and then does what `onData` says. */
async function rawServer(
  onConnection: (socket: Socket) => void,
): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = createNetServer((socket) => {
    connections++;
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  const { port, close } = await listenOnLoopback(server);
  servers.push(close);
  return { url: `http://127.0.0.1:${port}/dicom-web`, connections: () => connections };
}

const servers: Array<() => Promise<void>> = [];
const clients: DicomWebClient[] = [];
after(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const stop of servers.splice(0)) await stop();
});

function clientFor(
  url: string,
  options: Partial<ConstructorParameters<typeof DicomWebClient>[0]> = {},
): DicomWebClient {
  const client = new DicomWebClient({
    baseUrl: url,
    retry: { minDelayMs: 5, maxDelayMs: 2_000 },
    ...options,
  });
  clients.push(client);
  return client;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/dicom+json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function instance(uid: string): DicomJsonDataset {
  return { '00080018': { vr: 'UI', Value: [uid] } };
}

async function expectDicomWebError(
  promise: Promise<unknown>,
  code: DicomWebError['code'],
  ms = 5_000,
): Promise<DicomWebError> {
  let caught: unknown;
  await within(
    ms,
    promise.then(
      () => assert.fail(`expected a ${code} DicomWebError, got a result`),
      (error: unknown) => {
        caught = error;
      },
    ),
    code,
  );
  assert.ok(caught instanceof DicomWebError, `expected a DicomWebError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

async function drainRetrieve(client: DicomWebClient): Promise<number> {
  let parts = 0;
  for await (const part of client.retrieveStudy('1.2.3')) {
    await readPartBody(part);
    parts++;
  }
  return parts;
}

/** One chunk of a chunked body (RFC 9112 §7.1). */
function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

describe('multipart answers on the wire', () => {
  it('a body cut off mid-part (connection closed) rejects with a typed DicomWebError, never hangs', async () => {
    const { url } = await rawServer((socket) => {
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type="application/dicom"; boundary=XyZ\r\nConnection: close\r\n\r\n' +
            '--XyZ\r\nContent-Type: application/dicom\r\n\r\nDICM-the-first-bytes-of-a-part',
        );
        setTimeout(() => socket.destroy(), 20);
      });
    });
    const error = await expectDicomWebError(drainRetrieve(clientFor(url)), 'MALFORMED_RESPONSE');
    assert.match(error.url ?? '', /\/studies\/1\.2\.3$/);
  });

  it('a chunked body whose connection dies mid-part rejects with a typed NETWORK error, never hangs', async () => {
    const { url } = await rawServer((socket) => {
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type="application/dicom"; boundary=XyZ\r\nTransfer-Encoding: chunked\r\n\r\n' +
            chunk('--XyZ\r\nContent-Type: application/dicom\r\n\r\nDICM-the-first-bytes-of-a-part'),
        );
        setTimeout(() => socket.destroy(), 20);
      });
    });
    await expectDicomWebError(drainRetrieve(clientFor(url)), 'NETWORK');
  });

  it('a body that ends cleanly but before the close delimiter is MALFORMED_RESPONSE', async () => {
    const { url } = await httpServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'multipart/related; type="application/dicom"; boundary=XyZ',
      });
      res.end(
        '--XyZ\r\nContent-Type: application/dicom\r\n\r\npart one\r\n--XyZ\r\nContent-Type: application/dicom\r\n\r\nhalf of part two',
      );
    });
    await expectDicomWebError(drainRetrieve(clientFor(url)), 'MALFORMED_RESPONSE');
  });

  it('a multipart Content-Type without a boundary is MALFORMED_RESPONSE', async () => {
    const { url } = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"' });
      res.end('--XyZ\r\nContent-Type: application/dicom\r\n\r\nbytes\r\n--XyZ--\r\n');
    });
    await expectDicomWebError(drainRetrieve(clientFor(url)), 'MALFORMED_RESPONSE');
  });

  it('a well-formed answer with the boundary string inside the data still gives its parts', async () => {
    const { url } = await httpServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'multipart/related; type="application/dicom"; boundary="XyZ"',
      });
      res.end(
        '--XyZ\r\nContent-Type: application/dicom\r\n\r\nabc--XyZ-def\r\n--XyZ\r\nContent-Type: application/dicom\r\n\r\nsecond\r\n--XyZ--\r\n',
      );
    });
    const bodies: string[] = [];
    for await (const part of clientFor(url).retrieveStudy('1.2.3'))
      bodies.push(Buffer.from(await readPartBody(part)).toString('latin1'));
    assert.deepEqual(bodies, ['abc--XyZ-def', 'second']);
  });
});

describe('QIDO answers that are not what PS3.18 Annex F says', () => {
  it('a body that is not JSON is MALFORMED_RESPONSE', async () => {
    const { url } = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/dicom+json' });
      res.end('<html><body>Welcome to the proxy</body></html>');
    });
    const error = await expectDicomWebError(
      clientFor(url).searchForStudies(),
      'MALFORMED_RESPONSE',
    );
    assert.match(error.message, /not JSON/);
  });

  it('a JSON object instead of an array is MALFORMED_RESPONSE', async () => {
    const { url } = await httpServer((_req, res) =>
      sendJson(res, 200, { '0020000D': { vr: 'UI', Value: ['1.2.3'] } }),
    );
    await expectDicomWebError(clientFor(url).searchForStudies(), 'MALFORMED_RESPONSE');
  });

  it('an array of non-objects is MALFORMED_RESPONSE', async () => {
    const { url } = await httpServer((_req, res) => sendJson(res, 200, ['1.2.3', 4]));
    await expectDicomWebError(clientFor(url).searchForStudies(), 'MALFORMED_RESPONSE');
  });

  it('204 No Content is an empty result', async () => {
    const { url } = await httpServer((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const result = await clientFor(url).searchForStudies();
    assert.deepEqual(result.items, []);
    assert.equal(result.status, 204);
  });

  it('200 with an empty body (or only whitespace) is an empty result', async () => {
    let call = 0;
    const { url } = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/dicom+json' });
      res.end(call++ === 0 ? '' : ' \r\n');
    });
    const client = clientFor(url);
    assert.deepEqual((await client.searchForStudies()).items, []);
    assert.deepEqual((await client.searchForStudies()).items, []);
  });

  it('surfaces a Warning: 299 header in SearchResult.warnings', async () => {
    const { url } = await httpServer((_req, res) =>
      sendJson(res, 200, [instance('1.2.3.1')], {
        warning: '299 dicom.example.org: "There are 41 additional results that can be requested"',
      }),
    );
    const result = await clientFor(url).searchForInstances();
    assert.deepEqual(result.warnings, ['There are 41 additional results that can be requested']);
  });
});

describe('retries (RFC 9110 §15.6, PS3.18 §8.6.2)', () => {
  it('retries a GET after 503 with Retry-After: 1, waiting about a second', async () => {
    const { url, seen } = await httpServer((_req, res, seenSoFar) => {
      if (seenSoFar.length <= 2) {
        res.writeHead(503, { 'retry-after': '1', 'content-length': 0 });
        res.end();
      } else sendJson(res, 200, [instance('1.2.3.1')]);
    });
    const started = Date.now();
    const result = await within(10_000, clientFor(url).searchForInstances(), 'retrying GET');
    assert.equal(result.items.length, 1);
    assert.equal(seen.length, 3, 'two 503s, then the answer');
    assert.ok(
      Date.now() - started >= 1_900,
      `Retry-After was honoured (${Date.now() - started} ms for two waits of 1 s)`,
    );
  });

  it('never retries a POST after 503', async () => {
    const { url, seen } = await httpServer((_req, res) => {
      res.writeHead(503, { 'retry-after': '1', 'content-length': 0 });
      res.end();
    });
    const client = clientFor(url);
    const error = await expectDicomWebError(
      client.transport.send({
        method: 'POST',
        url: `${url}/studies`,
        headers: { 'content-type': 'application/dicom' },
        body: Buffer.from('DICM'),
      }),
      'HTTP_STATUS',
    );
    assert.equal(error.status, 503);
    assert.equal(seen.length, 1);
  });

  for (const status of [429, 408, 504]) {
    it(`retries a GET after ${status}`, async () => {
      const { url, seen } = await httpServer((_req, res, seenSoFar) => {
        if (seenSoFar.length === 1) {
          res.writeHead(status, { 'content-length': 0, connection: 'close' });
          res.end();
        } else sendJson(res, 200, [instance('1.2.3.1')]);
      });
      const result = await within(
        10_000,
        clientFor(url).searchForInstances(),
        `retry after ${status}`,
      );
      assert.equal(result.items.length, 1);
      assert.equal(seen.length, 2);
    });
  }

  it('does not retry other errors (500, 404)', async () => {
    for (const status of [500, 404]) {
      const { url, seen } = await httpServer((_req, res) => {
        res.writeHead(status, { 'content-length': 0 });
        res.end();
      });
      const error = await expectDicomWebError(clientFor(url).searchForInstances(), 'HTTP_STATUS');
      assert.equal(error.status, status);
      assert.equal(seen.length, 1, `${status} is final`);
    }
  });

  it('gives up after the configured number of retries with the last status and the server message', async () => {
    const answers = [503, 429, 504];
    const { url, seen } = await httpServer((_req, res, seenSoFar) => {
      const status = answers[Math.min(seenSoFar.length - 1, answers.length - 1)];
      const body = JSON.stringify({ Message: `busy ${seenSoFar.length}` });
      res.writeHead(status, { 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    const error = await expectDicomWebError(
      clientFor(url, { retry: { retries: 2, minDelayMs: 5 } }).searchForInstances(),
      'HTTP_STATUS',
    );
    assert.equal(seen.length, 3, 'one attempt and two retries');
    assert.ok(error instanceof DicomWebHttpError);
    assert.equal(error.status, 504);
    assert.equal(error.serverMessage, 'busy 3');
  });
});

describe('cancellation and timeouts', () => {
  it('an AbortSignal cancels a request whose server never answers, quickly', async () => {
    const { url, connections } = await rawServer(() => undefined); // reads nothing, answers nothing
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    await expectDicomWebError(
      clientFor(url).searchForStudies({}, { signal: controller.signal }),
      'CANCELLED',
      3_000,
    );
    assert.ok(Date.now() - started < 1_500, `cancelled after ${Date.now() - started} ms`);
    assert.equal(connections(), 1, 'a cancellation is not retried');
  });

  it('an AbortSignal cancels a retrieve whose body stalls mid-part', async () => {
    const { url } = await rawServer((socket) => {
      socket.once('data', () =>
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type="application/dicom"; boundary=XyZ\r\nTransfer-Encoding: chunked\r\n\r\n' +
            chunk('--XyZ\r\nContent-Type: application/dicom\r\n\r\nDICM-first-bytes'),
        ),
      );
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const consume = (async () => {
      for await (const part of clientFor(url).retrieveStudy('1.2.3', { signal: controller.signal }))
        await readPartBody(part);
    })();
    await expectDicomWebError(consume, 'CANCELLED', 3_000);
  });

  it('no response headers within headersMs is a TIMEOUT', async () => {
    const { url } = await rawServer(() => undefined);
    const client = clientFor(url, { timeouts: { headersMs: 200 }, retry: { retries: 0 } });
    const started = Date.now();
    await expectDicomWebError(client.searchForStudies(), 'TIMEOUT', 5_000);
    assert.ok(Date.now() - started < 2_000);
  });

  it('a body that stops flowing for bodyMs is a TIMEOUT', async () => {
    const { url } = await rawServer((socket) => {
      socket.once('data', () =>
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: 100\r\n\r\n[{"00080018":',
        ),
      );
    });
    const client = clientFor(url, { timeouts: { bodyMs: 200 }, retry: { retries: 0 } });
    await expectDicomWebError(client.searchForStudies(), 'TIMEOUT', 5_000);
  });
});

describe('searchAll paging against servers that page badly', () => {
  const uids = Array.from({ length: 7 }, (_v, i) => `1.2.840.99.${i + 1}`);
  function pageOf(req: IncomingMessage): { limit: number; offset: number } {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    return { limit: Number(query.get('limit')), offset: Number(query.get('offset') ?? 0) };
  }

  it('a server that ignores offset: searchAll stops after the first page and warns', async () => {
    const { url, seen } = await httpServer((req, res) => {
      const { limit } = pageOf(req);
      sendJson(res, 200, uids.slice(0, limit).map(instance)); // the same first page every time
    });
    const pages: SearchPage[] = [];
    for await (const page of clientFor(url).searchAll('instances', {}, {}, { pageSize: 3 }))
      pages.push(page);
    const items = pages.flatMap((page) => page.items.map((item) => item['00080018']?.Value?.[0]));
    assert.deepEqual(items, uids.slice(0, 3));
    assert.ok(seen.length <= 2, `stopped after ${seen.length} requests`);
    assert.ok(
      pages.at(-1)?.warnings.some((warning) => /offset/.test(warning)),
      JSON.stringify(pages.map((p) => p.warnings)),
    );
    assert.equal(pages.at(-1)?.hasMore, false);
  });

  it('a server that repeats records across pages: every record delivered once', async () => {
    const { url } = await httpServer((req, res) => {
      const { limit, offset } = pageOf(req);
      // Newest-first servers (Azure) shift by one when a record is added between pages.
      const start = Math.max(0, offset - 1);
      sendJson(res, 200, uids.slice(start, start + limit).map(instance));
    });
    const delivered: string[] = [];
    for await (const page of clientFor(url).searchAll('instances', {}, {}, { pageSize: 3 })) {
      for (const item of page.items) delivered.push(String(item['00080018']?.Value?.[0]));
    }
    assert.deepEqual(delivered, uids);
  });

  it('a 204 past the end ends the paging', async () => {
    const { url, seen } = await httpServer((req, res) => {
      const { limit, offset } = pageOf(req);
      const page = uids.slice(0, 6).slice(offset, offset + limit);
      if (page.length === 0) {
        res.writeHead(204);
        res.end();
      } else sendJson(res, 200, page.map(instance));
    });
    const delivered: string[] = [];
    for await (const page of clientFor(url).searchAll('instances', {}, {}, { pageSize: 3 })) {
      for (const item of page.items) delivered.push(String(item['00080018']?.Value?.[0]));
    }
    assert.deepEqual(delivered, uids.slice(0, 6));
    assert.equal(seen.length, 3, 'two full pages and the empty one');
  });
});

describe('redactUrl', () => {
  it('strips user-info from URLs and leaves others alone', () => {
    assert.equal(
      redactUrl('https://alice:s3cret@dicom.example.org/v2/studies?x=1'),
      'https://dicom.example.org/v2/studies?x=1',
    );
    assert.equal(
      redactUrl('http://token@127.0.0.1:8042/dicom-web'),
      'http://127.0.0.1:8042/dicom-web',
    );
    assert.equal(
      redactUrl('http://127.0.0.1:8042/dicom-web/studies?PatientName=a@b'),
      'http://127.0.0.1:8042/dicom-web/studies?PatientName=a@b',
    );
  });

  it('no error message repeats the user-info of the base URL, whatever failed', async () => {
    const { url } = await httpServer((req, res) => {
      if (req.url?.includes('/studies/')) {
        res.writeHead(200, {
          'content-type': 'multipart/related; type="application/dicom"; boundary=XyZ',
        });
        res.end('--XyZ\r\nContent-Type: application/dicom\r\n\r\nhalf a part');
      } else {
        res.writeHead(200, { 'content-type': 'application/dicom+json' });
        res.end('not json at all');
      }
    });
    const client = clientFor(url.replace('http://', 'http://alice:s3cret@'));
    for (const failing of [client.searchForStudies(), drainRetrieve(client)]) {
      const error = await expectDicomWebError(failing, 'MALFORMED_RESPONSE');
      assert.doesNotMatch(`${error.message} ${error.url} ${error.serverMessage}`, /s3cret|alice/);
    }
  });

  it('errors carry the redacted URL only', async () => {
    const { url } = await httpServer((_req, res) => {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
    });
    const withUser = url.replace('http://', 'http://alice:s3cret@');
    const client = clientFor(withUser);
    const error = await expectDicomWebError(client.searchForStudies(), 'HTTP_STATUS');
    assert.doesNotMatch(`${error.message} ${error.url}`, /s3cret|alice/);
  });
});
