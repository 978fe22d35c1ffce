import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  MultipartError,
  multipartBody,
  multipartContentType,
  multipartLength,
  newBoundary,
  parseContentType,
  parseMultipart,
  readPartBody,
  rootPartIndex,
  type MultipartWriterPart,
} from '../../src/mime/multipart';
import { rng } from '../support/random';

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

function randomBytes(random: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** Feeds `data` as chunks whose sizes come from `size` (a number or a generator of numbers). */
async function* chunked(
  data: Uint8Array,
  size: number | (() => number),
): AsyncGenerator<Uint8Array> {
  let pos = 0;
  while (pos < data.length) {
    const n = Math.max(1, typeof size === 'number' ? size : size());
    yield data.subarray(pos, pos + n);
    pos += n;
  }
}

async function* chunksOf(...chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

interface ParsedPart {
  headers: Record<string, string>;
  contentType?: string | undefined;
  contentLocation?: string | undefined;
  body: string;
}

async function parseAll(
  source: AsyncIterable<Uint8Array>,
  contentType: string,
  options?: Parameters<typeof parseMultipart>[2],
): Promise<ParsedPart[]> {
  const parts: ParsedPart[] = [];
  for await (const part of parseMultipart(source, contentType, options)) {
    const body = Buffer.from(await readPartBody(part)).toString('latin1');
    parts.push({
      headers: part.headers,
      contentType: part.contentType,
      contentLocation: part.contentLocation,
      body,
    });
  }
  return parts;
}

/** Rejects if `promise` does not settle within `ms`: a hang is a failure, not a stuck test run. */
function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `global.gc` without `--expose-gc` on the command line (the test runner starts node for us). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function assertMultipartError(
  promise: Promise<unknown>,
  code: MultipartError['code'],
): Promise<void> {
  await within(
    assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof MultipartError, `expected MultipartError, got ${String(err)}`);
      assert.equal(err.name, 'MultipartError');
      assert.equal(err.code, code, err.message);
      return true;
    }),
  );
}

const CT = 'multipart/related; type="application/dicom"; boundary=abc';

/** A well-formed two-part body in the shape WADO-RS servers send. */
const TWO_PARTS = latin1(
  '--abc\r\n' +
    'Content-Type: application/dicom\r\n' +
    'Content-Location: /studies/1/series/2/instances/3\r\n' +
    '\r\n' +
    'DICM-one\r\n' +
    '--abc\r\n' +
    'Content-Type: application/dicom+json\r\n' +
    '\r\n' +
    '{"x":1}\r\n' +
    '--abc--\r\n',
);
const TWO_PARTS_EXPECTED: ParsedPart[] = [
  {
    headers: {
      'content-type': 'application/dicom',
      'content-location': '/studies/1/series/2/instances/3',
    },
    contentType: 'application/dicom',
    contentLocation: '/studies/1/series/2/instances/3',
    body: 'DICM-one',
  },
  {
    headers: { 'content-type': 'application/dicom+json' },
    contentType: 'application/dicom+json',
    contentLocation: undefined,
    body: '{"x":1}',
  },
];

// ---------------------------------------------------------------------------
// parseContentType
// ---------------------------------------------------------------------------

describe('parseContentType', () => {
  it('reads an unquoted boundary and lower-cases the media type and names', () => {
    const result = parseContentType('Multipart/Related; Type=application/dicom; BOUNDARY=AbC123');
    assert.deepEqual(result, {
      mediaType: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'AbC123' },
    });
  });

  it('unquotes a quoted boundary and keeps its case', () => {
    assert.equal(
      parseContentType('multipart/related; boundary="Xy:z=1"').params['boundary'],
      'Xy:z=1',
    );
  });

  it("keeps Orthanc's quoted type with ';' and '=' inside as one parameter", () => {
    const header =
      'multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"; boundary=abc';
    assert.deepEqual(parseContentType(header), {
      mediaType: 'multipart/related',
      params: {
        type: 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1',
        boundary: 'abc',
      },
    });
  });

  it('resolves backslash escapes in quoted strings', () => {
    assert.equal(
      parseContentType('text/plain; title="a \\"b\\" \\\\ c"').params['title'],
      'a "b" \\ c',
    );
  });

  it('tolerates spaces around "=", empty parameters, a trailing ";" and valueless parameters', () => {
    const result = parseContentType('multipart/related ;; boundary = abc ; flag; type = "x" ;');
    assert.deepEqual(result, {
      mediaType: 'multipart/related',
      params: { boundary: 'abc', type: 'x' },
    });
  });

  it('returns an empty media type for an empty header', () => {
    assert.deepEqual(parseContentType(''), { mediaType: '', params: {} });
  });
});

// ---------------------------------------------------------------------------
// parseMultipart: framing
// ---------------------------------------------------------------------------

describe('parseMultipart framing', () => {
  it('parses parts with their own Content-Type and Content-Location', async () => {
    const parts = await parseAll(chunksOf(TWO_PARTS), CT);
    assert.deepEqual(parts, TWO_PARTS_EXPECTED);
  });

  it('gives identical results for 1-byte, 7-byte, random chunking and every two-chunk split', async () => {
    const random = rng(7);
    const runs: Array<() => AsyncIterable<Uint8Array>> = [
      () => chunked(TWO_PARTS, 1),
      () => chunked(TWO_PARTS, 7),
      () => chunked(TWO_PARTS, () => 1 + Math.floor(random() * 20)),
    ];
    for (let split = 0; split <= TWO_PARTS.length; split++) {
      runs.push(() => chunksOf(TWO_PARTS.subarray(0, split), TWO_PARTS.subarray(split)));
    }
    for (const source of runs) {
      assert.deepEqual(await parseAll(source(), CT), TWO_PARTS_EXPECTED);
    }
  });

  it("takes the boundary from the quoted parameter, and from Orthanc's nested type form", async () => {
    const body = latin1(
      '--a:b=c\r\nContent-Type: application/octet-stream\r\n\r\nFRAME\r\n--a:b=c--',
    );
    const orthanc =
      'multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"; boundary="a:b=c"';
    const parts = await parseAll(chunksOf(body), orthanc);
    assert.equal(parts.length, 1);
    assert.equal(parts[0]!.body, 'FRAME');
  });

  it('skips a preamble and an epilogue', async () => {
    const body = latin1(
      'This is a preamble\r\n--abc\r\n\r\nP1\r\n--abc--\r\nThis is an epilogue\r\n--abc\r\n\r\nnot a part',
    );
    const parts = await parseAll(chunksOf(body), CT);
    assert.deepEqual(
      parts.map((p) => p.body),
      ['P1'],
    );
  });

  it('accepts transport padding (spaces and tabs) after the boundary', async () => {
    const body = latin1('--abc \t \r\n\r\nP1\r\n--abc\t\r\n\r\nP2\r\n--abc--  \r\n');
    for (const size of [1, 3, 100]) {
      const parts = await parseAll(chunked(body, size), CT);
      assert.deepEqual(
        parts.map((p) => p.body),
        ['P1', 'P2'],
      );
    }
  });

  it('treats the boundary string as data unless it forms a delimiter line', async () => {
    const tricky =
      '--abc at line start without CRLF\r\n' +
      'x--abc\r\n' +
      '\r\n--abcd\r\n' + // longer boundary: data
      '\r\n--abc-x\r\n' + // single hyphen: data
      '\r\n--abc\rX' + // CR without LF: data
      '\r\n--ab\r\n' + // shorter: data
      '\r\n-abc\r\n' +
      'tail\r';
    const body = latin1(
      `--abc\r\nContent-Type: application/octet-stream\r\n\r\n${tricky}\r\n--abc--`,
    );
    for (const size of [1, 2, 5, 64, 4096]) {
      const parts = await parseAll(chunked(body, size), CT);
      assert.equal(parts.length, 1);
      assert.equal(parts[0]!.body, tricky);
    }
  });

  it('keeps CR and LF at the edges of part data', async () => {
    const data = '\r\n\r\nmiddle\r\n\r\n\r';
    const body = latin1(`--abc\r\n\r\n${data}\r\n--abc--\r\n`);
    const parts = await parseAll(chunked(body, 1), CT);
    assert.equal(parts[0]!.body, data);
  });

  it('parses an empty part, a part without headers and a closing delimiter without trailing CRLF', async () => {
    const body = latin1(
      '--abc\r\nContent-Type: application/dicom\r\n\r\n' + // empty body
        '\r\n--abc\r\n\r\n' + // no headers
        'Content-Type: looks like a header but is data\r\n--abc\r\n\r\n' + // no headers, empty body
        '\r\n--abc--',
    );
    const parts = await parseAll(chunked(body, 3), CT);
    assert.deepEqual(parts, [
      {
        headers: { 'content-type': 'application/dicom' },
        contentType: 'application/dicom',
        contentLocation: undefined,
        body: '',
      },
      {
        headers: {},
        contentType: undefined,
        contentLocation: undefined,
        body: 'Content-Type: looks like a header but is data',
      },
      { headers: {}, contentType: undefined, contentLocation: undefined, body: '' },
    ]);
  });

  it('lower-cases header names, joins repeated headers and unfolds folded lines', async () => {
    const body = latin1(
      '--abc\r\nCONTENT-TYPE:application/dicom\r\nX-A: 1\r\nx-a: 2\r\nX-Folded: one\r\n two\r\nContent-ID: <root@x>\r\n\r\nD\r\n--abc--',
    );
    const parts = [];
    for await (const part of parseMultipart(chunksOf(body), CT)) parts.push(part);
    assert.deepEqual(parts[0]!.headers, {
      'content-type': 'application/dicom',
      'x-a': '1, 2',
      'x-folded': 'one two',
      'content-id': '<root@x>',
    });
    assert.equal(parts[0]!.contentId, '<root@x>');
  });

  it('drains a part body the consumer skipped', async () => {
    const seen: string[] = [];
    for await (const part of parseMultipart(chunked(TWO_PARTS, 2), CT)) {
      if (part.index === 1) seen.push(Buffer.from(await readPartBody(part)).toString('latin1'));
    }
    assert.deepEqual(seen, ['{"x":1}']);
  });

  it('drains a part body the consumer stopped reading half-way', async () => {
    const bodies: string[] = [];
    for await (const part of parseMultipart(chunked(TWO_PARTS, 2), CT)) {
      if (part.index === 0) {
        for await (const chunk of part.body) {
          bodies.push(Buffer.from(chunk).toString('latin1'));
          break;
        }
      } else {
        bodies.push(Buffer.from(await readPartBody(part)).toString('latin1'));
      }
    }
    assert.equal(bodies.length, 2);
    assert.ok(bodies[0]!.length > 0 && 'DICM-one'.startsWith(bodies[0]!), bodies[0]);
    assert.equal(bodies[1], '{"x":1}');
  });

  it('refuses to read a part body after the parser moved on', async () => {
    const parts = [];
    for await (const part of parseMultipart(chunksOf(TWO_PARTS), CT)) parts.push(part);
    await assertMultipartError(readPartBody(parts[0]!), 'INVALID_STATE');
  });

  it('closes the source when the consumer stops early', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield TWO_PARTS.subarray(0, 60);
        yield TWO_PARTS.subarray(60);
      } finally {
        closed = true;
      }
    }
    for await (const part of parseMultipart(source(), CT)) {
      assert.equal(part.index, 0);
      break;
    }
    assert.equal(closed, true);
  });

  it('rejects with the abort reason when the signal aborts a stalled read', async () => {
    const controller = new AbortController();
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield latin1('--abc\r\n\r\npartial');
      await new Promise(() => undefined); // never resolves: a server that stopped sending
    }
    const iterator = parseMultipart(stalled(), CT, { signal: controller.signal });
    const first = await iterator.next();
    assert.equal(first.done, false);
    const reading = readPartBody(
      (first as IteratorYieldResult<import('../../src/mime/multipart').MultipartPart>).value,
    );
    setTimeout(() => controller.abort(new Error('user cancelled')), 10);
    await within(assert.rejects(reading, /user cancelled/));
  });

  it('picks the root part from the start parameter, else the first (RFC 2387 §3.2)', () => {
    const parts = [{ contentId: '<a@x>' }, { contentId: '<b@x>' }, {}];
    assert.equal(rootPartIndex(parts, '<b@x>'), 1);
    assert.equal(rootPartIndex(parts, 'b@x'), 1);
    assert.equal(rootPartIndex(parts, '<zzz>'), 0);
    assert.equal(rootPartIndex(parts), 0);
  });
});

// ---------------------------------------------------------------------------
// parseMultipart: errors
// ---------------------------------------------------------------------------

describe('parseMultipart errors', () => {
  it('requires the boundary parameter (never sniffed from the body)', async () => {
    await assertMultipartError(
      parseAll(chunksOf(TWO_PARTS), 'multipart/related; type="application/dicom"'),
      'MISSING_BOUNDARY',
    );
    await assertMultipartError(
      parseAll(chunksOf(TWO_PARTS), 'multipart/related; boundary=""'),
      'MISSING_BOUNDARY',
    );
  });

  it('rejects a non-multipart Content-Type', async () => {
    await assertMultipartError(
      parseAll(chunksOf(TWO_PARTS), 'application/dicom+json'),
      'NOT_MULTIPART',
    );
  });

  it('closes the unread source when the Content-Type is unusable', async () => {
    let closed = false;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: TWO_PARTS }),
        return: async () => {
          closed = true;
          return { done: true, value: undefined };
        },
      }),
    };
    await assertMultipartError(parseAll(source, 'multipart/related'), 'MISSING_BOUNDARY');
    assert.equal(closed, true);
  });

  it('reports TRUNCATED for every prefix of a valid body that stops before the close delimiter', async () => {
    const closeAt = TWO_PARTS.indexOf(latin1('\r\n--abc--'));
    for (let end = 0; end <= closeAt + '\r\n--abc-'.length; end++) {
      const prefix = TWO_PARTS.subarray(0, end);
      await assertMultipartError(parseAll(chunked(prefix, 5), CT), 'TRUNCATED');
    }
  });

  it('reports MALFORMED for a body without any delimiter', async () => {
    await assertMultipartError(
      parseAll(chunksOf(latin1('{"error":"not multipart at all"}')), CT),
      'MALFORMED',
    );
  });

  it('reports MALFORMED for a header line without a colon', async () => {
    const body = latin1('--abc\r\nContent-Type application/dicom\r\n\r\nD\r\n--abc--');
    await assertMultipartError(parseAll(chunksOf(body), CT), 'MALFORMED');
  });

  it('reports HEADERS_TOO_LARGE past maxHeaderBytes (default 16 KiB), before reading the whole source', async () => {
    const big = latin1(`--abc\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\nD\r\n--abc--`);
    await assertMultipartError(parseAll(chunked(big, 1024), CT), 'HEADERS_TOO_LARGE');
    const small = latin1(`--abc\r\nX-Big: ${'a'.repeat(200)}\r\n\r\nD\r\n--abc--`);
    await assertMultipartError(
      parseAll(chunked(small, 16), CT, { maxHeaderBytes: 100 }),
      'HEADERS_TOO_LARGE',
    );
    // A header block of unbounded length that never ends must also stop.
    async function* endlessHeader(): AsyncGenerator<Uint8Array> {
      yield latin1('--abc\r\nX: ');
      for (;;) yield latin1('b'.repeat(1000));
    }
    await assertMultipartError(parseAll(endlessHeader(), CT), 'HEADERS_TOO_LARGE');
  });

  it('rejects endless transport padding instead of buffering it', async () => {
    async function* endlessPadding(): AsyncGenerator<Uint8Array> {
      yield latin1('--abc');
      for (;;) yield latin1(' '.repeat(100));
    }
    await assertMultipartError(parseAll(endlessPadding(), CT), 'MALFORMED');
  });

  it('ends every one of 200 random or mutated bodies cleanly or with a MultipartError, never a hang', async () => {
    const random = rng(2024);
    for (let i = 0; i < 200; i++) {
      let body: Buffer;
      if (i % 2 === 0) {
        body = randomBytes(random, Math.floor(random() * 600));
        if (i % 4 === 0) body = Buffer.concat([latin1('--abc\r\n'), body]);
      } else {
        // A valid body with a few bytes overwritten, inserted or cut: closer to real corruption.
        body = Buffer.from(TWO_PARTS);
        for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
          const at = Math.floor(random() * body.length);
          const op = Math.floor(random() * 3);
          if (op === 0) body[at] = Math.floor(random() * 256);
          else if (op === 1)
            body = Buffer.concat([body.subarray(0, at), randomBytes(random, 3), body.subarray(at)]);
          else body = body.subarray(0, at);
        }
      }
      const sizes = () => 1 + Math.floor(random() * 40);
      const outcome = await within(
        parseAll(chunked(body, sizes), CT, { maxHeaderBytes: 256 }).then(
          () => 'ok',
          (err: unknown) => {
            assert.ok(err instanceof MultipartError, `case ${i}: ${String(err)}`);
            return err.code;
          },
        ),
      );
      assert.ok(
        ['ok', 'MALFORMED', 'TRUNCATED', 'HEADERS_TOO_LARGE'].includes(outcome),
        `case ${i}: ${outcome}`,
      );
    }
  });
});

// ---------------------------------------------------------------------------
// parseMultipart: streaming
// ---------------------------------------------------------------------------

describe('parseMultipart streaming', () => {
  it('streams a 64 MiB part with memory growth far below the part size', async (t) => {
    const partSize = 64 * 1024 * 1024;
    const chunkSize = 64 * 1024;
    const random = rng(1);
    const pattern = randomBytes(random, chunkSize + 1); // +1 shifts the pattern so chunk edges vary
    async function* source(): AsyncGenerator<Uint8Array> {
      yield latin1('preamble\r\n--abc\r\nContent-Type: application/octet-stream\r\n\r\n');
      let sent = 0;
      let offset = 0;
      while (sent < partSize) {
        const n = Math.min(chunkSize, partSize - sent);
        // A fresh buffer per chunk, as a socket delivers them.
        const chunk = Buffer.allocUnsafe(n);
        for (let copied = 0; copied < n;) {
          const take = Math.min(n - copied, pattern.length - offset);
          pattern.copy(chunk, copied, offset, offset + take);
          copied += take;
          offset = (offset + take) % pattern.length;
        }
        sent += n;
        yield chunk;
      }
      yield latin1('\r\n--abc\r\nContent-Type: application/dicom+json\r\n\r\n[]\r\n--abc--\r\n');
    }

    // Garbage (each consumed 64 KiB chunk) is not retention: collect it before each sample,
    // so the numbers show what the parser holds on to.
    const gc = exposeGc();
    gc();
    const base = process.memoryUsage();
    let peakArrayBuffers = 0;
    let peakRss = 0;
    let received = 0;
    let chunks = 0;
    const types: Array<string | undefined> = [];
    for await (const part of parseMultipart(source(), CT)) {
      types.push(part.contentType);
      for await (const chunk of part.body) {
        received += chunk.byteLength;
        if (++chunks % 128 === 0) {
          gc();
          const now = process.memoryUsage();
          peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers - base.arrayBuffers);
          peakRss = Math.max(peakRss, now.rss - base.rss);
        }
      }
    }
    assert.deepEqual(types, ['application/octet-stream', 'application/dicom+json']);
    assert.equal(received, partSize + 2);
    const MiB = 1024 * 1024;
    t.diagnostic(
      `peak growth: arrayBuffers ${(peakArrayBuffers / MiB).toFixed(1)} MiB, rss ${(peakRss / MiB).toFixed(1)} MiB`,
    );
    assert.ok(
      peakArrayBuffers < 24 * MiB,
      `arrayBuffers grew by ${(peakArrayBuffers / MiB).toFixed(1)} MiB`,
    );
    assert.ok(peakRss < 48 * MiB, `rss grew by ${(peakRss / MiB).toFixed(1)} MiB`);
  });

  it('measures parse throughput (reported, not asserted)', async (t) => {
    const partSize = 8 * 1024 * 1024;
    const parts = 8;
    const random = rng(99);
    const payload = randomBytes(random, partSize);
    const chunks: Buffer[] = [];
    for await (const c of multipartBody(
      Array.from({ length: parts }, () => ({ contentType: 'application/dicom', body: payload })),
      'DICOMwebExplorer-0123456789abcdef0123456789abcdef',
    )) {
      chunks.push(Buffer.from(c));
    }
    const whole = Buffer.concat(chunks);
    const ct = multipartContentType('DICOMwebExplorer-0123456789abcdef0123456789abcdef');
    const rounds = 3;
    const started = process.hrtime.bigint();
    let total = 0;
    for (let r = 0; r < rounds; r++) {
      for await (const part of parseMultipart(chunked(whole, 64 * 1024), ct)) {
        for await (const chunk of part.body) total += chunk.byteLength;
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    assert.equal(total, rounds * parts * partSize);
    t.diagnostic(
      `multipart parse throughput: ${((rounds * whole.length) / 1e6 / seconds).toFixed(0)} MB/s (64 KiB chunks)`,
    );
  });
});

// ---------------------------------------------------------------------------
// writer
// ---------------------------------------------------------------------------

async function collectBytes(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of source) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

describe('multipartBody / multipartLength / newBoundary', () => {
  it('writes the strict STOW-RS framing byte for byte', async () => {
    const bytes = await collectBytes(
      multipartBody(
        [
          { contentType: 'application/dicom', body: latin1('A') },
          {
            contentType: 'application/dicom',
            headers: { 'Content-Location': 'x' },
            body: chunksOf(latin1('B'), latin1('C')),
          },
        ],
        'b1',
      ),
    );
    assert.equal(
      bytes.toString('latin1'),
      '--b1\r\nContent-Type: application/dicom\r\n\r\nA' +
        '\r\n--b1\r\nContent-Type: application/dicom\r\nContent-Location: x\r\n\r\nBC' +
        '\r\n--b1--\r\n',
    );
  });

  it('round-trips 1..50 parts of random sizes and types through the parser, with an exact length', async () => {
    const random = rng(50);
    for (let count = 1; count <= 50; count++) {
      const boundary = newBoundary();
      const bodies = Array.from({ length: count }, () =>
        randomBytes(random, Math.floor(random() * 3000)),
      );
      const types = bodies.map((_, i) =>
        i % 3 === 0 ? 'application/dicom' : i % 3 === 1 ? 'application/octet-stream' : 'image/jpeg',
      );
      const headers = bodies.map((_, i) =>
        i % 2 === 0 ? { 'Content-Location': `/frames/${i + 1}` } : undefined,
      );
      const parts: MultipartWriterPart[] = bodies.map((body, i) => ({
        contentType: types[i]!,
        ...(headers[i] ? { headers: headers[i] } : {}),
        // Alternate buffered and streamed bodies.
        body: i % 2 === 0 ? body : chunked(body, 1 + Math.floor(random() * 500)),
        length: body.length,
      }));
      const bytes = await collectBytes(multipartBody(parts, boundary));
      assert.equal(
        multipartLength(
          bodies.map((b) => b.length),
          types,
          boundary,
          headers,
        ),
        bytes.length,
        `${count} parts`,
      );

      const parsed = [];
      for await (const part of parseMultipart(
        chunked(bytes, () => 1 + Math.floor(random() * 4096)),
        multipartContentType(boundary),
      )) {
        parsed.push({
          type: part.contentType,
          location: part.contentLocation,
          body: Buffer.from(await readPartBody(part)),
        });
      }
      assert.equal(parsed.length, count);
      parsed.forEach((p, i) => {
        assert.equal(p.type, types[i]);
        assert.equal(p.location, headers[i]?.['Content-Location']);
        assert.ok(p.body.equals(bodies[i]!), `part ${i} of ${count}`);
      });
    }
  });

  it('computes the length with one content type for all parts', async () => {
    const bodies = [latin1('x'.repeat(10)), latin1(''), latin1('yz')];
    const bytes = await collectBytes(
      multipartBody(
        bodies.map((body) => ({ contentType: 'application/dicom', body })),
        'q',
      ),
    );
    assert.equal(multipartLength([10, 0, 2], 'application/dicom', 'q'), bytes.length);
  });

  it('fails when a part produces a different number of bytes than declared', async () => {
    const parts = [{ contentType: 'application/dicom', body: chunksOf(latin1('abc')), length: 4 }];
    await assertMultipartError(collectBytes(multipartBody(parts, 'b')), 'LENGTH_MISMATCH');
  });

  it('refuses invalid boundaries, header injection and an empty part list', async () => {
    const one = [{ contentType: 'application/dicom', body: latin1('a') }];
    await assertMultipartError(
      collectBytes(multipartBody(one, 'bad boundary ')),
      'INVALID_ARGUMENT',
    );
    await assertMultipartError(
      collectBytes(multipartBody(one, 'x'.repeat(71))),
      'INVALID_ARGUMENT',
    );
    await assertMultipartError(
      collectBytes(
        multipartBody([{ contentType: 'application/dicom\r\nX-Evil: 1', body: latin1('a') }], 'b'),
      ),
      'INVALID_ARGUMENT',
    );
    await assertMultipartError(collectBytes(multipartBody([], 'b')), 'INVALID_ARGUMENT');
    assert.throws(() => multipartLength([], 'application/dicom', 'b'), MultipartError);
  });

  it('makes random boundaries that are valid and distinct', () => {
    const a = newBoundary();
    const b = newBoundary();
    assert.match(a, /^DICOMwebExplorer-[0-9a-f]{32}$/);
    assert.notEqual(a, b);
  });

  it('quotes a boundary that contains tspecials in the Content-Type', () => {
    assert.equal(
      multipartContentType('abc'),
      'multipart/related; type="application/dicom"; boundary=abc',
    );
    assert.equal(
      multipartContentType('a:b'),
      'multipart/related; type="application/dicom"; boundary="a:b"',
    );
    assert.equal(parseContentType(multipartContentType('a:b')).params['boundary'], 'a:b');
  });
});
