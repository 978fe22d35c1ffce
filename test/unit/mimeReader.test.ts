/**
 * src/mime/reader.ts, the pull wrapper over the push parser: where the events of one source
 * chunk meet a consumer that reads part by part. multipart.test.ts holds the grammar's cases;
 * these hold what the wrapper adds: events queued from one chunk, an error that comes after
 * a part that ended well, the epilogue read to the end, and reads out of order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MultipartError } from '../../src/mime/errors';
import { parseMultipart, readPartBody } from '../../src/mime/reader';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const CT = 'multipart/related; type="application/octet-stream"; boundary=b';

/** A source that records whether it was read to its end or closed early. */
function recordingSource(chunks: Buffer[]): {
  source: AsyncIterable<Uint8Array>;
  state: { readToEnd: boolean; returned: boolean };
} {
  const state = { readToEnd: false, returned: false };
  async function* generate(): AsyncGenerator<Uint8Array> {
    try {
      for (const chunk of chunks) yield chunk;
      state.readToEnd = true;
    } finally {
      if (!state.readToEnd) state.returned = true;
    }
  }
  return { source: generate(), state };
}

const isCode = (code: MultipartError['code']) => (error: unknown) =>
  error instanceof MultipartError && error.code === code;

describe('parseMultipart over the push parser', () => {
  it('hands out 1000 parts that arrived in one chunk, each with its own body', async () => {
    let text = '';
    for (let i = 0; i < 1000; i++)
      text += `--b\r\nContent-Location: frames/${i + 1}\r\n\r\n${i}\r\n`;
    const { source } = recordingSource([latin1(`${text}--b--\r\n`)]);
    const seen: string[] = [];
    for await (const part of parseMultipart(source, CT)) {
      const body = Buffer.from(await readPartBody(part)).toString('latin1');
      assert.equal(part.contentLocation, `frames/${part.index + 1}`);
      seen.push(body);
    }
    assert.equal(seen.length, 1000);
    assert.deepEqual(seen.slice(0, 3), ['0', '1', '2']);
    assert.equal(seen[999], '999');
  });

  it('gives a part that ended well whole, then fails on the bad headers after it in the same chunk', async () => {
    const { source } = recordingSource([
      latin1('--b\r\n\r\nfirst\r\n--b\r\nno colon here\r\n\r\nsecond\r\n--b--'),
    ]);
    const iterator = parseMultipart(source, CT);
    const first = await iterator.next();
    assert.equal(first.done, false);
    if (first.done) return;
    assert.equal(Buffer.from(await readPartBody(first.value)).toString('latin1'), 'first');
    await assert.rejects(iterator.next(), isCode('MALFORMED'));
  });

  it('reads the epilogue to the end of the source, so the connection can be reused', async () => {
    const { source, state } = recordingSource([
      latin1('--b\r\n\r\nx\r\n--b--\r\nepilogue'),
      latin1(' more epilogue'),
      latin1(' and more'),
    ]);
    const bodies: string[] = [];
    for await (const part of parseMultipart(source, CT))
      bodies.push(Buffer.from(await readPartBody(part)).toString('latin1'));
    assert.deepEqual(bodies, ['x']);
    assert.deepEqual(state, { readToEnd: true, returned: false });
  });

  it("refuses a body read after the consumer moved on, without taking the next part's bytes", async () => {
    const { source } = recordingSource([
      latin1('--b\r\n\r\none\r\n--b\r\n\r\n'),
      latin1('two\r\n--b--'),
    ]);
    const iterator = parseMultipart(source, CT);
    const first = await iterator.next();
    if (first.done) return assert.fail('no first part');
    const staleBody = first.value.body[Symbol.asyncIterator]();
    const second = await iterator.next();
    if (second.done) return assert.fail('no second part');
    await assert.rejects(staleBody.next(), isCode('INVALID_STATE'));
    assert.equal(Buffer.from(await readPartBody(second.value)).toString('latin1'), 'two');
    assert.equal((await iterator.next()).done, true);
  });

  it('refuses a second read of one body', async () => {
    const { source } = recordingSource([latin1('--b\r\n\r\nonce\r\n--b--')]);
    for await (const part of parseMultipart(source, CT)) {
      assert.equal(Buffer.from(await readPartBody(part)).toString('latin1'), 'once');
      await assert.rejects(readPartBody(part), isCode('INVALID_STATE'));
    }
  });

  it('refuses to read the next part while a body read is waiting for the source', async () => {
    let release: (() => void) | undefined;
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield latin1('--b\r\n\r\nstart');
      await new Promise<void>((resolve) => (release = resolve));
      yield latin1('\r\n--b--');
    }
    const iterator = parseMultipart(slow(), CT);
    const first = await iterator.next();
    if (first.done) return assert.fail('no first part');
    const body = first.value.body[Symbol.asyncIterator]();
    assert.equal(Buffer.from((await body.next()).value as Uint8Array).toString('latin1'), 'start');
    const waiting = body.next();
    await assert.rejects(iterator.next(), isCode('INVALID_STATE'));
    release?.();
    await waiting.catch(() => undefined);
  });

  it("stops at PART_TOO_LARGE when a part body passes the caller's limit", async () => {
    const { source } = recordingSource([latin1(`--b\r\n\r\n${'z'.repeat(100)}\r\n--b--`)]);
    for await (const part of parseMultipart(source, CT)) {
      await assert.rejects(readPartBody(part, 99), isCode('PART_TOO_LARGE'));
      break;
    }
  });
});
