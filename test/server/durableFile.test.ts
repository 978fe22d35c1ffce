/**
 * replaceFileDurably (src/server/durableFile.ts), the one way the local server replaces its
 * state files: the whole new text or the old file, never a mix, and never through a link.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { replaceFileDurably } from '../../src/server/durableFile';
import { tempDir } from './helpers';

describe('replaceFileDurably', () => {
  it('creates, then replaces the whole file, leaving no temporary file', async () => {
    const dir = tempDir('durable');
    const path = join(dir, 'state.json');
    await replaceFileDurably(path, '{"v":1}');
    assert.equal(readFileSync(path, 'utf8'), '{"v":1}');
    await replaceFileDurably(path, '{"v":2,"longer":true}');
    assert.equal(readFileSync(path, 'utf8'), '{"v":2,"longer":true}');
    assert.deepEqual(readdirSync(dir), ['state.json']);
  });

  it('never writes through a link planted where its temporary file goes', async () => {
    const dir = tempDir('durable-link');
    const outside = join(tempDir('durable-outside'), 'victim.txt');
    writeFileSync(outside, 'untouched');
    const path = join(dir, 'state.json');
    // The temporary file's name is predictable (the pid): a link there must not be followed.
    symlinkSync(outside, `${path}.${process.pid}.tmp`);
    await replaceFileDurably(path, 'new state');
    assert.equal(readFileSync(outside, 'utf8'), 'untouched');
    assert.equal(readFileSync(path, 'utf8'), 'new state');
    assert.ok(!existsSync(`${path}.${process.pid}.tmp`));
  });
});
