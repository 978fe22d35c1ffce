/**
 * The published extension (.vsix) holds only what .vscodeignore lets through: every bundle
 * the build writes must be among it, or the packaged extension fails where the repository
 * works (a download's worker thread, the local server, the webview).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, matchesGlob } from 'node:path';
import { describe, it } from 'node:test';
import { CODEC_FILES } from '../../src/imaging/decode/codecs';

const ROOT = join(__dirname, '..', '..', '..');

/** vsce's rule: the last pattern that matches a path decides; `!` lets it through. */
function packaged(path: string, patterns: string[]): boolean {
  let kept = true;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (matchesGlob(path, negated ? pattern.slice(1) : pattern)) kept = negated;
  }
  return kept;
}

describe('.vscodeignore', () => {
  const patterns = readFileSync(join(ROOT, '.vscodeignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it('keeps every bundle scripts/build.mjs writes, and the manifest', () => {
    const outputs = [
      ...readFileSync(join(ROOT, 'scripts', 'build.mjs'), 'utf8').matchAll(
        /'(dist\/[\w/.-]+\.js)'/g,
      ),
    ].map((match) => match[1]!);
    assert.ok(
      outputs.includes('dist/extension.js') &&
        outputs.includes('dist/downloadWorker.js') &&
        outputs.includes('dist/thumbnailWorker.js'),
      outputs.join(', '),
    );
    for (const file of [...outputs, 'package.json'])
      assert.ok(packaged(file, patterns), `${file} is left out of the package`);
  });

  it('keeps every codec the webviews and the Node threads load, copied by the build', () => {
    // The preview, the local server and the thumbnail thread (dist/thumbnailWorker.js) load
    // the same files from dist/codecs/ (src/imaging/node/codecLoader.ts): none is in
    // node_modules once packaged.
    const build = readFileSync(join(ROOT, 'scripts', 'build.mjs'), 'utf8');
    for (const codec of Object.values(CODEC_FILES)) {
      for (const file of [codec.script, codec.wasm]) {
        assert.ok(build.includes(`'${file}'`), `scripts/build.mjs does not copy ${file}`);
        assert.ok(packaged(`dist/codecs/${file}`, patterns), `dist/codecs/${file} is left out`);
      }
    }
  });

  it('leaves sources, tests and source maps out', () => {
    for (const file of [
      'src/extension.ts',
      'test/unit/packaging.test.ts',
      'dist/extension.js.map',
      'node_modules/undici/index.js',
    ]) {
      assert.equal(packaged(file, patterns), false, `${file} would be packaged`);
    }
  });
});
