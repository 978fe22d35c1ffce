/**
 * socketGet (the socket reader of the retrieve to disk) on bytes: a TCP server on
 * 127.0.0.1 sends scripted answers, and a read buffer of a few bytes makes every framing
 * element (status line, header fields, chunk sizes, CRLFs, trailers) cross reads.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DicomWebClient } from '../../src/dicomweb/client';
import { DicomWebError } from '../../src/dicomweb/transport/errors';
import {
  socketGet,
  type SocketBodySink,
  type SocketGetHead,
  type SocketGetOptions,
} from '../../src/dicomweb/transport/socketGet';
import { listenOnLoopback } from '../support/loopback';
import { rng } from '../support/random';
import { SEED_INSTANCES, writeSeedFiles } from '../support/seedData';

const TLS_DIR = join(__dirname, '..', '..', '..', 'test', 'support', 'tls');
const CERT = readFileSync(join(TLS_DIR, 'localhost-cert.pem'));
const KEY = readFileSync(join(TLS_DIR, 'localhost-key.pem'));

/**
 * A server that answers every connection with `answer(socket, request)` once the request head is
 * in.
 */
async function scriptedServer(
  answer: (socket: Socket, request: string) => void,
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((socket) => {
    let head = '';
    socket.on('data', (data) => {
      head += data.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        requests.push(head);
        answer(socket, head);
        head = '';
      }
    });
    socket.on('error', () => undefined);
  });
  const { port, close } = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}/dicom-web/studies/1.2.3?x=^a*`, requests, close };
}

interface Received {
  head?: SocketGetHead;
  body: Buffer;
  ended: boolean;
}

function collect(
  received: Received,
  sink: Partial<SocketBodySink> = {},
): SocketGetOptions['onHead'] {
  return (head) => {
    received.head = head;
    return {
      data: (view) => {
        received.body = Buffer.concat([received.body, view]); // a copy: the view is refilled after
        return sink.data?.(view);
      },
      end: () => {
        received.ended = true;
        sink.end?.();
      },
    };
  };
}

function options(
  onHead: SocketGetOptions['onHead'],
  extra: Partial<SocketGetOptions> = {},
): SocketGetOptions {
  return {
    headers: { accept: 'multipart/related; type="application/dicom"' },
    connectMs: 2000,
    headersMs: 2000,
    bodyMs: 2000,
    readBufferBytes: 7,
    onHead,
    ...extra,
  };
}

const BODY = Buffer.from(
  '--b\r\nContent-Type: application/dicom\r\n\r\nDICM\0\x01\x02\xff\r\n--b--\r\n',
  'latin1',
);

describe('socketGet', () => {
  it('sends the request as written and reads a Content-Length body across 7-byte reads', async () => {
    const server = await scriptedServer((socket) =>
      socket.end(
        Buffer.concat([
          Buffer.from(
            `HTTP/1.1 200 OK\r\nContent-Type: multipart/related; boundary=b\r\nX-Twice: 1\r\nx-twice: 2\r\nContent-Length: ${BODY.length}\r\n\r\n`,
          ),
          BODY,
        ]),
      ),
    );
    try {
      const received: Received = { body: Buffer.alloc(0), ended: false };
      const outcome = await socketGet(
        server.url,
        '/dicom-web/studies/1.2.3?x=^a*',
        options(collect(received), {
          headers: { accept: 'application/dicom', authorization: 'Basic abc' },
        }),
      ).outcome;
      assert.equal(outcome.kind, 'done');
      assert.equal(received.head?.status, 200);
      assert.equal(received.head?.headers['x-twice'], '1, 2');
      assert.deepEqual(received.body, BODY);
      assert.equal(received.ended, true);
      const request = server.requests[0]!;
      assert.match(request, /^GET \/dicom-web\/studies\/1\.2\.3\?x=\^a\* HTTP\/1\.1\r\n/);
      assert.match(request, /\r\nhost: 127\.0\.0\.1:\d+\r\n/);
      assert.match(request, /\r\naccept: application\/dicom\r\n/);
      assert.match(request, /\r\nauthorization: Basic abc\r\n/);
      assert.match(request, /\r\nconnection: close\r\n\r\n$/);
    } finally {
      await server.close();
    }
  });

  it('decodes a chunked body with extensions and trailers, after 100 and 103 interim answers', async () => {
    const chunks = [BODY.subarray(0, 5), BODY.subarray(5, 6), BODY.subarray(6)];
    const wire = Buffer.concat([
      Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n'),
      Buffer.from(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: multipart/related; boundary=b\r\n\r\n',
      ),
      ...chunks.flatMap((c, i) => [
        Buffer.from(`${c.length.toString(16)}${i === 1 ? ';name="v"' : ''}\r\n`),
        c,
        Buffer.from('\r\n'),
      ]),
      Buffer.from('0\r\nX-Checksum: 1\r\n\r\n'),
    ]);
    // Every split of the wire bytes: each element of the framing ends up cut somewhere.
    for (const readBufferBytes of [1, 3, 7, 64 * 1024]) {
      // Keeps the connection open: the framing ends the body.
      const server = await scriptedServer((socket) => socket.write(wire));
      try {
        const received: Received = { body: Buffer.alloc(0), ended: false };
        const outcome = await socketGet(
          server.url,
          '/',
          options(collect(received), { readBufferBytes }),
        ).outcome;
        assert.equal(outcome.kind, 'done', `read buffer ${readBufferBytes}`);
        assert.equal(received.head?.status, 200);
        assert.deepEqual(received.body, BODY, `read buffer ${readBufferBytes}`);
      } finally {
        await server.close();
      }
    }
  });

  it('reads a body without length to the end of the connection', async () => {
    const server = await scriptedServer((socket) => {
      socket.write('HTTP/1.0 200 OK\r\nContent-Type: multipart/related; boundary=b\r\n\r\n');
      setTimeout(() => socket.end(BODY), 30);
    });
    try {
      const received: Received = { body: Buffer.alloc(0), ended: false };
      assert.equal(
        (await socketGet(server.url, '/', options(collect(received))).outcome).kind,
        'done',
      );
      assert.deepEqual(received.body, BODY);
      assert.equal(received.ended, true);
    } finally {
      await server.close();
    }
  });

  it('declines what it does not read: a refused head, other transfer codings, compressed bodies, no server, unsafe headers', async () => {
    const answers: Record<string, string> = {
      '/404': 'HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}',
      '/gzip-te': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
      '/gzip-ce': 'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx',
      '/two-lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx',
      '/not-http': 'SSH-2.0-OpenSSH\r\n\r\n',
    };
    const server = await scriptedServer((socket, request) =>
      socket.end(answers[/^GET (\S+)/.exec(request)![1]!]),
    );
    try {
      const base = server.url.replace(/\/dicom-web.*$/, '');
      let heads = 0;
      const refuse: SocketGetOptions['onHead'] = () => {
        heads++;
        return undefined;
      };
      const notFound = await socketGet(`${base}/404`, '/404', options(refuse)).outcome;
      assert.deepEqual(
        [notFound.kind, notFound.kind === 'declined' && notFound.head?.status],
        ['declined', 404],
      );
      for (const path of ['/gzip-te', '/gzip-ce', '/two-lengths', '/not-http']) {
        const outcome = await socketGet(`${base}${path}`, path, options(refuse)).outcome;
        assert.equal(outcome.kind, 'declined', path);
      }
      assert.equal(heads, 1, 'only the 404 reached onHead');
      const requests = server.requests.length;
      const unsafe = await socketGet(
        server.url,
        '/',
        options(refuse, { headers: { 'x-evil': 'a\r\nHost: elsewhere' } }),
      ).outcome;
      assert.equal(unsafe.kind, 'declined');
      assert.equal(server.requests.length, requests, 'nothing was sent');
      assert.equal(
        (await socketGet('https://127.0.0.1:1/', '/', options(refuse)).outcome).kind,
        'declined',
      );
    } finally {
      await server.close();
    }
    // The port is closed now: connection refused.
    assert.equal(
      (
        await socketGet(
          server.url,
          '/',
          options(() => undefined),
        ).outcome
      ).kind,
      'declined',
    );
  });

  it('fails with a typed error once a body was taken: bad chunk size, too many bytes, cut off, silence', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: multipart/related; boundary=b\r\n';
    const cases: Array<[string, (socket: Socket) => void, DicomWebError['code']]> = [
      [
        'bad chunk size',
        (s) => s.write(`${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n`),
        'MALFORMED_RESPONSE',
      ],
      [
        'no CRLF after a chunk',
        (s) => s.write(`${head}Transfer-Encoding: chunked\r\n\r\n2\r\nabXY`),
        'MALFORMED_RESPONSE',
      ],
      [
        'more bytes than Content-Length',
        (s) => s.end(`${head}Content-Length: 2\r\n\r\nabc`),
        'MALFORMED_RESPONSE',
      ],
      [
        'closed before Content-Length',
        (s) => s.end(`${head}Content-Length: 10\r\n\r\nabc`),
        'NETWORK',
      ],
      [
        'closed inside a chunk',
        (s) => s.end(`${head}Transfer-Encoding: chunked\r\n\r\n10\r\nabc`),
        'NETWORK',
      ],
      ['silent after the head', (s) => s.write(`${head}Content-Length: 10\r\n\r\nabc`), 'TIMEOUT'],
    ];
    for (const [name, answer, code] of cases) {
      const server = await scriptedServer(answer);
      try {
        const received: Received = { body: Buffer.alloc(0), ended: false };
        const started = performance.now();
        await assert.rejects(
          socketGet(server.url, '/', options(collect(received), { bodyMs: 300 })).outcome,
          (error: unknown) => {
            assert.ok(error instanceof DicomWebError, `${name}: ${String(error)}`);
            assert.equal(error.code, code, `${name}: ${error.message}`);
            return true;
          },
        );
        assert.ok(performance.now() - started < 1500, `${name} settled promptly`);
        assert.equal(received.ended, false, name);
      } finally {
        await server.close();
      }
    }
  });

  it('cancels with CANCELLED, and stops reading while the sink asks it to', async () => {
    const server = await scriptedServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n`);
      socket.write(BODY.subarray(0, 10));
      setTimeout(() => socket.end(BODY.subarray(10)), 100);
    });
    try {
      const controller = new AbortController();
      const received: Received = { body: Buffer.alloc(0), ended: false };
      const call = socketGet(
        server.url,
        '/',
        options(collect(received, { data: () => void controller.abort() }), {
          signal: controller.signal,
        }),
      );
      await assert.rejects(
        call.outcome,
        (error: unknown) => error instanceof DicomWebError && error.code === 'CANCELLED',
      );

      // Paused after the first bytes: nothing more arrives until resume().
      const paused: Received = { body: Buffer.alloc(0), ended: false };
      let first = true;
      // A body timeout shorter than the pause: a pause the sink asked for is not the server's
      // silence.
      const pausing = socketGet(
        server.url,
        '/',
        options(collect(paused, { data: () => (first ? ((first = false), false) : true) }), {
          readBufferBytes: 64 * 1024,
          bodyMs: 150,
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // the server sent everything by now
      const before = paused.body.length;
      assert.ok(before > 0 && before < BODY.length, `${before} bytes before resume`);
      pausing.resume();
      assert.equal((await pausing.outcome).kind, 'done');
      assert.deepEqual(paused.body, BODY);
    } finally {
      await server.close();
    }
  });
});

describe('socketGet on random answers', () => {
  it('settles every one of 300 mangled answers: read, declined or a typed error, never a hang or a crash', async () => {
    const valid = Buffer.concat([
      Buffer.from(
        'HTTP/1.1 200 OK\r\nContent-Type: multipart/related; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n',
      ),
      Buffer.from(`${BODY.length.toString(16)}\r\n`),
      BODY,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    let answer = Buffer.alloc(0);
    const server = await scriptedServer((socket) => socket.end(answer));
    const outcomes = new Map<string, number>();
    try {
      for (let seed = 1; seed <= 300; seed++) {
        const random = rng(seed);
        // Flip, drop or insert bytes of a valid chunked answer, or cut it short.
        const bytes = [...valid];
        for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits--) {
          const at = Math.floor(random() * bytes.length);
          const what = random();
          if (what < 0.4) bytes[at] = Math.floor(random() * 256);
          else if (what < 0.7) bytes.splice(at, 1);
          else if (what < 0.9)
            bytes.splice(at, 0, [0x0d, 0x0a, 0x3a, 0x30, 0x20][Math.floor(random() * 5)]!);
          else bytes.length = at;
        }
        answer = Buffer.from(bytes);
        const received: Received = { body: Buffer.alloc(0), ended: false };
        const call = socketGet(
          server.url,
          '/',
          options(collect(received), {
            readBufferBytes: 1 + Math.floor(random() * 40),
            bodyMs: 1000,
            headersMs: 1000,
          }),
        );
        const started = performance.now();
        const result = await call.outcome.then(
          (outcome) => outcome.kind,
          (error: unknown) => {
            assert.ok(error instanceof DicomWebError, `seed ${seed}: ${String(error)}`);
            return error.code;
          },
        );
        assert.ok(performance.now() - started < 3000, `seed ${seed} settled in time`);
        if (result === 'done') assert.equal(received.ended, true, `seed ${seed}`);
        outcomes.set(result, (outcomes.get(result) ?? 0) + 1);
      }
    } finally {
      await server.close();
    }
    // Every kind of ending was exercised.
    for (const kind of ['done', 'declined', 'MALFORMED_RESPONSE', 'NETWORK'])
      assert.ok((outcomes.get(kind) ?? 0) > 0, `${kind}: ${JSON.stringify([...outcomes])}`);
  });
});

describe('socketGet over TLS', () => {
  /**
   * An HTTPS server on 127.0.0.1 answering every GET with `parts` as a chunked multipart/related
   * body.
   */
  async function httpsServer(
    parts: Buffer[],
    pauseMs = 0,
  ): Promise<{ origin: string; alpn: Array<string | false | null>; close: () => Promise<void> }> {
    const alpn: Array<string | false | null> = [];
    const server = createHttpsServer(
      { key: KEY, cert: CERT, ALPNProtocols: ['h2', 'http/1.1'] },
      async (request, response) => {
        alpn.push((request.socket as import('node:tls').TLSSocket).alpnProtocol);
        response.writeHead(200, {
          'content-type': 'multipart/related; type="application/dicom"; boundary=tls-boundary',
        });
        for (const part of parts) {
          response.write(
            Buffer.concat([
              Buffer.from('--tls-boundary\r\nContent-Type: application/dicom\r\n\r\n'),
              part,
              Buffer.from('\r\n'),
            ]),
          );
          if (pauseMs) await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
        response.end('--tls-boundary--\r\n');
      },
    );
    const { port, close } = await listenOnLoopback(server);
    return { origin: `https://127.0.0.1:${port}`, alpn, close };
  }

  it('reads an https answer into the same buffer, with the CA it is given, and declines a certificate it cannot trust', async () => {
    const body = Buffer.from('DICM payload over TLS');
    const server = await httpsServer([body]);
    try {
      const received: Received = { body: Buffer.alloc(0), ended: false };
      const trusted = await socketGet(
        `${server.origin}/x`,
        '/x',
        options(collect(received), { tls: { ca: CERT }, readBufferBytes: 13 }),
      ).outcome;
      assert.equal(trusted.kind, 'done');
      assert.match(
        received.body.toString('latin1'),
        /^--tls-boundary\r\nContent-Type: application\/dicom\r\n\r\nDICM payload over TLS\r\n--tls-boundary--\r\n$/,
      );
      assert.deepEqual(server.alpn, ['http/1.1'], 'HTTP/1.1 asked for by ALPN');

      let heads = 0;
      const untrusted = await socketGet(
        `${server.origin}/x`,
        '/x',
        options(() => (heads++, undefined)),
      ).outcome;
      assert.equal(untrusted.kind, 'declined');
      assert.match(
        untrusted.kind === 'declined' ? untrusted.reason : '',
        /self-signed|certificate/i,
      );
      assert.equal(heads, 0);
      const unchecked = await socketGet(
        `${server.origin}/x`,
        '/x',
        options(collect({ body: Buffer.alloc(0), ended: false }), {
          tls: { rejectUnauthorized: false },
        }),
      ).outcome;
      assert.equal(unchecked.kind, 'done');
    } finally {
      await server.close();
    }
  });

  it('stops reading a TLS socket while the sink asks it to', async () => {
    const server = await httpsServer([Buffer.from('first part'), Buffer.from('second part')], 100);
    try {
      const paused: Received = { body: Buffer.alloc(0), ended: false };
      let first = true;
      const call = socketGet(
        `${server.origin}/x`,
        '/x',
        options(collect(paused, { data: () => (first ? ((first = false), false) : true) }), {
          tls: { ca: CERT },
          readBufferBytes: 64 * 1024,
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 400)); // the server sent everything by now
      const before = paused.body.toString('latin1');
      assert.ok(
        before.includes('first part') && !before.includes('second part'),
        `before resume: ${JSON.stringify(before)}`,
      );
      call.resume();
      assert.equal((await call.outcome).kind, 'done');
      assert.ok(paused.body.toString('latin1').endsWith('second part\r\n--tls-boundary--\r\n'));
    } finally {
      await server.close();
    }
  });

  it('a client with the CA downloads over https from the socket; without it the download fails on the certificate', async () => {
    const paths = await writeSeedFiles(mkdtempSync(join(tmpdir(), 'dicomweb-tls-src-')));
    const files = paths.map((path) => readFileSync(path));
    const server = await httpsServer(files);
    const trusting = new DicomWebClient({
      baseUrl: `${server.origin}/dicom-web`,
      serverKind: 'generic',
      tls: { ca: CERT },
    });
    const distrusting = new DicomWebClient({
      baseUrl: `${server.origin}/dicom-web`,
      serverKind: 'generic',
      retry: { retries: 0 },
    });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'dicomweb-tls-download-'));
      const result = await trusting.downloadToDirectory(
        { studyInstanceUid: SEED_INSTANCES[0]!.studyInstanceUid },
        dir,
      );
      assert.equal(result.reader, 'socket');
      assert.equal(result.files.length, 3);
      for (const [index, instance] of SEED_INSTANCES.entries()) {
        assert.ok(
          readFileSync(join(dir, `${instance.sopInstanceUid}.dcm`)).equals(files[index]!),
          `${instance.sopInstanceUid} byte for byte`,
        );
      }
      // The socket reader declines; undici then refuses the certificate with a typed error.
      await assert.rejects(
        distrusting.downloadToDirectory(
          { studyInstanceUid: SEED_INSTANCES[0]!.studyInstanceUid },
          mkdtempSync(join(tmpdir(), 'dicomweb-tls-refused-')),
        ),
        (error: unknown) => {
          assert.ok(error instanceof DicomWebError, String(error));
          assert.equal(error.code, 'NETWORK');
          assert.match(error.message, /certificate/i);
          return true;
        },
      );
    } finally {
      await trusting.close();
      await distrusting.close();
      await server.close();
    }
  });
});
