/**
 * pydicom's charset files (one per Specific Character Set, PS3.5 Annexes H–K) through the one
 * DICOM JSON converter: Patient's Name and the other text pydicom's tests state, as Unicode,
 * with no charset warning; a sequence item with its own (0008,0005) overrides the data set's,
 * one without inherits it (PS3.5 §7.5.3; pydicom's test_nested_character_sets).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import type { CharsetWarning } from '../../src/dicom/charset';
import {
  SPECIFIC_CHARACTER_SET_MAX_BYTES,
  dataSetToJson,
  specificCharacterSetOf,
  type JsonDataset,
} from '../../src/dicom/dataSetJson';
import { IMPLICIT_VR_LITTLE_ENDIAN, writePart10 } from '../../src/dicom/part10Writer';
import { readDataSet } from '../../src/dicom/part10';
import { Tag } from '../../src/dicom/tags';
import {
  CHARSET_SAMPLES,
  encodedPersonName,
  ensureSampleFiles,
  type CharsetSample,
  type CharsetSampleName,
} from '../support/sampleFiles';

async function toJson(sample: CharsetSample) {
  const warnings: CharsetWarning[] = [];
  const json = dataSetToJson(readDataSet(await readFile(sample.path)), {
    bulkDataUri: (path) => `bulk/${path.join('/')}`,
    onCharsetWarning: (warning) => warnings.push(warning),
  });
  return { json, warnings };
}

const names = (json: JsonDataset, tag: string) => (json[tag]?.Value ?? []).map(encodedPersonName);

describe("pydicom's charset files through dataSetToJson", () => {
  let samples: Record<CharsetSampleName, CharsetSample>;
  before(async () => {
    samples = (await ensureSampleFiles()).charset;
  });

  for (const name of Object.keys(CHARSET_SAMPLES) as CharsetSampleName[]) {
    it(`${name}: the names pydicom's tests expect, no warning`, async () => {
      const sample = samples[name];
      const { json, warnings } = await toJson(sample);
      assert.deepEqual(warnings, []);
      // Kept as the file has it (dataSetToJson's header says why); an empty value is null (§F.2.5).
      const declared = json[Tag.SpecificCharacterSet]?.Value?.map((v) => v ?? '');
      assert.deepEqual(declared?.join('\\'), sample.specificCharacterSet);
      if (sample.patientName !== undefined) {
        assert.deepEqual(names(json, Tag.PatientName), [sample.patientName]);
      }
      if (sample.otherPatientNames) {
        assert.deepEqual(names(json, Tag.OtherPatientNames), sample.otherPatientNames);
      }
      if (sample.itemPatientName !== undefined) {
        const item = json[Tag.RequestedProcedureCodeSequence]?.Value?.[0] as JsonDataset;
        assert.deepEqual(names(item, Tag.PatientName), [sample.itemPatientName]);
        const itemDeclared = item[Tag.SpecificCharacterSet]?.Value?.map((v) => v ?? '');
        assert.deepEqual(itemDeclared?.join('\\'), sample.itemSpecificCharacterSet);
      }
    });
  }

  it('an item without its own Specific Character Set is decoded with its parent data set’s', async () => {
    // chrSQEncoding1 declares ISO 2022 IR 13\ISO 2022 IR 87 only at the top; read without it,
    // the item's bytes would be Latin-1 (ÔÏÀÞ…): the inherited set is what decodes them.
    const { json } = await toJson(samples.chrSQEncoding1);
    const item = json[Tag.RequestedProcedureCodeSequence]?.Value?.[0] as JsonDataset;
    assert.equal(item[Tag.SpecificCharacterSet], undefined);
    assert.match(names(item, Tag.PatientName)[0]!, /^ﾔﾏﾀﾞ/);
  });

  it(`a Specific Character Set past ${SPECIFIC_CHARACTER_SET_MAX_BYTES} bytes is cut there and read`, () => {
    // 100 × 'ISO_IR 100' (1,099 bytes), then 1 MB more (Implicit VR: a 32-bit length).
    for (const tail of ['', '\\' + 'X'.repeat(1024 * 1024)]) {
      const declared = Array(100).fill('ISO_IR 100').join('\\') + tail;
      const file = writePart10(
        [
          { tag: 0x00080005, vr: 'CS', value: declared },
          { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
          { tag: 0x00080018, vr: 'UI', value: '2.25.1' },
          {
            tag: 0x00100010,
            vr: 'PN',
            value: Uint8Array.from(Buffer.from('Buc^J\xe9r\xf4me', 'latin1')),
          },
        ],
        { transferSyntaxUid: IMPLICIT_VR_LITTLE_ENDIAN },
      );
      const dataSet = readDataSet(file);
      assert.equal(specificCharacterSetOf(dataSet)?.length, SPECIFIC_CHARACTER_SET_MAX_BYTES);
      const warnings: CharsetWarning[] = [];
      const json = dataSetToJson(dataSet, {
        bulkDataUri: () => '',
        onCharsetWarning: (w) => warnings.push(w),
      });
      assert.deepEqual(names(json, Tag.PatientName), ['Buc^Jérôme']);
      // Cut at byte 1,088: 98 values and 'ISO_IR 100' whole, all known; nothing to report.
      assert.deepEqual(warnings, []);
    }
  });
});
