/**
 * MultipartPushParser (the synchronous parser of the socket-read download) against
 * parseMultipart, the streaming parser every other answer goes through: the same bodies,
 * cut into chunks at random, must give the same parts or the same error code. Every chunk
 * is written from one scratch buffer that is scribbled over after each write, as the
 * socket reader refills its buffer, so a view kept past `write` shows up as wrong bytes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MultipartError,
  MultipartPushParser,
  parseMultipart,
  readPartBody,
} from '../../src/mime/multipart';
import { rng } from '../support/random';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

interface Parsed {
  parts: Array<{ headers: Record<string, string>; body: string }>;
  error?: string;
}

/** The push parser over `data` cut at `cuts`, each chunk copied into one reused scratch buffer. */
function pushParse(
  data: Buffer,
  boundary: string,
  cuts: number[],
  maxHeaderBytes?: number,
): Parsed {
  const parts: Parsed['parts'] = [];
  const scratch = Buffer.alloc(Math.max(1, data.length));
  let body: Buffer[] = [];
  const parser = new MultipartPushParser(
    boundary,
    {
      onPart: (headers, index) => {
        assert.equal(index, parts.length);
        body = [];
        parts.push({ headers, body: '' });
      },
      onData: (view) => body.push(Buffer.from(view)),
      onPartEnd: (index) => {
        parts[index]!.body = Buffer.concat(body).toString('latin1');
      },
    },
    { maxHeaderBytes },
  );
  try {
    let from = 0;
    for (const to of [...cuts, data.length]) {
      if (to <= from) continue;
      const n = data.copy(scratch, 0, from, to);
      parser.write(scratch.subarray(0, n));
      scratch.fill(0x2d, 0, n); // "-" everywhere: a kept view now reads as delimiter junk
      from = to;
    }
    parser.end();
    return { parts };
  } catch (error) {
    assert.ok(error instanceof MultipartError, `expected a MultipartError, got ${String(error)}`);
    return { parts, error: error.code };
  }
}

/** The streaming parser over the same bytes (one chunk: it has its own chunking tests). */
async function streamParse(
  data: Buffer,
  boundary: string,
  maxHeaderBytes?: number,
): Promise<Parsed> {
  const parts: Parsed['parts'] = [];
  try {
    for await (const part of parseMultipart(
      (async function* () {
        yield data;
      })(),
      `multipart/related; boundary="${boundary}"`,
      { maxHeaderBytes },
    )) {
      parts.push({
        headers: part.headers,
        body: Buffer.from(await readPartBody(part)).toString('latin1'),
      });
    }
    return { parts };
  } catch (error) {
    assert.ok(error instanceof MultipartError);
    return { parts, error: error.code };
  }
}

function randomCuts(random: () => number, length: number): number[] {
  const cuts: number[] = [];
  for (let at = 0; at < length;) {
    at += 1 + Math.floor(random() * (random() < 0.3 ? 4 : 200));
    cuts.push(Math.min(at, length));
  }
  return cuts;
}

/** A body with the traps of RFC 2046 §5.1.1: boundary-like data, CR/LF at the edges, padding. */
function randomBody(random: () => number, boundary: string): Buffer {
  const pieces = [
    '\r\n',
    '\r',
    '\n',
    `--${boundary}`,
    `\r\n--${boundary}x`,
    `\r\n--${boundary}-`,
    '--',
    'DICM',
    '\0\xff',
    ' ',
  ];
  const text = (max: number): string => {
    let s = '';
    const n = Math.floor(random() * max);
    for (let i = 0; i < n; i++)
      s +=
        random() < 0.3
          ? pieces[Math.floor(random() * pieces.length)]
          : String.fromCharCode(Math.floor(random() * 256));
    return s;
  };
  let body = random() < 0.5 ? text(20).replace(/\r\n--/g, '') : '';
  const count = Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    body += `${i === 0 && body === '' ? '' : '\r\n'}--${boundary}${random() < 0.2 ? ' \t' : ''}\r\n`;
    if (random() < 0.8) body += `Content-Type: application/dicom\r\nX-Part: ${i}\r\n`;
    body += `\r\n${text(300)}`;
  }
  if (random() < 0.85) body += `\r\n--${boundary}--${random() < 0.5 ? '\r\n' + text(20) : ''}`;
  return latin1(body);
}

describe('MultipartPushParser', () => {
  it('gives the parts parseMultipart gives, or the same error, for 400 random bodies cut at random', async () => {
    let errors = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const random = rng(seed);
      const boundary = random() < 0.5 ? 'abc' : 'DICOMwebBoundary-9f8e';
      const data = randomBody(random, boundary);
      const expected = await streamParse(data, boundary);
      if (expected.error) errors++;
      const got = pushParse(data, boundary, randomCuts(random, data.length));
      if (expected.error) assert.equal(got.error, expected.error, `seed ${seed}`);
      else assert.deepEqual(got, expected, `seed ${seed}`);
    }
    // Both outcomes were exercised: well-formed bodies and broken ones.
    assert.ok(errors > 20 && errors < 380, `${errors} of 400 bodies were errors`);
  });

  it('gives the same parts for every two-chunk split of a body with boundary-like data', async () => {
    const data = latin1(
      'pre\r\n--b\r\nContent-Type: a/b\r\n\r\nx\r\n--bb\r\n--b-\r\n\r\n--b\r\n\r\n\r\n\r\n--b--\r\nepilogue',
    );
    const expected = await streamParse(data, 'b');
    assert.deepEqual(
      expected.parts.map((p) => p.body),
      ['x\r\n--bb\r\n--b-\r\n', '\r\n'],
    );
    for (let cut = 0; cut <= data.length; cut++)
      assert.deepEqual(pushParse(data, 'b', [cut]), expected, `cut at ${cut}`);
    assert.deepEqual(
      pushParse(
        data,
        'b',
        Array.from({ length: data.length }, (_, i) => i + 1),
      ),
      expected,
      'one byte at a time',
    );
  });

  it('fails like the streaming parser: empty, no delimiter, cut off, headers too large', async () => {
    assert.equal(pushParse(Buffer.alloc(0), 'b', []).error, 'TRUNCATED');
    assert.equal(pushParse(latin1('no delimiter here'), 'b', [3]).error, 'MALFORMED');
    assert.equal(pushParse(latin1('--b\r\n\r\nhalf a part'), 'b', [5]).error, 'TRUNCATED');
    assert.equal(pushParse(latin1('--b\r\nContent-Type: a'), 'b', [9]).error, 'TRUNCATED');
    const big = latin1(`--b\r\nX: ${'y'.repeat(300)}\r\n\r\nz\r\n--b--`);
    assert.equal(pushParse(big, 'b', [10, 100], 256).error, 'HEADERS_TOO_LARGE');
    assert.equal((await streamParse(big, 'b', 256)).error, 'HEADERS_TOO_LARGE');
  });

  it('refuses writes after an error and ignores the epilogue', () => {
    const parser = new MultipartPushParser(
      'b',
      { onPart: () => undefined, onData: () => undefined, onPartEnd: () => undefined },
      { maxHeaderBytes: 4 },
    );
    assert.throws(
      () => parser.write(latin1('--b\r\nLong: header\r\n\r\n')),
      (e: unknown) => e instanceof MultipartError && e.code === 'HEADERS_TOO_LARGE',
    );
    assert.throws(
      () => parser.write(latin1('more')),
      (e: unknown) => e instanceof MultipartError && e.code === 'HEADERS_TOO_LARGE',
    );
    const closed = new MultipartPushParser('b', {
      onPart: () => undefined,
      onData: () => undefined,
      onPartEnd: () => undefined,
    });
    closed.write(latin1('--b\r\n\r\nx\r\n--b--'));
    assert.equal(closed.closed, true);
    closed.write(latin1('\r\n--b\r\n anything at all'));
    closed.end();
  });
});
