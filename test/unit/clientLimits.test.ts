/**
 * The client's bounds on bytes (issue 10, findings 4a, 5 and 6, client side): which URLs
 * are in a connection's credential scope (origins.ts), the size caps and deadline helpers
 * (limits.ts) with their defaults, and the exact bound on interim answers on both
 * transports, against a scripted TCP server on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { DicomWebError } from '../../src/dicomweb/transport/errors';
import { HttpTransport, MAX_ERROR_BODY_BYTES } from '../../src/dicomweb/transport/http';
import {
  countedBody,
  Deadline,
  declaredLengthOver,
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_BINARY_BODY_BYTES,
  DEFAULT_MAX_JSON_BODY_BYTES,
  DEFAULT_MINIMUM_RATE,
  RateWatch,
} from '../../src/dicomweb/transport/limits';
import { CredentialScope, httpOriginOf } from '../../src/dicomweb/transport/origins';
import { assertUid } from '../../src/dicomweb/requests';
import { MAX_INTERIM_RESPONSES, socketGet } from '../../src/dicomweb/transport/socketGet';
import { listenOnLoopback } from '../support/loopback';

async function scripted(
  answer: (socket: Socket) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (data) => {
      head += data.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        head = '';
        answer(socket);
      }
    });
  });
  const { port, close } = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}/dicom-web/studies`, close };
}

function interimThenOk(count: number): (socket: Socket) => void {
  return (socket) =>
    socket.end(
      `${'HTTP/1.1 103 Early Hints\r\nlink: </a>; rel=preload\r\n\r\n'.repeat(count)}HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]`,
    );
}

describe('CredentialScope: the WHATWG origin decides', () => {
  const scope = new CredentialScope('https://pacs.example.org/dicom-web', [
    'http://bulk.example.org:8080/anything',
  ]);

  it('the service origin, with or without its default port, whatever the case of the host', () => {
    assert.ok(scope.allows('https://pacs.example.org/dicom-web/studies/1/bulk/7FE00010'));
    assert.ok(scope.allows('https://pacs.example.org:443/other/path'));
    assert.ok(scope.allows('https://PACS.Example.ORG/x'));
  });

  it('another scheme, port, host or subdomain is another origin', () => {
    assert.ok(!scope.allows('http://pacs.example.org/dicom-web'));
    assert.ok(!scope.allows('https://pacs.example.org:8443/dicom-web'));
    assert.ok(!scope.allows('https://evil.example/dicom-web'));
    assert.ok(!scope.allows('https://pacs.example.org.evil.example/'));
    assert.ok(!scope.allows('https://x.pacs.example.org/'));
  });

  it('user-info in a URL does not change or fake its origin', () => {
    assert.ok(!scope.allows('https://pacs.example.org@evil.example/'));
    assert.ok(scope.allows('https://someone@pacs.example.org/x'));
  });

  it('a trusted extra origin is taken from any URL of it; junk and non-http entries grant nothing', () => {
    assert.ok(scope.allows('http://bulk.example.org:8080/b/1'));
    assert.ok(!scope.allows('http://bulk.example.org/b/1'));
    const junk = new CredentialScope('https://pacs.example.org', [
      'not a url',
      'file:///etc',
      'data:,x',
    ]);
    assert.ok(!junk.allows('file:///etc/passwd'));
    assert.ok(!junk.allows('data:,x'));
    assert.ok(!junk.allows('not a url'));
  });

  it('a bare transport (no base URL, no trusted origin) has no connection to confine to', () => {
    assert.ok(new CredentialScope(undefined).allows('https://anywhere.example/'));
    assert.equal(httpOriginOf('ftp://x/'), undefined);
  });
});

describe('limits: caps and deadline', () => {
  it('a transport without options applies the stated defaults', () => {
    assert.deepEqual(new HttpTransport().limits, {
      json: DEFAULT_MAX_JSON_BODY_BYTES,
      binary: DEFAULT_MAX_BINARY_BODY_BYTES,
      deadlineMs: DEFAULT_DEADLINE_MS,
      minimumRate: DEFAULT_MINIMUM_RATE,
    });
    assert.equal(DEFAULT_MAX_JSON_BODY_BYTES, 256 * 1024 * 1024);
    assert.equal(DEFAULT_MAX_BINARY_BODY_BYTES, 1024 * 1024 * 1024);
    assert.equal(DEFAULT_DEADLINE_MS, 600_000);
    assert.deepEqual(DEFAULT_MINIMUM_RATE, { bytes: 16 * 1024, windowMs: 120_000 });
    assert.equal(new HttpTransport({ minimumRate: null }).limits.minimumRate, undefined);
  });

  it('RateWatch: the default minimum holds a real link and ends a trickle of a byte every 2 s', () => {
    // 136 B/s over the whole window passes; 60 B (a byte every 2 s for 120 s) does not.
    const fine = new RateWatch(DEFAULT_MINIMUM_RATE, 'GET', 'http://h/x');
    for (let second = 0; second < 240; second++) fine.check(137, 1000);
    const trickle = new RateWatch(DEFAULT_MINIMUM_RATE, 'GET', 'http://h/x');
    assert.throws(
      () => {
        for (let waited = 0; waited < 200_000; waited += 2000) trickle.check(1, 2000);
      },
      (error: unknown) =>
        error instanceof DicomWebError &&
        error.code === 'TIMEOUT' &&
        /60 bytes in 120 s/.test(error.message),
    );
  });

  it('declaredLengthOver: only a well-formed length over the limit', () => {
    assert.equal(declaredLengthOver({ 'content-length': '101' }, 100), 101);
    assert.equal(declaredLengthOver({ 'content-length': '100' }, 100), undefined);
    assert.equal(
      declaredLengthOver({ 'content-length': '1152921504606846976' }, 100),
      1152921504606846976,
    );
    assert.equal(declaredLengthOver({ 'content-length': '-1' }, 100), undefined);
    assert.equal(declaredLengthOver({}, 100), undefined);
  });

  it('countedBody passes a body at the limit and fails one byte over, stopping the source', async () => {
    let ended = 0;
    const exact = countedBody(
      Readable.from([Buffer.alloc(60), Buffer.alloc(40)]),
      100,
      'GET',
      'http://h/x',
      () => ended++,
    );
    let total = 0;
    for await (const chunk of exact) total += (chunk as Buffer).length;
    assert.equal(total, 100);
    assert.ok(ended >= 1);

    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (;;) {
          pulled++;
          yield Buffer.alloc(30);
        }
      })(),
    );
    await assert.rejects(
      (async () => {
        for await (const _ of countedBody(
          source,
          100,
          'GET',
          'http://user:pw@h/x',
          () => undefined,
        ));
      })(),
      (error: unknown) =>
        error instanceof DicomWebError &&
        error.code === 'TOO_LARGE' &&
        !error.message.includes('pw'),
    );
    assert.ok(pulled <= 8, `read ${pulled} chunks after the cap`);
    assert.ok(source.destroyed);
  });

  it('Deadline aborts with a TIMEOUT reason, forwards the caller cancel, and does nothing when off', async () => {
    const deadline = new Deadline(30, 'GET', 'http://h/x', undefined);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.ok(deadline.signal?.aborted);
    assert.equal(deadline.reason?.code, 'TIMEOUT');

    const caller = new AbortController();
    const linked = new Deadline(10_000, 'GET', 'http://h/x', caller.signal);
    caller.abort();
    assert.ok(linked.signal?.aborted);
    assert.equal(linked.reason, undefined);
    linked.clear();

    const off = new Deadline(0, 'GET', 'http://h/x', caller.signal);
    assert.equal(off.signal, caller.signal);
  });
});

describe(`interim answers: ${MAX_INTERIM_RESPONSES} accepted, one more refused`, () => {
  for (const [count, ok] of [
    [MAX_INTERIM_RESPONSES, true],
    [MAX_INTERIM_RESPONSES + 1, false],
  ] as const) {
    it(`socketGet, ${count} interim answers`, async () => {
      const server = await scripted(interimThenOk(count));
      try {
        const call = socketGet(server.url, '/dicom-web/studies', {
          headers: {},
          connectMs: 2000,
          headersMs: 2000,
          bodyMs: 2000,
          onHead: () => ({ data: () => true, end: () => undefined }),
        });
        if (ok) assert.equal((await call.outcome).kind, 'done');
        else
          await assert.rejects(
            call.outcome,
            (error: unknown) =>
              error instanceof DicomWebError && error.code === 'MALFORMED_RESPONSE',
          );
      } finally {
        await server.close();
      }
    });

    it(`undici (HttpTransport.send), ${count} interim answers`, async () => {
      const server = await scripted(interimThenOk(count));
      const transport = new HttpTransport({ retry: { retries: 0 } });
      try {
        const attempt = transport.sendForBytes({ method: 'GET', url: server.url });
        if (ok) assert.equal((await attempt).bytes.toString(), '[]');
        else
          await assert.rejects(
            attempt,
            (error: unknown) =>
              error instanceof DicomWebError && error.code === 'MALFORMED_RESPONSE',
          );
      } finally {
        await transport.close();
        await server.close();
      }
    });
  }
});

describe('socketGet: the answer head within headersMs of the request', () => {
  it('a head that trickles one byte every 50 ms is declined at headersMs, not re-armed by each byte', async () => {
    const server = await scripted((socket) => {
      const head = Buffer.from(`HTTP/1.1 200 OK\r\n${'x-pad: y\r\n'.repeat(1000)}\r\n`);
      let at = 0;
      const timer = setInterval(
        () =>
          socket.destroyed || at >= head.length
            ? clearInterval(timer)
            : socket.write(head.subarray(at, ++at)),
        50,
      );
      socket.on('close', () => clearInterval(timer));
    });
    try {
      const started = performance.now();
      const outcome = await socketGet(server.url, '/dicom-web/studies', {
        headers: {},
        connectMs: 2000,
        headersMs: 800,
        bodyMs: 2000,
        onHead: () => ({ data: () => true, end: () => undefined }),
      }).outcome;
      const ms = performance.now() - started;
      assert.equal(outcome.kind, 'declined');
      assert.ok(ms >= 700 && ms < 2000, `declined after ${Math.round(ms)} ms`);
    } finally {
      await server.close();
    }
  });
});

describe('error bodies', () => {
  it(`an error body is read up to ${MAX_ERROR_BODY_BYTES} bytes and no further`, async () => {
    let sent = 0;
    const server = await scripted((socket) => {
      socket.write(
        'HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n',
      );
      const piece = Buffer.from(`4000\r\n${'e'.repeat(0x4000)}\r\n`);
      const write = (): void => {
        while (!socket.destroyed && sent < 64 * 1024 * 1024) {
          sent += 0x4000;
          if (!socket.write(piece)) return void socket.once('drain', write);
        }
      };
      write();
    });
    const transport = new HttpTransport({ retry: { retries: 0 } });
    try {
      await assert.rejects(
        transport.send({ method: 'GET', url: server.url }),
        (error: unknown) => error instanceof DicomWebError && error.status === 500,
      );
      assert.ok(sent < 32 * 1024 * 1024, `the server could send ${sent} bytes`);
    } finally {
      await transport.close();
      await server.close();
    }
  });
});

describe('UIDs (finding 6, client side)', () => {
  it('a UID with an embedded NUL is refused before any request', () => {
    assert.throws(
      () => assertUid('1.2.3\u00004.5', 'study'),
      (error: unknown) => error instanceof DicomWebError && error.code === 'INVALID_REQUEST',
    );
    assert.throws(
      () => assertUid('1.2.3\u0000', 'study'),
      (error: unknown) => error instanceof DicomWebError && error.code === 'INVALID_REQUEST',
    );
  });
});
