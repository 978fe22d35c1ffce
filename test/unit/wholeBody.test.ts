import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readWholeBody } from '../../src/mime/body';

describe('readWholeBody', () => {
  it('joins the chunks of a body in order', async () => {
    const body = Readable.from([Buffer.from('ab'), new Uint8Array([0x63]), Buffer.from('de')]);
    assert.equal((await readWholeBody(body)).toString(), 'abcde');
  });

  it('stops at the cap with the caller’s error and reads no further', async () => {
    let produced = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        produced++;
        yield Buffer.alloc(1024);
      }
    }
    await assert.rejects(
      readWholeBody(endless(), 10 * 1024, (limit) => new Error(`over ${limit}`)),
      /over 10240/,
    );
    assert.equal(produced, 11, 'one chunk past the cap, then the generator is closed');
  });

  it('a body exactly at the cap is whole', async () => {
    const body = Readable.from([Buffer.alloc(4), Buffer.alloc(4)]);
    assert.equal((await readWholeBody(body, 8)).byteLength, 8);
  });
});
