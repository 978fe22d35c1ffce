/**
 * The tag table's model (src/dicom/tagTable.ts): exact rows of real files (a sequence's
 * items, private creators, the Pixel Data summary), paths, filter, character sets passed
 * down to items, and every stated limit hit.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as dicomParser from 'dicom-parser';
import { readDicomHeader } from '../../src/dicom/headerReader';
import {
  DEFAULT_TAG_TABLE_LIMITS,
  buildTagTable,
  filterTagTable,
  findTagNode,
  fullValue,
  type TagNode,
  type TagTable,
} from '../../src/dicom/tagTable';
import {
  CHARSET_SAMPLES,
  ensureSampleFiles,
  type CharsetSampleName,
  type SampleCatalog,
} from '../support/sampleFiles';
import { writePart10, type WriterElement, type WriterItem } from '../support/dicomWriter';
import { makeTempDir } from '../support/tempDirs';

const dir = makeTempDir('dicomweb-tag-table-');
let catalog: SampleCatalog;

before(async () => {
  catalog = await ensureSampleFiles();
});

async function tableOf(path: string): Promise<TagTable> {
  const header = await readDicomHeader(path);
  return buildTagTable(header.dataSet!, {
    pixelData: header.pixelData,
    bigEndian: header.bigEndian,
  });
}

/** The row as one line: id, tag, name, VR, VM, length, value. */
function line(node: TagNode | undefined): string {
  assert.ok(node, 'the row exists');
  return [
    node.id,
    node.tag,
    node.name,
    node.vr,
    node.vm,
    node.length ?? 'undefined',
    node.value,
  ].join(' | ');
}

function byTag(nodes: TagNode[], tag: string): TagNode | undefined {
  return nodes.find((node) => node.tag === tag);
}

const SC = [
  { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
  { tag: 0x00080018, vr: 'UI', value: '1.2.3.4' },
] satisfies WriterElement[];

function parse(elements: WriterElement[]): dicomParser.DataSet {
  return dicomParser.parseDicom(writePart10([...SC, ...elements]));
}

describe('tag table rows of real files', () => {
  test("CT_small: a sequence's items, private creators and elements, Pixel Data", async () => {
    const table = await tableOf(catalog.files.ctSmall.path);
    assert.deepEqual(table.problems, []);
    const sequence = byTag(table.roots, '(0010,1002)')!;
    assert.equal(
      line(sequence),
      '46 | (0010,1002) | OtherPatientIDsSequence | SQ | 1 | 72 | 2 items',
    );
    assert.deepEqual(
      sequence.children!.map((item) => [line(item), ...item.children!.map(line)]),
      [
        [
          '46.0 | (FFFE,E000) | Item 1 |  |  | 28 | 2 elements',
          '46.0.0 | (0010,0020) | PatientID | LO | 1 | 8 | ABCD1234',
          '46.0.1 | (0010,0022) | TypeOfPatientID | CS | 1 | 4 | TEXT',
        ],
        [
          '46.1 | (FFFE,E000) | Item 2 |  |  | 28 | 2 elements',
          '46.1.0 | (0010,0020) | PatientID | LO | 1 | 8 | 1234ABCD',
          '46.1.1 | (0010,0022) | TypeOfPatientID | CS | 1 | 4 | TEXT',
        ],
      ],
    );
    assert.equal(
      line(byTag(table.roots, '(0009,0010)')),
      '32 | (0009,0010) | PrivateCreator | LO | 1 | 12 | GEMS_IDEN_01',
    );
    assert.equal(
      line(byTag(table.roots, '(0009,1001)')),
      '33 | (0009,1001) | [GEMS_IDEN_01] (0009,xx01) | LO | 1 | 14 | GE_GENESIS_FF',
    );
    assert.equal(
      line(byTag(table.roots, '(0009,1027)')),
      '36 | (0009,1027) | [GEMS_IDEN_01] (0009,xx27) | SL | 1 | 4 | 862399669',
    );
    assert.equal(
      line(byTag(table.roots, '(7FE0,0010)')),
      '264 | (7FE0,0010) | PixelData | OW | 1 | 32768 | OW, 32,768 bytes, 1 frame',
    );
    assert.equal(
      line(byTag(table.roots, '(0002,0001)')),
      '1 | (0002,0001) | FileMetaInformationVersion | OB | 1 | 2 | OB, 2 bytes: 00 01',
    );
    assert.equal(
      line(byTag(table.roots, '(0008,0008)')),
      '9 | (0008,0008) | ImageType | CS | 3 | 22 | ORIGINAL\\PRIMARY\\AXIAL',
    );
    assert.equal(table.nodeCount, 271);
  });

  test('tag paths and keyword paths; findTagNode; copy gives the whole value', async () => {
    const table = await tableOf(catalog.files.ctSmall.path);
    const patientId = findTagNode(table, '46.1.0')!;
    assert.equal(patientId.tagPath, '(0010,1002)[1].(0010,0020)');
    assert.equal(patientId.keywordPath, 'OtherPatientIDsSequence[1].PatientID');
    assert.equal(findTagNode(table, '33')!.keywordPath, '(0009,1001)', 'private: by tag');
    assert.equal(fullValue(patientId), '1234ABCD');
    assert.equal(findTagNode(table, '99.0'), undefined);
    assert.equal(findTagNode(table, '../1'), undefined);
  });

  test('Implicit VR (MR_small_implicit): VRs from the dictionary, values as in Explicit VR', async () => {
    const implicit = await tableOf(catalog.files.mrSmallImplicit.path);
    const explicit = await tableOf(catalog.files.mrSmall.path);
    const pick = (table: TagTable): string[] =>
      ['(0010,0010)', '(0028,0010)', '(0028,0030)', '(0020,0032)'].map((tag) => {
        const node = byTag(table.roots, tag)!;
        return `${node.name} ${node.vr} ${node.vm} ${node.value}`;
      });
    assert.deepEqual(pick(implicit), pick(explicit));
    assert.equal(byTag(implicit.roots, '(7FE0,0010)')!.vr, 'OW');
  });

  test('Explicit VR Big Endian: numbers read big endian, File Meta little endian', async () => {
    const table = await tableOf(catalog.files.rgbBigEndian.path);
    assert.equal(byTag(table.roots, '(0028,0010)')!.value, '60');
    assert.equal(byTag(table.roots, '(0028,0011)')!.value, '80');
    assert.equal(byTag(table.roots, '(0002,0000)')!.value, '204');
  });

  test('MR_truncated: every element before the cut is a row; Pixel Data says truncated', async () => {
    const table = await tableOf(catalog.broken.truncatedMr);
    assert.match(
      byTag(table.roots, '(7FE0,0010)')!.value,
      /^OW, 8,192 bytes, 1 frame \(truncated\)$/,
    );
    assert.equal(byTag(table.roots, '(0010,0010)')!.value, 'CompressedSamples^MR1');
  });
});

describe('tag table values', () => {
  test('binary values: short ones in hex, long ones as a length; copy in hex', () => {
    const table = buildTagTable(
      parse([
        { tag: 0x00091001, vr: 'OB', value: new Uint8Array([1, 2, 3, 0xfe]) },
        { tag: 0x00091002, vr: 'OB', value: new Uint8Array(1_048_576) },
        { tag: 0x00091003, vr: 'OB', value: new Uint8Array(40).fill(0xab) },
        { tag: 0x00090010, vr: 'LO', value: 'ACME' },
      ]),
    );
    const rows = table.roots.filter((node) => node.tag.startsWith('(0009'));
    assert.deepEqual(
      rows.map((node) => `${node.name} = ${node.value}`),
      [
        'PrivateCreator = ACME',
        '[ACME] (0009,xx01) = OB, 4 bytes: 01 02 03 fe',
        '[ACME] (0009,xx02) = OB, 1,048,576 bytes',
        `[ACME] (0009,xx03) = OB, 40 bytes: ${'ab '.repeat(16).trim()} …`,
      ],
    );
    assert.equal(fullValue(rows[1]!), '01 02 03 fe');
  });

  test('a private element without its creator says so', () => {
    const table = buildTagTable(parse([{ tag: 0x00291010, vr: 'LO', value: 'orphan' }]));
    assert.equal(byTag(table.roots, '(0029,1010)')!.name, '[no Private Creator] (0029,1010)');
  });

  test('numbers: many values shown up to 16, all on copy; AT as tags', () => {
    const values = Array.from({ length: 40 }, (_, i) => i);
    const table = buildTagTable(
      parse([
        { tag: 0x00181310, vr: 'US', value: values },
        { tag: 0x00209165, vr: 'AT', value: [0x00100010] },
      ]),
    );
    const many = byTag(table.roots, '(0018,1310)')!;
    assert.equal(many.vm, '40');
    assert.equal(many.value, `${values.slice(0, 16).join('\\')}\\… (40 values)`);
    assert.equal(fullValue(many), values.join('\\'));
    assert.equal(byTag(table.roots, '(0020,9165)')!.value, '(0010,0010)');
  });

  test("each item decodes text with its own Specific Character Set, else its parent's", () => {
    const asked: string[] = [];
    const decoder = (charset: string | readonly string[] | undefined) => {
      const name = [charset ?? ''].flat().join('\\');
      asked.push(name);
      return (bytes: Uint8Array) => `${name}:${Buffer.from(bytes).toString('latin1').trim()}`;
    };
    const item = (extra: WriterElement[]): WriterItem => [
      { tag: 0x00100010, vr: 'PN', value: 'Name' },
      ...extra,
    ];
    const table = buildTagTable(
      parse([
        { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
        {
          tag: 0x00101002,
          vr: 'SQ',
          value: [item([]), item([{ tag: 0x00080005, vr: 'CS', value: 'ISO_IR 192' }])],
        },
      ]),
      { decoder },
    );
    const items = byTag(table.roots, '(0010,1002)')!.children!;
    assert.equal(byTag(items[0]!.children!, '(0010,0010)')!.value, 'ISO_IR 100:Name');
    assert.equal(byTag(items[1]!.children!, '(0010,0010)')!.value, 'ISO_IR 192:Name');
    assert.deepEqual(asked, ['ISO_IR 100', 'ISO_IR 192']);
  });
});

describe("tag table text on pydicom's charset files (charset.ts)", () => {
  for (const name of Object.keys(CHARSET_SAMPLES) as CharsetSampleName[]) {
    test(`${name}: the names pydicom's tests expect, in the rows, no problem`, async () => {
      const sample = catalog.charset[name];
      const table = await tableOf(sample.path);
      assert.deepEqual(table.problems, []);
      // The table shows a PN as stored, an empty trailing group's "=" included (chrX1 has
      // "Wang^XiaoDong=王^小東="); pydicom's expected names leave it out.
      const shown = (node: TagNode | undefined): string | undefined =>
        node?.value.replace(/=+$/, '');
      if (sample.patientName !== undefined) {
        assert.equal(shown(byTag(table.roots, '(0010,0010)')), sample.patientName);
      }
      if (sample.itemPatientName !== undefined) {
        const item = byTag(table.roots, '(0032,1064)')!.children![0]!;
        assert.equal(shown(byTag(item.children!, '(0010,0010)')), sample.itemPatientName);
      }
    });
  }

  test('an unknown Specific Character Set term is a problem above the table, said once', () => {
    const table = buildTagTable(
      parse([
        { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 999' },
        { tag: 0x00100010, vr: 'PN', value: 'Name' },
        { tag: 0x00101001, vr: 'PN', value: 'Other' },
      ]),
    );
    assert.equal(table.problems.length, 1);
    assert.match(table.problems[0]!, /^Text: Unknown Specific Character Set 'ISO_IR 999'/);
    assert.equal(byTag(table.roots, '(0010,0010)')!.value, 'Name');
  });
});

describe('tag table filter', () => {
  test('a value match keeps its sequence and item visible, in order', async () => {
    const table = await tableOf(catalog.files.ctSmall.path);
    const { rows, matches, truncated } = filterTagTable(table, 'abcd1234', 100);
    assert.deepEqual(
      rows.map((row) => `${row.depth} ${row.node.name} ${row.match}`),
      ['0 OtherPatientIDsSequence false', '1 Item 1 false', '2 PatientID true'],
    );
    assert.equal(matches, 1);
    assert.equal(truncated, false);
  });

  test('by keyword, by tag in three spellings, by private creator', async () => {
    const table = await tableOf(catalog.files.ctSmall.path);
    const names = (query: string): string[] =>
      filterTagTable(table, query, 100)
        .rows.filter((row) => row.match)
        .map((row) => row.node.tag);
    // PatientID, OtherPatientIDsSequence, and in each item PatientID and TypeOfPatientID.
    assert.deepEqual(names('patientid'), [
      '(0010,0020)',
      '(0010,1002)',
      '(0010,0020)',
      '(0010,0022)',
      '(0010,0020)',
      '(0010,0022)',
    ]);
    assert.deepEqual(names('(0028,0010)'), ['(0028,0010)']);
    assert.deepEqual(names('00280010'), ['(0028,0010)']);
    assert.deepEqual(names('0028,0010'), ['(0028,0010)']);
    assert.equal(names('GEMS_IDEN_01').length, 10);
  });

  test('the row cap: truncated says the list was cut', async () => {
    const table = await tableOf(catalog.files.ctSmall.path);
    const { rows, truncated, matches } = filterTagTable(table, '', 50);
    assert.equal(rows.length, 50);
    assert.equal(truncated, true);
    assert.equal(matches, 50);
  });
});

describe('tag table limits', () => {
  test('the defaults', () => {
    assert.deepEqual(DEFAULT_TAG_TABLE_LIMITS, {
      maxNodes: 500_000,
      maxDepth: 64,
      maxValueChars: 256,
      maxCopyChars: 1_048_576,
    });
  });

  test('12,000 elements: built in well under a second; the node cap cuts and says so', async () => {
    const items: WriterItem[] = Array.from({ length: 6000 }, (_, i) => [
      { tag: 0x00081150, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
      { tag: 0x00081155, vr: 'UI', value: `1.2.3.${i}` },
    ]);
    const path = join(dir, 'many.dcm');
    await writeFile(path, writePart10([...SC, { tag: 0x00081140, vr: 'SQ', value: items }]));
    const header = await readDicomHeader(path);
    const started = performance.now();
    const table = buildTagTable(header.dataSet!);
    const elapsed = performance.now() - started;
    // 7 File Meta elements, 2 SOP elements, the sequence, and per item: the item and 2 elements.
    assert.equal(table.nodeCount, 7 + 2 + 1 + 6000 * 3);
    assert.ok(elapsed < 1000, `built in ${elapsed.toFixed(0)} ms`);
    const capped = buildTagTable(header.dataSet!, { limits: { maxNodes: 100 } });
    assert.equal(capped.nodeCount, 100);
    assert.deepEqual(capped.problems, [
      'The data set has more than 100 elements and items: only the first ones are shown.',
    ]);
  });

  test('the depth cap: deeper items are one note row', () => {
    let nested: WriterElement = { tag: 0x00100010, vr: 'PN', value: 'Deep' };
    for (let level = 0; level < 5; level++) {
      nested = { tag: 0x00081140, vr: 'SQ', value: [[nested]] };
    }
    const table = buildTagTable(parse([nested]), { limits: { maxDepth: 3 } });
    let node = byTag(table.roots, '(0008,1140)')!;
    for (let level = 0; level < 2; level++) node = node.children![0]!.children![0]!;
    const note = node.children![0]!.children![0]!;
    assert.equal(note.kind, 'note');
    assert.equal(note.value, 'nested deeper than 3 levels (depth 3)');
    assert.deepEqual(table.problems, ['Sequences nested deeper than 3 levels are not shown.']);
  });

  test('the value cap: a long text is cut with an ellipsis, copy gives it whole', () => {
    const text = 'word '.repeat(200).trim();
    const table = buildTagTable(parse([{ tag: 0x00204000, vr: 'LT', value: text }]), {
      limits: { maxValueChars: 20 },
    });
    const node = byTag(table.roots, '(0020,4000)')!;
    assert.equal(node.value, `${text.slice(0, 19)}…`);
    assert.equal(fullValue(node), text);
    assert.equal(fullValue(node, { maxChars: 10 }), `${text.slice(0, 9)}…`);
  });
});
