/**
 * De-identification (src/dicom/deidentify/) on real files of every transfer syntax family:
 * nothing the profile removes or replaces survives, at any nesting level (checked against
 * the generated table, not a list written here); Pixel Data is byte-identical; dcmtk's
 * dcmdump reads every output; UIDs stay consistent across a batch.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type * as dicomParser from 'dicom-parser';
import { DicomFileError, readDataSet } from '../../src/dicom/part10';
import { DeidentifyBatch, MAX_DATE_SHIFT_DAYS } from '../../src/dicom/deidentify/batch';
import { deidentify, planDeidentification } from '../../src/dicom/deidentify/engine';
import { deidentifyFiles, planFiles } from '../../src/dicom/deidentify/files';
import { PREVIEW_DETAILED_FILES, previewMarkdown } from '../../src/dicom/deidentify/report';
import {
  profileRowFor,
  resolveAction,
  type DeidentifyOption,
} from '../../src/dicom/deidentify/profile';
import { SUMMARY_CHARS, dummyValue, shiftDates, textOf } from '../../src/dicom/deidentify/values';
import { isValidUid, TransferSyntax } from '../../src/dicom/uids';
import {
  EXPLICIT_VR_BIG_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  encodeDataSet,
  imageInstanceElements,
  writePart10,
  type WriterElement,
} from '../support/dicomWriter';
import { ensureSampleFiles, type SampleCatalog, type SampleName } from '../support/sampleFiles';

const run = promisify(execFile);
const DCMDUMP = '/usr/bin/dcmdump';
const KEY = new Uint8Array(32).fill(7);

/** One sample per transfer syntax family, plus files with deep sequences. */
const SAMPLES: SampleName[] = [
  'mrSmall', // Explicit VR Little Endian
  'mrSmallImplicit', // Implicit VR Little Endian
  'mrSmallBigEndian', // Explicit VR Big Endian
  'deflated', // Deflated Explicit VR Little Endian
  'jpegBaselineRgb', // encapsulated: JPEG
  'j2kLossless', // encapsulated: JPEG 2000
  'rleMr', // encapsulated: RLE
  'rtDoseMultiFrame', // Implicit VR, referenced sequences
  'structuredReport', // SR: Content Sequence, nested items
  'daikonBigEndian',
  'daikonDeflated',
];

let catalog: SampleCatalog;
let work: string;
before(async () => {
  catalog = await ensureSampleFiles();
  work = await mkdtemp(join(tmpdir(), 'deid-test-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Found {
  path: string;
  tag: number;
  element: dicomParser.Element;
  dataSet: dicomParser.DataSet;
}

/** Every element at every nesting level, with its path. */
function walk(dataSet: dicomParser.DataSet, prefix = ''): Found[] {
  const found: Found[] = [];
  for (const [key, element] of Object.entries(dataSet.elements)) {
    const tag = parseInt(key.slice(1), 16) >>> 0;
    const path = `${prefix}${key}`;
    found.push({ path, tag, element, dataSet });
    element.items?.forEach((item, i) => {
      if (item.dataSet) found.push(...walk(item.dataSet, `${path}[${i}].`));
    });
  }
  return found;
}

function valueOf(found: Found): Uint8Array {
  const { element, dataSet } = found;
  return dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
}

function allUids(dataSet: dicomParser.DataSet): Set<string> {
  const uids = new Set<string>();
  for (const found of walk(dataSet)) {
    const text = textOf(valueOf(found));
    for (const part of text.split('\\')) if (/^\d+(\.\d+)+$/.test(part)) uids.add(part);
  }
  return uids;
}

/**
 * The class of properties the profile promises, for one output: no private attribute; every
 * attribute the table lists holds what its resolved action allows.
 */
function assertNothingSurvives(
  source: dicomParser.DataSet,
  output: dicomParser.DataSet,
  options: ReadonlySet<DeidentifyOption>,
): void {
  const sourceUids = allUids(source);
  const sourceValues = new Map(walk(source).map((f) => [f.path, textOf(valueOf(f))]));
  for (const found of walk(output)) {
    const group = found.tag >>> 16;
    assert.notEqual(group % 2, 1, `private attribute ${found.path} survived`);
    if (group === 0x0002) continue;
    const row = profileRowFor(found.tag);
    if (!row) continue;
    const { action } = resolveAction(row, options);
    const bytes = valueOf(found);
    const text = textOf(bytes);
    const what = `${found.path} (${row.name}, ${action})`;
    switch (action) {
      case 'X':
        assert.fail(`${what} should have been removed`);
        break;
      case 'Z':
        assert.ok(
          found.element.items ? found.element.items.length === 0 : bytes.length === 0,
          what,
        );
        break;
      case 'D':
      case 'U':
        if (found.element.items) {
          // A sequence kept for its UIDs (X/Z/U*) or emptied (D): checked item by item.
          if (action === 'D') assert.equal(found.element.items.length, 0, what);
          break;
        }
        for (const part of text.split('\\')) {
          assert.ok(!sourceUids.has(part) || part === '', `${what}: source UID ${part} survived`);
        }
        if (text !== '' && !/^\d+(\.\d+)+$/.test(text.split('\\')[0]!)) {
          const vr = found.element.vr ?? row.vr;
          const expected = dummyValue(vr);
          if (typeof expected === 'string') assert.equal(text, expected, what);
        }
        break;
      case 'C':
        if (!found.element.items && text !== '') {
          assert.notEqual(text, sourceValues.get(found.path), `${what}: value unchanged`);
        }
        break;
      case 'K':
        break;
    }
  }
}

function pixelBytes(dataSet: dicomParser.DataSet): Uint8Array | undefined {
  const element = dataSet.elements['x7fe00010'];
  if (!element) return undefined;
  return dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function dcmdump(bytes: Uint8Array, name: string): Promise<string> {
  const path = join(work, `${name}.dcm`);
  await writeFile(path, bytes);
  if (!existsSync(DCMDUMP)) {
    assert.fail(`${DCMDUMP} is missing: install dcmtk (npm test installs it on Debian)`);
  }
  // dcmdump prints parser errors to stderr and exits non-zero on them.
  const { stdout, stderr } = await run(DCMDUMP, ['-q', path], { maxBuffer: 64 << 20 });
  assert.equal(stderr, '', `dcmdump complained about ${name}`);
  return stdout;
}

describe('de-identification of real files, every transfer syntax family', () => {
  for (const name of SAMPLES) {
    it(`${name}: profile applied at every level, pixels byte-identical, dcmdump reads it`, async () => {
      const file = catalog.files[name];
      const input = await readFile(file.path);
      const inputHash = sha(input);
      const batch = new DeidentifyBatch([], KEY);
      const result = deidentify(input, batch);
      assert.equal(sha(input), inputHash, 'the source bytes are not modified');

      const source = readDataSet(input);
      const output = readDataSet(result.bytes);
      assertNothingSurvives(source, output, batch.options);
      assert.deepEqual(pixelBytes(output), pixelBytes(source));
      assert.equal(
        textOf(valueOf(walk(output).find((f) => f.tag === 0x00020010)!)),
        file.transferSyntaxUid,
      );
      assert.equal(textOf(valueOf(walk(output).find((f) => f.tag === 0x00120062)!)), 'YES');
      const sop = textOf(valueOf(walk(output).find((f) => f.path === 'x00080018')!));
      assert.equal(sop, result.sopInstanceUid);
      assert.equal(textOf(valueOf(walk(output).find((f) => f.tag === 0x00020003)!)), sop);
      assert.notEqual(sop, file.sopInstanceUid);

      const dump = await dcmdump(result.bytes, name);
      assert.match(dump, /\(0012,0062\) CS \[YES\]/);
      assert.match(dump, new RegExp(`\\(0008,0018\\) UI \\[${sop.replace(/\./g, '\\.')}\\]`));
    });
  }

  it('the plan lists exactly the changes the result made, with paths into sequences', async () => {
    const input = await readFile(catalog.files.structuredReport.path);
    const batch = new DeidentifyBatch([], KEY);
    const plan = planDeidentification(input, batch);
    assert.deepEqual(plan, deidentify(input, batch).changes);
    assert.ok(plan.some((c) => c.tag === '00100010' && c.action === 'Z' && c.before !== '(empty)'));
    const rtDose = planDeidentification(await readFile(catalog.files.rtDoseMultiFrame.path), batch);
    const nested = rtDose.filter((c) => c.path.includes('['));
    assert.ok(nested.length > 0, 'rtdose.dcm references its plan inside a sequence');
    for (const change of nested) assert.match(change.path, /^\([0-9A-F]{4},[0-9A-F]{4}\)\[\d+\]\./);
  });
});

/** `count` instances of one study in two series, as a scanner would write them. */
function studyFiles(count: number, transferSyntaxUid?: string): Uint8Array[] {
  const files: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const elements: WriterElement[] = imageInstanceElements({
      studyUid: '1.2.826.0.1.3680043.8.498.1',
      seriesUid: `1.2.826.0.1.3680043.8.498.1.${1 + (i % 2)}`,
      sopInstanceUid: `1.2.826.0.1.3680043.8.498.1.9.${i + 1}`,
      patientName: 'Doe^Jane',
      patientId: 'PID-42',
      patientBirthDate: '19700101',
      studyDate: '20240229',
      modality: 'OT',
      rows: 2,
      columns: 2,
      samplesPerPixel: 1,
      photometric: 'MONOCHROME2',
      bitsAllocated: 8,
      pixelData: new Uint8Array([1, 2, 3, 4]),
      instanceNumber: i + 1,
      seriesNumber: 1 + (i % 2),
      studyDescription: 'Chest for Jane Doe',
      seriesDescription: 'Series',
      accessionNumber: 'ACC1',
      extraElements: [
        { tag: 0x00091010, vr: 'LO', value: 'private secret' },
        { tag: 0x00090010, vr: 'LO', value: 'ACME' },
        {
          tag: 0x00081140, // Referenced Image Sequence: the previous instance
          vr: 'SQ',
          value: [
            [
              { tag: 0x00081150, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
              {
                tag: 0x00081155,
                vr: 'UI',
                value: `1.2.826.0.1.3680043.8.498.1.9.${Math.max(1, i)}`,
              },
            ],
          ],
        },
        { tag: 0x00080021, vr: 'DA', value: '20240301' },
      ],
    });
    files.push(writePart10(elements, transferSyntaxUid ? { transferSyntaxUid } : {}));
  }
  return files;
}

function uidsOf(bytes: Uint8Array) {
  const ds = readDataSet(bytes);
  return {
    study: ds.string('x0020000d')!,
    series: ds.string('x0020000e')!,
    sop: ds.string('x00080018')!,
    referenced: ds.elements['x00081140']!.items![0]!.dataSet!.string('x00081155')!,
  };
}

describe('a de-identification batch', () => {
  it('maps each UID to one new UID across files and transfer syntaxes, inside sequences too', () => {
    const batch = new DeidentifyBatch([], KEY);
    const explicit = studyFiles(4).map((f) => uidsOf(deidentify(f, batch).bytes));
    const implicit = studyFiles(4, IMPLICIT_VR_LITTLE_ENDIAN).map((f) =>
      uidsOf(deidentify(f, batch).bytes),
    );
    const bigEndian = studyFiles(4, EXPLICIT_VR_BIG_ENDIAN).map((f) =>
      uidsOf(deidentify(f, batch).bytes),
    );
    assert.deepEqual(implicit, explicit);
    assert.deepEqual(bigEndian, explicit);
    assert.equal(new Set(explicit.map((u) => u.study)).size, 1, 'one study stays one');
    assert.equal(new Set(explicit.map((u) => u.series)).size, 2, 'two series stay two');
    assert.equal(new Set(explicit.map((u) => u.sop)).size, 4);
    // Instance 3 references instance 2: the reference follows the new UID.
    assert.equal(explicit[2]!.referenced, explicit[1]!.sop);
    for (const u of explicit) for (const uid of Object.values(u)) assert.ok(isValidUid(uid), uid);
  });

  it('gives other UIDs in another batch, and keeps them with the Retain UIDs option', () => {
    const [file] = studyFiles(1);
    const a = uidsOf(deidentify(file!, new DeidentifyBatch([])).bytes);
    const b = uidsOf(deidentify(file!, new DeidentifyBatch([])).bytes);
    assert.notEqual(a.study, b.study);
    const kept = uidsOf(deidentify(file!, new DeidentifyBatch(['retainUids'])).bytes);
    assert.equal(kept.study, '1.2.826.0.1.3680043.8.498.1');
    assert.equal(kept.referenced, '1.2.826.0.1.3680043.8.498.1.9.1');
  });

  it('shifts dates by one offset per patient with modified dates, and says so', () => {
    const batch = new DeidentifyBatch(['retainLongitudinalModifiedDates'], KEY);
    const [first, second] = studyFiles(2).map((f) => readDataSet(deidentify(f, batch).bytes));
    const days = batch.dateShiftDays('PID-42');
    const shift = (date: string) => {
      const t =
        Date.UTC(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8)) - days * 86_400_000;
      return new Date(t).toISOString().slice(0, 10).replace(/-/g, '');
    };
    assert.equal(first!.string('x00080020'), shift('20240229'));
    assert.equal(first!.string('x00080021'), shift('20240301'));
    assert.equal(second!.string('x00080020'), first!.string('x00080020'));
    assert.equal(first!.string('x00280303'), 'MODIFIED');
    const method = first!.elements['x00120064']!.items!.map((item) =>
      item.dataSet!.string('x00080100'),
    );
    assert.deepEqual(method, ['113100', '113107']);
  });

  it('keeps every date with full dates, and empties them by default', () => {
    const [file] = studyFiles(1);
    const full = readDataSet(
      deidentify(file!, new DeidentifyBatch(['retainLongitudinalFullDates'])).bytes,
    );
    assert.equal(full.string('x00080020'), '20240229');
    assert.equal(full.string('x00280303'), 'UNMODIFIED');
    const basic = readDataSet(deidentify(file!, new DeidentifyBatch([])).bytes);
    assert.equal(basic.elements['x00080020']!.length, 0);
    assert.equal(basic.string('x00280303'), 'REMOVED');
  });

  it('blanks descriptors with Clean Descriptors, removes them without', () => {
    const [file] = studyFiles(1);
    const clean = readDataSet(deidentify(file!, new DeidentifyBatch(['cleanDescriptors'])).bytes);
    assert.equal(clean.elements['x00081030']!.length, 0, 'Study Description blanked');
    const basic = readDataSet(deidentify(file!, new DeidentifyBatch([])).bytes);
    assert.equal(basic.elements['x00081030'], undefined, 'Study Description removed');
  });

  it('handles values stored as UN by their real VR, and removes sequences stored as UN', async () => {
    const latin1 = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));
    // An implicit VR little endian item holding a Referenced SOP Instance UID (PS3.5 §6.2.2).
    const item = encodeDataSet(
      [{ tag: 0x00081155, vr: 'UI', value: '1.2.3.4.5' }],
      IMPLICIT_VR_LITTLE_ENDIAN,
    );
    const itemHeader = new Uint8Array([0xfe, 0xff, 0x00, 0xe0, item.length, 0, 0, 0]);
    const file = writePart10([
      ...imageInstanceElementsFor().filter((e) => e.tag !== 0x00100010 && e.tag !== 0x00080020),
      { tag: 0x00100010, vr: 'UN', value: latin1('Doe^John') },
      { tag: 0x00081140, vr: 'UN', value: new Uint8Array([...itemHeader, ...item]) },
      { tag: 0x00080020, vr: 'UN', value: latin1('20200101') },
    ]);
    const batch = new DeidentifyBatch(['retainLongitudinalModifiedDates'], KEY);
    const result = deidentify(file, batch);
    const output = readDataSet(result.bytes);
    assert.equal(output.elements['x00100010']?.length, 0, "Patient's Name emptied");
    assert.equal(output.elements['x00081140'], undefined, 'the UN sequence is removed');
    assert.equal(
      output.string('x00080020'),
      shiftDates('20200101', 'DA', batch.dateShiftDays('P1')),
    );
    assert.ok(result.changes.some((c) => c.rule === 'sequence stored as UN'));
    await dcmdump(result.bytes, 'un-values');
  });

  it('refuses contradicting options and short keys', () => {
    assert.throws(
      () => new DeidentifyBatch(['retainLongitudinalFullDates', 'retainLongitudinalModifiedDates']),
      /cannot be used together/,
    );
    assert.throws(() => new DeidentifyBatch([], new Uint8Array(8)), /at least 16 bytes/);
  });

  it('keeps date shifts within their stated limit and new UIDs within 64 characters', () => {
    const batch = new DeidentifyBatch([]);
    for (let i = 0; i < 2000; i++) {
      const days = batch.dateShiftDays(`patient-${i}`);
      assert.ok(days >= 1 && days <= MAX_DATE_SHIFT_DAYS, String(days));
      const uid = batch.replaceUid(`1.2.3.${i}`);
      assert.ok(isValidUid(uid) && uid.length <= 64, uid);
    }
  });

  it('summarises long values in the plan within SUMMARY_CHARS', () => {
    const long = 'x'.repeat(SUMMARY_CHARS + 20);
    const [file] = studyFiles(1);
    const elements = readDataSet(file!);
    assert.ok(elements);
    const withComment = writePart10([
      ...imageInstanceElementsFor(),
      { tag: 0x00184000, vr: 'LT', value: long }, // Acquisition Comments: X
    ]);
    const change = planDeidentification(withComment, new DeidentifyBatch([])).find(
      (c) => c.tag === '00184000',
    );
    assert.equal(change?.before, `${'x'.repeat(SUMMARY_CHARS)}…`);
    assert.equal(change?.after, '(removed)');
  });

  it('refuses bytes that are not a readable Part 10 file, with a DicomFileError', async () => {
    const batch = new DeidentifyBatch([]);
    assert.throws(
      () => deidentify(new Uint8Array(200), batch),
      (e) => e instanceof DicomFileError && e.code === 'NOT_DICOM',
    );
    const truncated = await readFile(catalog.broken.truncatedRtPlan);
    assert.throws(() => deidentify(truncated, batch), DicomFileError);
    const noSop = writePart10(
      imageInstanceElementsFor().filter((e) => e.tag !== 0x00080018),
      {
        mediaStorageSopInstanceUid: '1.2.3',
      },
    );
    assert.throws(
      () => deidentify(noSop, batch),
      (e) => e instanceof DicomFileError && e.code === 'MISSING_UID',
    );
    assert.equal(TransferSyntax.ExplicitVRLittleEndian, '1.2.840.10008.1.2.1');
  });
});

function imageInstanceElementsFor(): WriterElement[] {
  return imageInstanceElements({
    studyUid: '1.2.3.1',
    seriesUid: '1.2.3.1.1',
    sopInstanceUid: '1.2.3.1.1.1',
    patientName: 'Doe^John',
    patientId: 'P1',
    studyDate: '20200101',
    modality: 'OT',
    rows: 1,
    columns: 2,
    samplesPerPixel: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: 8,
    pixelData: new Uint8Array([0, 1]),
    instanceNumber: 1,
    seriesNumber: 1,
    studyDescription: 'd',
    seriesDescription: 's',
    accessionNumber: 'a',
  });
}

describe('de-identifying files on disk', () => {
  it('writes new files only, never overwriting, and reports each failure by file', async () => {
    const dir = await mkdtemp(join(work, 'files-'));
    const sources = studyFiles(3).map((_, i) => join(dir, `${i}.dcm`));
    await Promise.all(studyFiles(3).map((bytes, i) => writeFile(sources[i]!, bytes)));
    const broken = join(dir, 'broken.dcm');
    await writeFile(broken, new Uint8Array(300));
    const taken = join(dir, 'out', '1.dcm');
    await deidentifyFiles([sources[1]!], new DeidentifyBatch([]), () => taken);
    const before = await readFile(taken);

    const batch = new DeidentifyBatch([], KEY);
    const results = await deidentifyFiles([...sources, broken], batch, (s) =>
      join(dir, 'out', s.split('/').pop()!),
    );
    assert.deepEqual(
      results.map((r) => Boolean(r.output)),
      [true, false, true, false],
    );
    assert.match(results[1]!.error!, /exists already; it was not overwritten/);
    assert.match(results[3]!.error!, /not a DICOM Part 10 file/);
    assert.deepEqual(await readFile(taken), before);
    assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['0.dcm', '1.dcm', '2.dcm']);
  });

  it('refuses a file over the size limit with a sentence naming it', async () => {
    const dir = await mkdtemp(join(work, 'limit-'));
    const [bytes] = studyFiles(1);
    const source = join(dir, 'a.dcm');
    await writeFile(source, bytes!);
    const batch = new DeidentifyBatch([]);
    const [refused] = await planFiles([source], batch, { maxFileBytes: bytes!.length - 1 });
    assert.match(
      refused!.error!,
      new RegExp(
        `a\\.dcm is ${bytes!.length} bytes; de-identification reads files of at most ${bytes!.length - 1} bytes`,
      ),
    );
    const [fits] = await planFiles([source], batch, { maxFileBytes: bytes!.length });
    assert.equal(fits!.error, undefined);
  });

  it('previews every change of every file as Markdown, detailed up to its limit', async () => {
    const dir = await mkdtemp(join(work, 'preview-'));
    const count = PREVIEW_DETAILED_FILES + 1;
    const sources: string[] = [];
    const files = studyFiles(2);
    for (let i = 0; i < count; i++) {
      sources.push(join(dir, `f${i}.dcm`));
      await writeFile(sources[i]!, files[i % 2]!);
    }
    const batch = new DeidentifyBatch(['cleanDescriptors'], KEY);
    const plans = await planFiles(sources, batch);
    const markdown = previewMarkdown('Preview', batch.options, plans);
    assert.match(markdown, /with Clean Descriptors Option\./);
    assert.match(
      markdown,
      /\| \(0010,0010\) \| PatientName \| emptied \| Z \| Doe\^Jane \| \(empty\) \|/,
    );
    // Brackets are escaped: a value from a file must not turn into a Markdown link.
    assert.ok(
      markdown.includes(
        '| (0008,1140)\\[0\\].(0008,1155) | ReferencedSOPInstanceUID | new UID | U |',
      ),
    );
    assert.equal(markdown.match(/^\| Path \|/gm)?.length, PREVIEW_DETAILED_FILES);
    assert.match(markdown, /changes \(listed for the first 200 files only\)/);
  });
});
