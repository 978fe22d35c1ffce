/**
 * Frames read one at a time from the file (src/preview/headerFrameSource.ts) equal the frames
 * of the whole-file reader (FileFrameSource), for every sample file of the catalog (every
 * transfer syntax, single- and multi-frame), and the header's info is the same.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileFrameSource } from '../../src/preview/frameSource';
import { HeaderFrameSource } from '../../src/preview/headerFrameSource';
import { NotAnImageError } from '../../src/imaging/header/imageInfo';
import { ensureSampleFiles, type SampleCatalog } from '../support/sampleFiles';
import { encapsulatedPixelData, imageInstanceElements, writePart10 } from '../support/dicomWriter';
import { makeTempDir } from '../support/tempDirs';

let catalog: SampleCatalog;
const dir = makeTempDir('dicomweb-header-frames-');

before(async () => {
  catalog = await ensureSampleFiles();
});

async function sameFrames(path: string): Promise<number> {
  const whole = new FileFrameSource(path, () => readFile(path));
  const byHeader = new HeaderFrameSource(path);
  const expected = await whole.open();
  const actual = await byHeader.open();
  assert.deepEqual(actual, expected, `${path}: the same info and overlay`);
  for (let n = 1; n <= expected.info.numberOfFrames; n++) {
    const a = await byHeader.frame(n);
    const b = await whole.frame(n);
    assert.deepEqual(new Uint8Array(a.bytes), new Uint8Array(b.bytes), `${path}: frame ${n}`);
    assert.equal(a.transferSyntaxUid, b.transferSyntaxUid);
  }
  return expected.info.numberOfFrames;
}

describe('HeaderFrameSource', () => {
  test('every sample with an image: the same info and frames as the whole-file reader', async () => {
    let files = 0;
    for (const sample of Object.values(catalog.files)) {
      if (sample.path.endsWith('test-SR.dcm')) continue;
      await sameFrames(sample.path);
      files++;
    }
    assert.ok(files >= 25, `${files} files compared`);
  });

  test('a file without Pixel Data (SR): NotAnImageError, as the preview says', async () => {
    await assert.rejects(
      new HeaderFrameSource(catalog.files.structuredReport.path).open(),
      NotAnImageError,
    );
  });

  test("not DICOM: NotAnImageError with the reader's sentence", async () => {
    await assert.rejects(
      new HeaderFrameSource(catalog.broken.noPreamble).open(),
      /Not a DICOM Part 10 file/,
    );
  });

  test('JPEG frames over several fragments without an offset table: split at SOI', async () => {
    const jpegs = catalog.files.jpegBaselineRgb;
    const frame = await new HeaderFrameSource(jpegs.path).frame(1);
    // Split the one JPEG in two fragments, twice over: 2 frames, 4 fragments, empty BOT.
    const half = Math.floor(frame.bytes.length / 4) * 2;
    const fragments = [frame.bytes.subarray(0, half), frame.bytes.subarray(half)];
    const header = writePart10(
      imageInstanceElements({
        studyUid: '1.2.3',
        seriesUid: '1.2.3.4',
        sopInstanceUid: '1.2.3.4.5',
        patientName: 'Jpeg^Split',
        patientId: 'J',
        studyDate: '20260101',
        modality: 'OT',
        rows: 100,
        columns: 100,
        samplesPerPixel: 3,
        photometric: 'RGB',
        bitsAllocated: 8,
        numberOfFrames: 2,
        instanceNumber: 1,
        seriesNumber: 1,
        studyDescription: 's',
        seriesDescription: 's',
        accessionNumber: 'a',
      }),
      { transferSyntaxUid: '1.2.840.10008.1.2.4.50' },
    );
    const path = join(dir, 'split.dcm');
    await writeFile(
      path,
      Buffer.concat([header, encapsulatedPixelData([...fragments, ...fragments])]),
    );
    assert.equal(await sameFrames(path), 2);
    const padded = new Uint8Array(frame.bytes.length + (frame.bytes.length % 2));
    padded.set(frame.bytes);
    assert.deepEqual(new Uint8Array((await new HeaderFrameSource(path).frame(2)).bytes), padded);
  });
});
