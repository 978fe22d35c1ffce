/**
 * The client against a hostile server (issue 10, findings 4a and 5): a raw TCP server
 * started here answers with endless bodies, lying lengths, a 2^60 chunk size, a flood of
 * 1xx answers, a trickle, and URLs naming another origin. Every case must end as a typed
 * error quickly — never a hang, a crash or memory growing with what the server sends —
 * and `Authorization` must reach only the connection's own origin. Small caps and
 * deadlines are set through the client's options so the cases run in seconds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuthProvider } from '../../src/dicomweb/transport/auth';
import { DicomWebClient, type DicomWebClientOptions } from '../../src/dicomweb/client';
import { DicomWebError } from '../../src/dicomweb/transport/errors';
import { MAX_INTERIM_RESPONSES } from '../../src/dicomweb/transport/socketGet';
import { listenOnLoopback } from '../support/loopback';
import { writeSeedFiles } from '../support/seedData';
import { createHostileServer, pump, type SeenRequest } from '../support/hostileHttp';

const MiB = 1024 * 1024;
/** The test caps: small so an endless body crosses them in well under a second. */
const CAP = 8 * MiB;
/**
 * What the RSS may grow by while one endless body is refused: the cap plus 64 MiB of slack (GC
 * timing, undici's buffers).
 */
const RSS_BOUND = CAP + 64 * MiB;
const STUDY = '1.2.826.0.1.3680043.10.1.1';
const SERIES = '1.2.826.0.1.3680043.10.1.2';
const SOP = '1.2.826.0.1.3680043.10.1.3';
const TOKEN = `Bearer hostile-test-${process.pid}`;

type Behaviour = (socket: Socket, request: SeenRequest) => void;

interface HostileServer {
  origin: string;
  requests: SeenRequest[];
  /** Answers requests whose path starts with `prefix` with `behaviour`. */
  on(prefix: string, behaviour: Behaviour): void;
  close(): Promise<void>;
}

/**
 * A raw HTTP/1.1 server that reads each request head and hands the socket to a scripted behaviour.
 */
async function startHostileServer(): Promise<HostileServer> {
  const requests: SeenRequest[] = [];
  const routes: Array<[string, Behaviour]> = [];
  const server = createHostileServer((socket, request) => {
    requests.push(request);
    const route = routes.find(([prefix]) => request.path.startsWith(prefix));
    if (route) route[1](socket, request);
    else socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  const { port, close } = await listenOnLoopback(server);
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    on: (prefix, behaviour) => routes.unshift([prefix, behaviour]),
    close,
  };
}

/** A chunked body that never ends: 64 KiB chunks, each framed. */
function endlessChunked(socket: Socket, status: string, contentType: string, prefix = ''): void {
  socket.write(
    `HTTP/1.1 ${status}\r\ncontent-type: ${contentType}\r\ntransfer-encoding: chunked\r\n\r\n`,
  );
  if (prefix) socket.write(`${Buffer.byteLength(prefix).toString(16)}\r\n${prefix}\r\n`);
  const data = Buffer.alloc(64 * 1024, contentType.includes('json') ? '{},' : 'x');
  pump(
    socket,
    Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]),
  );
}

/**
 * Runs `action`, sampling the RSS every 20 ms; returns its rejection, the time it took and the
 * largest RSS growth seen.
 */
async function measure(
  action: () => Promise<unknown>,
): Promise<{ error: unknown; ms: number; rssGrowth: number }> {
  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const started = performance.now();
  let error: unknown;
  try {
    await action();
  } catch (caught) {
    error = caught;
  }
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { error, ms: Math.round(performance.now() - started), rssGrowth: peak - baseline };
}

function assertCode(error: unknown, code: string): void {
  assert.ok(
    error instanceof DicomWebError,
    `expected a DicomWebError ${code}, got ${String(error)}`,
  );
  assert.equal(error.code, code, error.message);
}

describe('the client against a hostile server', () => {
  let server: HostileServer;
  let other: HostileServer;
  let refreshes = 0;
  const auth: AuthProvider = {
    kind: 'bearer',
    authorization: async () => TOKEN,
    refresh: async () => {
      refreshes++;
      return false;
    },
  };
  const clients: DicomWebClient[] = [];
  const clientFor = (options: Partial<DicomWebClientOptions> = {}): DicomWebClient => {
    const client = new DicomWebClient({
      baseUrl: `${server.origin}/dicom-web`,
      serverKind: 'generic',
      auth,
      retry: { retries: 0 },
      timeouts: { connectMs: 2000, headersMs: 3000, bodyMs: 5000 },
      maxBodyBytes: { json: CAP, binary: CAP },
      headers: { 'x-api-key': 'connection-secret' },
      ...options,
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    server = await startHostileServer();
    other = await startHostileServer();
    // Load undici (and compile its parser) before any RSS is measured: that is not growth.
    await assert.rejects(
      clientFor().searchForStudies(),
      (error: unknown) => error instanceof DicomWebError && error.status === 404,
    );
  });
  after(async () => {
    for (const client of clients) await client.close();
    await server.close();
    await other.close();
  });

  describe('endless bodies end with TOO_LARGE as the cap is crossed, memory bounded', () => {
    const cases: Array<[string, (client: DicomWebClient) => Promise<unknown>, Behaviour]> = [
      [
        'QIDO',
        (client) => client.searchForStudies(),
        (socket) => endlessChunked(socket, '200 OK', 'application/dicom+json', '['),
      ],
      [
        'metadata',
        (client) => client.retrieveStudyMetadata(STUDY),
        (socket) => endlessChunked(socket, '200 OK', 'application/dicom+json', '['),
      ],
      [
        'frames',
        (client) =>
          client.retrieveInstanceFrames(
            { studyInstanceUid: STUDY, seriesInstanceUid: SERIES, sopInstanceUid: SOP },
            [1],
          ),
        (socket) =>
          endlessChunked(
            socket,
            '200 OK',
            'multipart/related; type="application/octet-stream"; boundary=b',
            '--b\r\ncontent-type: application/octet-stream\r\n\r\n',
          ),
      ],
      [
        'rendered',
        (client) =>
          client.retrieveRendered({
            studyInstanceUid: STUDY,
            seriesInstanceUid: SERIES,
            sopInstanceUid: SOP,
          }),
        (socket) => endlessChunked(socket, '200 OK', 'image/png'),
      ],
      [
        'bulk data',
        (client) => client.retrieveBulkData(`studies/${STUDY}/bulk/7FE00010`),
        (socket) => endlessChunked(socket, '200 OK', 'application/octet-stream'),
      ],
      // Error bodies are read for their message only: an endless one ends the read at 64 KiB.
      [
        'an error body',
        (client) => client.searchForSeries(),
        (socket) => endlessChunked(socket, '400 Bad Request', 'text/plain'),
      ],
    ];
    for (const [name, call, behaviour] of cases) {
      it(`${name}`, { timeout: 30_000 }, async (t) => {
        server.on('/dicom-web/', behaviour);
        const { error, ms, rssGrowth } = await measure(() => call(clientFor()));
        t.diagnostic(`${name}: ${ms} ms, RSS +${(rssGrowth / MiB).toFixed(1)} MiB`);
        if (name === 'an error body') {
          assertCode(error, 'HTTP_STATUS');
          assert.equal((error as DicomWebError).status, 400);
        } else {
          assertCode(error, 'TOO_LARGE');
        }
        assert.ok(ms < 5000, `took ${ms} ms`);
        assert.ok(rssGrowth < RSS_BOUND, `RSS grew by ${rssGrowth} bytes`);
      });
    }
  });

  it(
    'an endless STOW answer: every file of the batch fails with the cap named, quickly, memory bounded',
    { timeout: 30_000 },
    async (t) => {
      const folder = mkdtempSync(join(tmpdir(), 'hostile-stow-'));
      try {
        const files = await writeSeedFiles(folder);
        server.on('/dicom-web/', (socket) =>
          endlessChunked(
            socket,
            '200 OK',
            'application/dicom+json',
            '{"00081199":{"vr":"SQ","Value":[',
          ),
        );
        let summary: Awaited<ReturnType<DicomWebClient['storeInstances']>> | undefined;
        const { error, ms, rssGrowth } = await measure(async () => {
          summary = await clientFor().storeInstances(files);
        });
        t.diagnostic(`STOW: ${ms} ms, RSS +${(rssGrowth / MiB).toFixed(1)} MiB`);
        assert.equal(error, undefined);
        assert.equal(summary!.stored, 0);
        assert.equal(summary!.failed, files.length);
        assert.ok(
          summary!.outcomes.every((outcome) => /limit of \d+ bytes/.test(outcome.message ?? '')),
          JSON.stringify(summary!.outcomes.map((o) => o.message)),
        );
        assert.ok(ms < 10_000, `took ${ms} ms`);
        assert.ok(rssGrowth < RSS_BOUND, `RSS grew by ${rssGrowth} bytes`);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  );

  it(
    'a declared Content-Length over the cap is refused before its body is read',
    { timeout: 30_000 },
    async () => {
      let bodyBytesSent = 0;
      server.on('/dicom-web/studies', (socket) => {
        // 10 GiB declared; 1 MiB actually sent, then silence.
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: application/dicom+json\r\ncontent-length: 10737418240\r\n\r\n',
        );
        const piece = Buffer.alloc(MiB, 0x20);
        bodyBytesSent = piece.length;
        socket.write(piece);
      });
      const { error, ms } = await measure(() =>
        clientFor({ timeouts: { bodyMs: 30_000 } }).searchForStudies(),
      );
      assertCode(error, 'TOO_LARGE');
      assert.match((error as Error).message, /10737418240/);
      assert.ok(bodyBytesSent > 0);
      assert.ok(ms < 2000, `took ${ms} ms: the body was waited for`);
    },
  );

  it(
    'a 2^60 chunk size (undici path) ends with TOO_LARGE at the cap',
    { timeout: 30_000 },
    async () => {
      server.on('/dicom-web/studies', (socket) => {
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: application/dicom+json\r\ntransfer-encoding: chunked\r\n\r\n1000000000000000\r\n',
        );
        pump(socket, Buffer.alloc(64 * 1024, 0x20));
      });
      const { error, ms, rssGrowth } = await measure(() => clientFor().searchForStudies());
      assertCode(error, 'TOO_LARGE');
      assert.ok(ms < 5000, `took ${ms} ms`);
      assert.ok(rssGrowth < RSS_BOUND, `RSS grew by ${rssGrowth} bytes`);
    },
  );

  it(
    'a 2^60 chunk size (socket reader of the download) is a MALFORMED_RESPONSE',
    { timeout: 30_000 },
    async () => {
      server.on('/dicom-web/studies', (socket) => {
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: multipart/related; type="application/dicom"; boundary=b\r\ntransfer-encoding: chunked\r\n\r\n1000000000000000\r\n',
        );
        pump(socket, Buffer.alloc(64 * 1024, 0x20));
      });
      const folder = mkdtempSync(join(tmpdir(), 'hostile-'));
      try {
        const { error, ms } = await measure(() =>
          clientFor().downloadToDirectory({ studyInstanceUid: STUDY }, folder),
        );
        assertCode(error, 'MALFORMED_RESPONSE');
        assert.ok(ms < 5000, `took ${ms} ms`);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  );

  describe('a flood of 1xx answers ends quickly with a typed error', () => {
    const flood =
      (status: string) =>
      (socket: Socket): void => {
        const timer = setInterval(() => {
          if (socket.destroyed) clearInterval(timer);
          else socket.write(`HTTP/1.1 ${status}\r\n\r\n`);
        }, 20);
        socket.on('close', () => clearInterval(timer));
      };

    it(
      'on the socket reader of the download: MALFORMED_RESPONSE after the bound',
      { timeout: 30_000 },
      async () => {
        server.on('/dicom-web/studies', flood('102 Processing'));
        const folder = mkdtempSync(join(tmpdir(), 'hostile-'));
        try {
          // The head timeout is long: only the interim bound can end this in time.
          const { error, ms } = await measure(() =>
            clientFor({ timeouts: { headersMs: 60_000 } }).downloadToDirectory(
              { studyInstanceUid: STUDY },
              folder,
            ),
          );
          assertCode(error, 'MALFORMED_RESPONSE');
          assert.match(
            (error as Error).message,
            new RegExp(`more than ${MAX_INTERIM_RESPONSES} interim`),
          );
          assert.ok(ms < 5000, `took ${ms} ms`);
        } finally {
          rmSync(folder, { recursive: true, force: true });
        }
      },
    );

    for (const status of ['100 Continue', '102 Processing', '103 Early Hints']) {
      it(`on undici (QIDO), ${status}: a typed error at once`, { timeout: 30_000 }, async () => {
        server.on('/dicom-web/studies', flood(status));
        // The head timeout is long: only the interim bound (or undici's refusal of an
        // unasked-for 100 Continue) can end this in time.
        const { error, ms } = await measure(() =>
          clientFor({ timeouts: { headersMs: 60_000 } }).searchForStudies(),
        );
        assert.ok(error instanceof DicomWebError, String(error));
        if (status.startsWith('100')) assert.equal(error.code, 'NETWORK', error.message);
        else assertCode(error, 'MALFORMED_RESPONSE');
        assert.ok(ms < 4000, `took ${ms} ms`);
      });
    }
  });

  describe('a trickle ends with TIMEOUT at the overall deadline', () => {
    const trickle = (socket: Socket): void => {
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: application/dicom+json\r\ncontent-length: 100000\r\n\r\n[',
      );
      // One byte every 200 ms: never silent long enough for the idle timeout (5 s).
      const timer = setInterval(
        () => (socket.destroyed ? clearInterval(timer) : socket.write(' ')),
        200,
      );
      socket.on('close', () => clearInterval(timer));
    };
    for (const [name, call] of [
      ['QIDO', (client: DicomWebClient) => client.searchForStudies()],
      ['metadata', (client: DicomWebClient) => client.retrieveStudyMetadata(STUDY)],
      [
        'frames',
        (client: DicomWebClient) =>
          client.retrieveInstanceFrames(
            { studyInstanceUid: STUDY, seriesInstanceUid: SERIES, sopInstanceUid: SOP },
            [1],
          ),
      ],
    ] as const) {
      it(name, { timeout: 30_000 }, async () => {
        server.on('/dicom-web/', trickle);
        const { error, ms } = await measure(() => call(clientFor({ deadlineMs: 1500 })));
        assertCode(error, 'TIMEOUT');
        assert.match((error as Error).message, /deadline/);
        assert.ok(ms >= 1400 && ms < 3500, `ended after ${ms} ms, not at the 1.5 s deadline`);
      });
    }
  });

  describe('a trickling streamed retrieve ends with TIMEOUT under the minimum rate', () => {
    const trickle = (socket: Socket): void => {
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: multipart/related; type="application/dicom"; boundary=b\r\ncontent-length: 100000\r\n\r\n--b\r\ncontent-type: application/dicom\r\n\r\n',
      );
      const timer = setInterval(
        () => (socket.destroyed ? clearInterval(timer) : socket.write('x')),
        50,
      );
      socket.on('close', () => clearInterval(timer));
    };
    const minimumRate = { bytes: 1024, windowMs: 1000 };

    it('the download (socket reader)', { timeout: 30_000 }, async () => {
      server.on('/dicom-web/studies', trickle);
      const folder = mkdtempSync(join(tmpdir(), 'hostile-'));
      try {
        const { error, ms } = await measure(() =>
          clientFor({ minimumRate }).downloadToDirectory({ studyInstanceUid: STUDY }, folder),
        );
        assertCode(error, 'TIMEOUT');
        assert.match((error as Error).message, /too slow/);
        assert.ok(ms >= 900 && ms < 3000, `ended after ${ms} ms, not at the 1 s window`);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });

    it('retrieve() (undici)', { timeout: 30_000 }, async () => {
      server.on('/dicom-web/studies', trickle);
      const { error, ms } = await measure(async () => {
        for await (const part of clientFor({ minimumRate }).retrieveStudy(STUDY))
          for await (const _ of part.body);
      });
      assertCode(error, 'TIMEOUT');
      assert.match((error as Error).message, /too slow/);
      assert.ok(ms >= 900 && ms < 3000, `ended after ${ms} ms, not at the 1 s window`);
    });
  });

  describe('credentials go only to the connection origin', () => {
    const bulkAnswer = (socket: Socket): void => {
      socket.end(
        'HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 4\r\nconnection: close\r\n\r\nLUT!',
      );
    };
    const authorizationsTo = (target: HostileServer, since: number): Array<string | undefined> =>
      target.requests.slice(since).map((request) => request.headers.authorization);

    it('a BulkDataURI naming another origin is fetched without Authorization nor the configured headers; the own origin gets them', async () => {
      other.on('/', bulkAnswer);
      server.on('/dicom-web/', bulkAnswer);
      const client = clientFor();
      const otherSince = other.requests.length;
      const ownSince = server.requests.length;
      const [foreign] = await client.retrieveBulkData(
        `${other.origin}/dicom-web/studies/${STUDY}/bulk/00281201`,
      );
      const [own] = await client.retrieveBulkData(
        `${server.origin}/dicom-web/studies/${STUDY}/bulk/00281201`,
      );
      const [relative] = await client.retrieveBulkData(`studies/${STUDY}/bulk/00281201`);
      assert.equal(Buffer.from(foreign!.data).toString(), 'LUT!');
      assert.equal(Buffer.from(own!.data).toString(), 'LUT!');
      assert.equal(Buffer.from(relative!.data).toString(), 'LUT!');
      assert.deepEqual(authorizationsTo(other, otherSince), [undefined]);
      assert.equal(other.requests.at(-1)!.headers['x-api-key'], undefined);
      assert.deepEqual(authorizationsTo(server, ownSince), [TOKEN, TOKEN]);
      assert.equal(server.requests.at(-1)!.headers['x-api-key'], 'connection-secret');
    });

    it('the same host on another port is another origin, also for a RetrieveURL sent through the transport', async () => {
      other.on('/', bulkAnswer);
      const client = clientFor();
      const since = other.requests.length;
      // 127.0.0.1 on the other server's port: same host, different port.
      const response = await client.transport.send({
        method: 'GET',
        url: `${other.origin}/dicom-web/studies/${STUDY}`,
      });
      await response.dump();
      assert.deepEqual(authorizationsTo(other, since), [undefined]);
    });

    it('a trusted extra origin gets the credentials', async () => {
      other.on('/', bulkAnswer);
      const client = clientFor({ trustedOrigins: [other.origin] });
      const since = other.requests.length;
      await client.retrieveBulkData(`${other.origin}/bulk/1`);
      assert.deepEqual(authorizationsTo(other, since), [TOKEN]);
    });

    it('a 401 from another origin neither refreshes the credentials nor resends them', async () => {
      other.on('/', (socket) =>
        socket.end(
          'HTTP/1.1 401 Unauthorized\r\nwww-authenticate: bearer\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
        ),
      );
      const client = clientFor();
      const since = other.requests.length;
      const before = refreshes;
      const { error } = await measure(() => client.retrieveBulkData(`${other.origin}/bulk/2`));
      assertCode(error, 'HTTP_STATUS');
      assert.equal(refreshes, before);
      assert.deepEqual(authorizationsTo(other, since), [undefined]);
    });

    it('a redirect to another origin is not followed with the credentials', async () => {
      other.on('/', bulkAnswer);
      server.on('/dicom-web/studies', (socket) =>
        socket.end(
          `HTTP/1.1 302 Found\r\nlocation: ${other.origin}/steal\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
        ),
      );
      const since = other.requests.length;
      const { error } = await measure(() => clientFor().searchForStudies());
      assertCode(error, 'HTTP_STATUS');
      assert.deepEqual(authorizationsTo(other, since), []);
    });

    it('the download (socket reader) sends no credentials to a base URL that is not the connection', async () => {
      other.on('/', (socket) =>
        socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'),
      );
      const client = clientFor();
      const since = other.requests.length;
      const outcome = await client.transport.getFromSocket(
        { url: `${other.origin}/dicom-web/studies/${STUDY}` },
        () => undefined,
      );
      assert.equal(outcome.kind, 'declined');
      assert.deepEqual(authorizationsTo(other, since), [undefined]);
    });

    it('a BulkDataURI with another scheme is refused', async () => {
      const { error } = await measure(() => clientFor().retrieveBulkData('file:///etc/passwd'));
      assertCode(error, 'INVALID_REQUEST');
    });
  });
});
