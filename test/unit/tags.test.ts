import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { lookupTag } from '../../src/dicom/dictionary';
import { ParserTag, Tag, parserKey } from '../../src/dicom/tags';

describe('named tags', () => {
  it('every Tag entry is the PS3.6 element of its keyword, in the DICOM JSON form', () => {
    for (const [keyword, tag] of Object.entries(Tag)) {
      assert.match(tag, /^[0-9A-F]{8}$/, `${keyword}: 8 upper-case hex digits (PS3.18 §F.2)`);
      assert.equal(lookupTag(tag)?.keyword, keyword, `${keyword} is not (${tag}) in PS3.6`);
    }
  });

  it('ParserTag keys the same elements the way dicom-parser does', () => {
    assert.equal(ParserTag.StudyInstanceUID, 'x0020000d');
    assert.equal(parserKey(Tag.PixelData), 'x7fe00010');
    assert.deepEqual(Object.keys(ParserTag), Object.keys(Tag));
    for (const [keyword, key] of Object.entries(ParserTag)) {
      assert.equal(key, `x${Tag[keyword as keyof typeof Tag].toLowerCase()}`);
    }
  });

  it('no tag is written as a hex string in src/ outside the dictionary and this table', () => {
    // The dictionary (generated) and tags.ts itself are the only places a tag number is spelled.
    const root = join(__dirname, '..', '..', '..', 'src');
    const skip = new Set(['dicom/dictionaryData.ts', 'dicom/tags.ts']);
    const tagLike: string[] = [];
    for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      const path = file.split(sep).join('/');
      if (!path.endsWith('.ts') || skip.has(path)) continue;
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .forEach((line, index) => {
          for (const match of line.matchAll(/'x?([0-9A-Fa-f]{8})'/g)) {
            if (lookupTag(match[1]!)?.keyword)
              tagLike.push(`src/${path}:${index + 1}: ${line.trim()}`);
          }
        });
    }
    assert.ok(readdirSync(root).includes('dicom'), `read the sources at ${root}`);
    assert.deepEqual(tagLike, []);
  });
});
