/**
 * The header reader of the custom editor (src/dicom/headerReader.ts): the header of a Part
 * 10 file read through a file handle, Pixel Data located without reading it, and every
 * stated limit hit. On real files (the sample catalog) and on files the test writer builds.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEFAULT_HEADER_LIMITS,
  locateFragments,
  readDicomHeader,
  readFileRange,
} from '../../src/dicom/headerReader';
import { buildTagTable, refreshPixelDataRow } from '../../src/dicom/tagTable';
import { ParserTag } from '../../src/dicom/tags';
import { ensureSampleFiles, type SampleCatalog } from '../support/sampleFiles';
import {
  encapsulatedPixelData,
  imageInstanceElements,
  writePart10,
  type ImageInstanceParams,
} from '../support/dicomWriter';
import { makeTempDir } from '../support/tempDirs';

const dir = makeTempDir('dicomweb-header-');
let catalog: SampleCatalog;

before(async () => {
  catalog = await ensureSampleFiles();
});

const BASE: ImageInstanceParams = {
  studyUid: '1.2.3.4',
  seriesUid: '1.2.3.4.5',
  sopInstanceUid: '1.2.3.4.5.6',
  patientName: 'Header^Test',
  patientId: 'H1',
  studyDate: '20260101',
  modality: 'OT',
  rows: 16,
  columns: 16,
  samplesPerPixel: 1,
  photometric: 'MONOCHROME2',
  bitsAllocated: 16,
  instanceNumber: 1,
  seriesNumber: 1,
  studyDescription: 'header reader',
  seriesDescription: 'header reader',
  accessionNumber: 'A1',
};

/** A native multi-frame file whose header carries a private OB of `paddingBytes` bytes. */
async function nativeFile(name: string, frames: number, paddingBytes = 0): Promise<string> {
  const pixels = new Uint16Array(16 * 16 * frames).map((_, i) => i % 65536);
  const extraElements = paddingBytes
    ? [
        { tag: 0x00090010, vr: 'LO', value: 'HEADER TEST' },
        { tag: 0x00091001, vr: 'OB', value: new Uint8Array(paddingBytes).fill(0x78) },
      ]
    : [];
  const bytes = writePart10(
    imageInstanceElements({ ...BASE, numberOfFrames: frames, pixelData: pixels, extraElements }),
  );
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** An encapsulated file with one fragment per frame (empty Basic Offset Table). */
async function encapsulatedFile(name: string, frames: Uint8Array[]): Promise<string> {
  const header = writePart10(imageInstanceElements({ ...BASE, numberOfFrames: frames.length }), {
    transferSyntaxUid: '1.2.840.10008.1.2.4.50',
  });
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([header, encapsulatedPixelData(frames)]));
  return path;
}

describe('readDicomHeader on real files', () => {
  test('CT_small: a sound file, Pixel Data located, no problem', async () => {
    const header = await readDicomHeader(catalog.files.ctSmall.path);
    assert.deepEqual(header.problems, []);
    assert.equal(header.fileSize, 39206);
    assert.equal(header.pixelData?.dataOffset, 6300);
    assert.equal(header.pixelData?.length, 32768);
    assert.equal(header.pixelData?.vr, 'OW');
    assert.equal(header.pixelData?.truncated, false);
    assert.ok(header.dataSet?.elements[ParserTag.PatientName]);
  });

  test("pydicom's MR_truncated.dcm: says where it ends and keeps the header", async () => {
    const header = await readDicomHeader(catalog.broken.truncatedMr);
    assert.equal(header.problems.length, 1);
    assert.match(
      header.problems[0]!,
      /truncated inside Pixel Data: .* needs 8,192 bytes, the file has 8,130/,
    );
    assert.equal(header.pixelData?.truncated, true);
    assert.ok(header.dataSet?.elements[ParserTag.Rows], 'the elements before Pixel Data are kept');
  });

  test("pydicom's rtplan_truncated.dcm (cut inside a sequence): the partial data set", async () => {
    const header = await readDicomHeader(catalog.broken.truncatedRtPlan);
    assert.equal(header.problems.length, 1);
    assert.match(header.problems[0]!, /^The file is truncated/);
    // DoseReferenceSequence (300A,0010) comes before the cut.
    assert.ok(header.dataSet?.elements.x300a0010?.items?.length);
  });

  test('a file without preamble and DICM: not Part 10, nothing parsed', async () => {
    const header = await readDicomHeader(catalog.broken.noPreamble);
    assert.deepEqual(header.problems, [
      'Not a DICOM Part 10 file: no "DICM" after the 128-byte preamble (PS3.10 §7.1).',
    ]);
    assert.equal(header.dataSet, undefined);
  });

  test('a deflated file is read whole (PS3.5 §A.5), within its cap', async () => {
    const path = catalog.files.deflated.path;
    const header = await readDicomHeader(path, { initialBytes: 1024 });
    assert.deepEqual(header.problems, []);
    assert.equal(header.inMemory, true);
    assert.ok(header.pixelData && header.pixelData.length > 0);
    const capped = await readDicomHeader(path, { initialBytes: 1024, maxDeflatedFileBytes: 2048 });
    assert.equal(capped.inMemory, false);
    assert.match(capped.problems[0]!, /deflated file .* larger than the 2 KiB allowed/);
    assert.ok(capped.dataSet?.elements[ParserTag.TransferSyntaxUID], 'the File Meta is kept');
  });
});

describe('readDicomHeader on written files', () => {
  test('reads the header only: a long header grows the chunk, Pixel Data is never read', async () => {
    const path = await nativeFile('long-header.dcm', 400, 200_000);
    const header = await readDicomHeader(path, { initialBytes: 4096 });
    assert.deepEqual(header.problems, []);
    const pixels = header.pixelData!;
    assert.equal(pixels.length, 16 * 16 * 2 * 400);
    assert.ok(header.bytesRead > 200_000, 'the chunk grew past the long element');
    assert.ok(
      header.bytesRead < pixels.dataOffset + pixels.length / 2,
      `read ${header.bytesRead} bytes of a ${header.fileSize}-byte file`,
    );
    const frame2 = await readFileRange(path, pixels.dataOffset + 512, 512);
    assert.equal(Buffer.from(frame2).readUInt16LE(0), 256, 'frame 2 starts with pixel 256');
  });

  test('the header cap: elements before it are kept, the problem names the cap', async () => {
    const path = await nativeFile('over-cap.dcm', 1, 100_000);
    const header = await readDicomHeader(path, { initialBytes: 1024, maxHeaderBytes: 16384 });
    assert.equal(header.bytesRead, 16384);
    assert.deepEqual(header.problems, [
      'The header is longer than the 16 KiB read to find Pixel Data: the elements after that are not shown.',
    ]);
    assert.ok(header.dataSet?.elements[ParserTag.SOPClassUID], 'elements before the cap are kept');
    assert.equal(header.dataSet?.elements[ParserTag.PatientName], undefined);
    assert.equal(header.pixelData, undefined);
  });

  test('encapsulated: fragments located by hopping item headers, bytes read back exactly', async () => {
    const frames = [1, 2, 3, 4, 5].map((n) => new Uint8Array(100 + n * 2).fill(n));
    const path = await encapsulatedFile('encapsulated.dcm', frames);
    const header = await readDicomHeader(path);
    assert.deepEqual(header.problems, []);
    const encapsulated = header.pixelData!.encapsulated!;
    assert.deepEqual(encapsulated.basicOffsetTable, []);
    assert.equal(encapsulated.fragments.length, 5);
    for (const [index, fragment] of encapsulated.fragments.entries()) {
      assert.deepEqual(
        new Uint8Array(await readFileRange(path, fragment.offset, fragment.length)),
        frames[index],
      );
    }
    assert.equal(encapsulated.fragments[1]!.itemOffset, 8 + 102);
  });

  test('deferFragments: the header alone, then locateFragments once for every caller', async () => {
    const frames = [1, 2, 3].map((n) => new Uint8Array(50).fill(n));
    const path = await encapsulatedFile('deferred.dcm', frames);
    const header = await readDicomHeader(path, {}, { deferFragments: true });
    assert.equal(header.pixelData!.fragmentsPending, true);
    assert.equal(header.pixelData!.encapsulated, undefined);
    const table = buildTagTable(header.dataSet!, { pixelData: header.pixelData });
    const row = table.roots.find((node) => node.kind === 'pixelData')!;
    assert.equal(row.value, 'OB, encapsulated, 3 frames; locating its fragments…');
    await Promise.all([locateFragments(header), locateFragments(header)]);
    assert.equal(header.pixelData!.fragmentsPending, false);
    assert.equal(header.pixelData!.encapsulated!.fragments.length, 3);
    assert.equal(refreshPixelDataRow(table, header.pixelData!, header.dataSet!), row);
    assert.equal(
      row.value,
      'OB, encapsulated: 3 fragments, 150 bytes, 3 frames, empty Basic Offset Table',
    );
  });

  test('the fragment cap: the first fragments are located, the problem says so', async () => {
    const frames = Array.from({ length: 6 }, () => new Uint8Array(10));
    const path = await encapsulatedFile('many-fragments.dcm', frames);
    const header = await readDicomHeader(path, { maxFragments: 4 });
    assert.equal(header.pixelData!.encapsulated!.fragments.length, 4);
    assert.equal(header.pixelData!.truncated, true);
    assert.deepEqual(header.problems, [
      'Encapsulated Pixel Data has more than 4 fragments: only the first ones are located.',
    ]);
  });

  test('encapsulated Pixel Data cut inside a fragment', async () => {
    const frames = Array.from({ length: 3 }, () => new Uint8Array(1000));
    const whole = await readFile(await encapsulatedFile('cut-whole.dcm', frames));
    const path = join(dir, 'cut.dcm');
    await writeFile(path, whole.subarray(0, whole.length - 1500));
    const header = await readDicomHeader(path);
    assert.equal(header.pixelData!.encapsulated!.fragments.length, 1);
    assert.deepEqual(header.problems, [
      'The file is truncated inside fragment 2 of its encapsulated Pixel Data.',
    ]);
  });

  test('garbage, an empty file and a short file: a clear problem, never a throw', async () => {
    const garbage = join(dir, 'garbage.bin');
    await writeFile(garbage, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)));
    assert.match(
      (await readDicomHeader(garbage)).problems[0]!,
      /^Not a DICOM Part 10 file: no "DICM"/,
    );
    const empty = join(dir, 'empty.dcm');
    await writeFile(empty, '');
    assert.deepEqual((await readDicomHeader(empty)).problems, [
      'Not a DICOM Part 10 file: it has 0 bytes, fewer than the 128-byte preamble and "DICM" (PS3.10 §7.1).',
    ]);
  });

  test('garbage after a valid File Meta: malformed, the File Meta is shown', async () => {
    const meta = writePart10([
      { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
      { tag: 0x00080018, vr: 'UI', value: '1.2.3' },
    ]);
    const path = join(dir, 'meta-then-garbage.dcm');
    const garbage = Buffer.from([0x08, 0x00, 0x20, 0x00, 0x51, 0x51, 0xff, 0x7f, 1, 2, 3]);
    await writeFile(path, Buffer.concat([meta, garbage]));
    const header = await readDicomHeader(path);
    assert.equal(header.problems.length, 1);
    assert.match(header.problems[0]!, /^The file is (truncated|malformed)/);
    assert.ok(header.dataSet?.elements[ParserTag.TransferSyntaxUID]);
  });

  test('the stated defaults', () => {
    assert.deepEqual(DEFAULT_HEADER_LIMITS, {
      initialBytes: 262144,
      maxHeaderBytes: 67108864,
      maxDeflatedFileBytes: 268435456,
      maxFragments: 1048576,
    });
  });
});
