/**
 * A local file as DICOM JSON (src/dicom/localFileJson.ts): the header only (Pixel Data is a
 * BulkDataURI into the file, never read), small binary values inline, names decoded per
 * Specific Character Set, and the header size limit refused with its own error.
 */
import assert from 'node:assert/strict';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { DicomFileError, readDataSet } from '../../src/dicom/part10';
import {
  HEADER_MAX_BYTES,
  INLINE_BINARY_MAX_BYTES,
  readLocalDicomJson,
} from '../../src/dicom/localFileJson';
import { ParserTag, Tag } from '../../src/dicom/tags';
import {
  encodedPersonName as encodedName,
  ensureSampleFiles,
  type SampleCatalog,
} from '../support/sampleFiles';
import { makeTempDir } from '../support/tempDirs';

const GIB = 1024 * 1024 * 1024;

describe('readLocalDicomJson', () => {
  let samples: SampleCatalog;
  before(async () => {
    samples = await ensureSampleFiles();
  });

  it('multi-frame file: Pixel Data is a BulkDataURI into the file and is not read', async () => {
    const file = samples.files.daikonJpegBaselineXa;
    const size = (await stat(file.path)).size;
    const { dataset, bytesRead } = await readLocalDicomJson(file.path, {
      bulkDataBase: 'file:///x.dcm',
    });
    assert.deepEqual(dataset[Tag.PixelData], { vr: 'OB', BulkDataURI: 'file:///x.dcm#7FE00010' });
    assert.ok(bytesRead < size / 4, `${bytesRead} of ${size} bytes read`);
    assert.equal(dataset[Tag.SOPInstanceUID]?.Value?.[0], file.sopInstanceUid);
    assert.equal(dataset[Tag.NumberOfFrames]?.Value?.[0], 96);
  });

  it(`binary values up to ${INLINE_BINARY_MAX_BYTES} bytes are InlineBinary, larger ones BulkDataURIs`, async () => {
    const { dataset } = await readLocalDicomJson(samples.files.ctSmall.path, {
      bulkDataBase: 'file:///ct.dcm',
    });
    const binary = Object.entries(dataset).filter(([, a]) => a.InlineBinary || a.BulkDataURI);
    assert.ok(
      binary.some(([, a]) => a.InlineBinary),
      'CT_small has small OB/UN values',
    );
    for (const [tag, attribute] of binary) {
      if (attribute.InlineBinary) {
        assert.ok(Buffer.from(attribute.InlineBinary, 'base64').length <= INLINE_BINARY_MAX_BYTES);
      } else {
        assert.equal(attribute.BulkDataURI, `file:///ct.dcm#${tag}`);
      }
    }
  });

  it('names decoded per Specific Character Set (chrH31, ISO 2022 IR 87)', async () => {
    const { dataset, warnings } = await readLocalDicomJson(samples.charset.chrH31.path, {
      bulkDataBase: 'file:///h31.dcm',
    });
    assert.deepEqual(dataset[Tag.PatientName]?.Value, [
      { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' },
    ]);
    assert.deepEqual(warnings, []);
  });

  it(`a header past the limit (${HEADER_MAX_BYTES / 1024 / 1024} MB by default) is refused, not read`, async () => {
    // structuredReport has no Pixel Data: the whole file is its header.
    const file = samples.files.structuredReport.path;
    const size = (await stat(file)).size;
    await assert.rejects(
      readLocalDicomJson(file, { bulkDataBase: 'file:///sr.dcm', headerMaxBytes: size - 1 }),
      (error: unknown) => error instanceof DicomFileError && error.code === 'HEADER_TOO_LARGE',
    );
    const whole = await readLocalDicomJson(file, {
      bulkDataBase: 'file:///sr.dcm',
      headerMaxBytes: size,
    });
    assert.equal(whole.bytesRead, size);
  });

  it('a 1 GB file (sparse: CT_small with 1 GiB of Pixel Data) costs its header only', async () => {
    const bytes = await readFile(samples.files.ctSmall.path);
    const pixelData = readDataSet(bytes).elements[ParserTag.PixelData]!;
    // Explicit VR OW: the 4-byte length sits just before the value (PS3.5 §7.1.2).
    const header = Buffer.from(bytes.subarray(0, pixelData.dataOffset));
    header.writeUInt32LE(GIB, pixelData.dataOffset - 4);
    const path = join(makeTempDir('dicomweb-local-json-'), 'gigabyte.dcm');
    await writeFile(path, header);
    await truncate(path, header.length + GIB);
    const started = performance.now();
    const { dataset, bytesRead } = await readLocalDicomJson(path, {
      bulkDataBase: 'file:///g.dcm',
    });
    const elapsedMs = performance.now() - started;
    assert.equal((await stat(path)).size, header.length + GIB);
    assert.deepEqual(dataset[Tag.PixelData], { vr: 'OW', BulkDataURI: 'file:///g.dcm#7FE00010' });
    assert.ok(bytesRead <= 256 * 1024, `${bytesRead} bytes read of 1 GiB`);
    console.log(
      `      1 GiB file as DICOM JSON: ${bytesRead} bytes read in ${elapsedMs.toFixed(1)} ms`,
    );
    assert.ok(elapsedMs < 300, `${elapsedMs.toFixed(1)} ms`);
  });

  it('a file cut inside its Pixel Data: the data set before it, and a note saying so', async () => {
    const { dataset, note } = await readLocalDicomJson(samples.broken.truncatedMr, {
      bulkDataBase: 'file:///cut.dcm',
    });
    assert.equal(encodedName(dataset[Tag.PatientName]?.Value?.[0]), 'CompressedSamples^MR1');
    assert.deepEqual(dataset[Tag.PixelData], { vr: 'OW', BulkDataURI: 'file:///cut.dcm#7FE00010' });
    assert.match(note ?? '', /truncated.*Shown: the data set up to Pixel Data\./);
  });

  it('a file cut inside a sequence is refused with the reason (nothing to show as JSON)', async () => {
    await assert.rejects(
      readLocalDicomJson(samples.broken.truncatedRtPlan, { bulkDataBase: 'file:///plan.dcm' }),
      (error: unknown) => error instanceof DicomFileError && error.code === 'TRUNCATED',
    );
  });

  it('a file that is not DICOM says so', async () => {
    await assert.rejects(
      readLocalDicomJson(__filename, { bulkDataBase: 'file:///t.js' }),
      (error: unknown) => error instanceof DicomFileError && error.code === 'NOT_DICOM',
    );
  });
});
