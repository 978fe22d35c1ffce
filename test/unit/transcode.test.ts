/**
 * The Implicit VR / Big Endian → Explicit VR Little Endian converter (src/dicom/transcode.ts),
 * on every real sample stored in those transfer syntaxes: each converted file reads back equal,
 * element by element, to its Explicit VR Little Endian twin where the package has one, and to
 * dcmtk's own conversion (`dcmconv +te`) where it has none; dcmdump reads every output.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type * as dicomParser from 'dicom-parser';
import { readDataSet, transferSyntaxOf } from '../../src/dicom/part10';
import {
  CONVERTIBLE_TO_EXPLICIT_LE,
  TranscodeError,
  toExplicitVrLittleEndian,
} from '../../src/dicom/transcode';
import { TransferSyntax, isEncapsulatedTransferSyntax } from '../../src/dicom/uids';
import { ensureSampleFiles, type SampleCatalog, type SampleFile } from '../support/sampleFiles';

const run = promisify(execFile);
const DCMDUMP = '/usr/bin/dcmdump';
const DCMCONV = '/usr/bin/dcmconv';

let catalog: SampleCatalog;
let work: string;
before(async () => {
  catalog = await ensureSampleFiles();
  work = await mkdtemp(join(tmpdir(), 'transcode-test-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

function convertible(): SampleFile[] {
  return [...CONVERTIBLE_TO_EXPLICIT_LE].flatMap((uid) => catalog.byTransferSyntax(uid));
}

/** Every element of a data set, nested ones by their path, as VR and value bytes. */
function flatten(dataSet: dicomParser.DataSet, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, element] of Object.entries(dataSet.elements)) {
    // The File Meta is the converter's to rewrite; trailing padding is not data (PS3.10 §7.2).
    if (key.startsWith('x0002') || key === 'xfffcfffc') continue;
    // Group lengths are recomputed: checked against dcmtk below, not against the source.
    if (key.endsWith('0000')) continue;
    if (element.items) {
      element.items.forEach((item, i) => {
        for (const [k, v] of flatten(item.dataSet!, `${prefix}${key}/${i}/`)) out.set(k, v);
      });
      out.set(`${prefix}${key}`, `SQ ${element.items.length} items`);
      continue;
    }
    const bytes = dataSet.byteArray.subarray(
      element.dataOffset,
      element.dataOffset + element.length,
    );
    out.set(`${prefix}${key}`, `${element.vr ?? '?'} ${Buffer.from(bytes).toString('hex')}`);
  }
  return out;
}

async function dcmdump(path: string): Promise<string> {
  if (!existsSync(DCMDUMP)) assert.fail(`${DCMDUMP} is missing: install dcmtk`);
  // dcmdump prints parser errors to stderr and exits non-zero on them.
  const { stdout, stderr } = await run(DCMDUMP, ['-q', '+L', '-dc', path], {
    maxBuffer: 64 << 20,
    encoding: 'latin1',
  });
  assert.equal(stderr, '', `dcmdump complained about ${path}`);
  // The data set only: File Meta lines (implementation UIDs differ by writer) and comments out.
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('#') && !line.startsWith('(0002,'))
    .join('\n');
}

describe('toExplicitVrLittleEndian', () => {
  it('covers Implicit VR and Big Endian samples (the catalog has both)', () => {
    const kinds = new Set(convertible().map((s) => s.transferSyntaxUid));
    assert.deepEqual(kinds, CONVERTIBLE_TO_EXPLICIT_LE);
    assert.ok(convertible().length >= 5, `only ${convertible().length} samples`);
  });

  it('equals the Explicit VR Little Endian twin, element by element (VR and value bytes)', async () => {
    const twins = convertible().filter((s) => s.reference);
    assert.ok(twins.length >= 2, 'MR_small has an implicit and a big endian copy');
    for (const sample of twins) {
      const converted = toExplicitVrLittleEndian(await readFile(sample.path));
      const reference = catalog.files[sample.reference!];
      const mine = flatten(readDataSet(converted));
      const theirs = flatten(readDataSet(await readFile(reference.path)));
      assert.deepEqual(mine, theirs, `${sample.name} vs ${reference.name}`);
      assert.ok(mine.size > 50, `${sample.name}: ${mine.size} elements compared`);
    }
  });

  it("reads in dcmdump exactly as dcmtk's own conversion (dcmconv +te) does, for every sample", async () => {
    if (!existsSync(DCMCONV)) assert.fail(`${DCMCONV} is missing: install dcmtk`);
    for (const sample of convertible()) {
      const source = await readFile(sample.path);
      const untouched = Buffer.from(source);
      const converted = toExplicitVrLittleEndian(source);
      assert.ok(source.equals(untouched), `${sample.name}: the input was changed`);
      assert.equal(transferSyntaxOf(readDataSet(converted)), TransferSyntax.ExplicitVRLittleEndian);
      const mine = join(work, `${sample.name}.mine.dcm`);
      const theirs = join(work, `${sample.name}.dcmtk.dcm`);
      await writeFile(mine, converted);
      // +g=: recompute group lengths where the source has them, as the converter does.
      await run(DCMCONV, ['+te', '+g=', sample.path, theirs]);
      assert.equal(await dcmdump(mine), await dcmdump(theirs), sample.name);
    }
  });

  it('returns an Explicit VR Little Endian file unchanged', async () => {
    const bytes = await readFile(catalog.files.mrSmall.path);
    assert.equal(toExplicitVrLittleEndian(bytes), bytes);
  });

  it('refuses every compressed sample with a TranscodeError naming its transfer syntax', async () => {
    const compressed = Object.values(catalog.files).filter((s) =>
      isEncapsulatedTransferSyntax(s.transferSyntaxUid),
    );
    assert.ok(compressed.length >= 10);
    for (const sample of compressed) {
      const bytes = await readFile(sample.path);
      assert.throws(
        () => toExplicitVrLittleEndian(bytes),
        (error: unknown) =>
          error instanceof TranscodeError && error.message.includes(sample.transferSyntaxUid),
      );
    }
  });

  it('refuses a file cut anywhere in its data set with a TranscodeError, never a wrong file', async () => {
    for (const sample of convertible()) {
      const bytes = await readFile(sample.path);
      const whole = toExplicitVrLittleEndian(bytes);
      // Cuts inside the header and in the middle of the file (the Pixel Data of most).
      for (const cut of [400, 700, Math.floor(bytes.length / 2), bytes.length - 1]) {
        let result: Uint8Array | undefined;
        try {
          result = toExplicitVrLittleEndian(bytes.subarray(0, cut));
        } catch (error) {
          assert.ok(
            error instanceof TranscodeError,
            `${sample.name} cut at ${cut}: ${String(error)}`,
          );
          assert.match(error.message, /ends inside|unexpected|no VR|instead of an item/);
          continue;
        }
        // A cut that falls exactly between two elements is a shorter, well-formed data set.
        assert.ok(result.length < whole.length, `${sample.name} cut at ${cut}`);
        readDataSet(result);
      }
    }
  });

  it('refuses bytes that are not Part 10', () => {
    assert.throws(() => toExplicitVrLittleEndian(new Uint8Array(200)), /not a DICOM Part 10 file/);
  });
});
