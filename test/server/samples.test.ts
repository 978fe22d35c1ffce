/**
 * The sample files the extension ships (media/samples/: "Add Sample Data", the CLI's
 * `--seed`, `npm start`) are data made once by scripts/gen-samples.mjs. They must stay what
 * that generator writes, byte for byte, and carry the seed tutorial's UIDs exactly, or the
 * tutorial's requests stop working against them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, matchesGlob } from 'node:path';
import { describe, it } from 'node:test';
import { readInstanceIdentity } from '../../src/dicom/part10';
import {
  SAMPLE_FILE_NAMES,
  SAMPLES_SEARCH_LEVELS,
  samplesDir,
  writeSeedFiles,
} from '../../src/server/samples';
import { makeSeedInstance } from '../support/seedData';
import { makeTempDir } from '../support/tempDirs';

const ROOT = join(__dirname, '..', '..', '..');
const SAMPLES = join(ROOT, 'media', 'samples');

/**
 * The seed tutorial's table ("Using DICOMweb Standard APIs with cURL", Azure DICOM
 * service), copied here as it is written there, not from the code under test.
 */
const TUTORIAL = [
  {
    file: 'green-square.dcm',
    study: '1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420',
    series: '1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652',
    instance: '1.2.826.0.1.3680043.8.498.12714725698140337137334606354172323212',
  },
  {
    file: 'red-triangle.dcm',
    study: '1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420',
    series: '1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652',
    instance: '1.2.826.0.1.3680043.8.498.47359123102728459884412887463296905395',
  },
  {
    file: 'blue-circle.dcm',
    study: '1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420',
    series: '1.2.826.0.1.3680043.8.498.77033797676425927098669402985243398207',
    instance: '1.2.826.0.1.3680043.8.498.13273713909719068980354078852867170114',
  },
];

const SHAPES = {
  'green-square.dcm': 'greenSquare',
  'red-triangle.dcm': 'redTriangle',
  'blue-circle.dcm': 'blueCircle',
} as const;

describe('the shipped sample files (media/samples)', () => {
  it('are the tutorial’s three files, in its table order', () => {
    assert.deepEqual(
      SAMPLE_FILE_NAMES,
      TUTORIAL.map((row) => row.file),
    );
  });

  it('are byte-identical to what scripts/gen-samples.mjs writes', async () => {
    const out = makeTempDir('dicomweb-gen-samples-');
    const script = join(ROOT, 'scripts', 'gen-samples.mjs');
    const run = spawnSync(process.execPath, [script, '--out', out], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    for (const name of SAMPLE_FILE_NAMES) {
      const generated = await readFile(join(out, name));
      const committed = await readFile(join(SAMPLES, name));
      assert.ok(
        committed.equals(generated),
        `media/samples/${name} differs from the generator's; run node scripts/gen-samples.mjs`,
      );
    }
  });

  it('are the seed instances the tests draw (test/support/seedData.ts)', async () => {
    for (const name of SAMPLE_FILE_NAMES) {
      const committed = await readFile(join(SAMPLES, name));
      const drawn = makeSeedInstance(SHAPES[name as keyof typeof SHAPES]);
      assert.ok(committed.equals(Buffer.from(drawn)), name);
    }
  });

  it('carry the tutorial’s Study, Series and SOP Instance UIDs', async () => {
    for (const row of TUTORIAL) {
      const identity = await readInstanceIdentity(join(SAMPLES, row.file));
      assert.deepEqual(
        {
          study: identity.studyInstanceUid,
          series: identity.seriesInstanceUid,
          instance: identity.sopInstanceUid,
        },
        { study: row.study, series: row.series, instance: row.instance },
        row.file,
      );
    }
  });

  it('stay small (the VSIX holds them) and are packaged by .vscodeignore', async () => {
    let total = 0;
    for (const name of SAMPLE_FILE_NAMES) total += (await stat(join(SAMPLES, name))).size;
    assert.ok(total < 64 * 1024, `${total} bytes`);
    const patterns = (await readFile(join(ROOT, '.vscodeignore'), 'utf8'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const name of SAMPLE_FILE_NAMES) {
      // vsce's rule: the last pattern that matches a path decides; `!` lets it through.
      let kept = true;
      for (const pattern of patterns) {
        const negated = pattern.startsWith('!');
        if (matchesGlob(`media/samples/${name}`, negated ? pattern.slice(1) : pattern))
          kept = negated;
      }
      assert.ok(kept, `media/samples/${name} is left out of the package`);
    }
  });
});

describe('writeSeedFiles (Add Sample Data, the CLI’s --seed, npm start)', () => {
  it('finds media/samples above the compiled code', async () => {
    assert.equal(await samplesDir(), SAMPLES);
  });

  it('looks for them at most SAMPLES_SEARCH_LEVELS folders up, never in any folder above', async () => {
    const root = makeTempDir('dicomweb-samples-');
    await mkdir(join(root, 'media', 'samples'), { recursive: true });
    await writeFile(join(root, 'media', 'samples', SAMPLE_FILE_NAMES[0]!), 'x');
    const within = join(root, ...Array(SAMPLES_SEARCH_LEVELS).fill('d'));
    await mkdir(join(within, 'd'), { recursive: true });
    assert.equal(await samplesDir(within), join(root, 'media', 'samples'));
    await assert.rejects(samplesDir(join(within, 'd')), /not found within 3 folders above/);
  });

  it('writes the three files into a new folder, in the tutorial’s order, as shipped', async () => {
    const dir = join(makeTempDir('dicomweb-samples-'), 'nested', 'samples');
    const paths = await writeSeedFiles(dir);
    assert.deepEqual(
      paths,
      SAMPLE_FILE_NAMES.map((name) => join(dir, name)),
    );
    for (const name of SAMPLE_FILE_NAMES) {
      const written = await readFile(join(dir, name));
      assert.ok(written.equals(await readFile(join(SAMPLES, name))), name);
    }
  });

  it('replaces files of the same names already there (a second Add Sample Data)', async () => {
    const dir = makeTempDir('dicomweb-samples-');
    await writeSeedFiles(dir);
    const again = await writeSeedFiles(dir);
    assert.equal(again.length, 3);
    for (const name of SAMPLE_FILE_NAMES)
      assert.ok((await readFile(join(dir, name))).equals(await readFile(join(SAMPLES, name))));
  });
});
