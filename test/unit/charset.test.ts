/**
 * Specific Character Set decoding (PS3.5 §6.1, Annexes H–K) on the byte strings of pydicom's
 * charset test files and tests (FileInfo.txt and tests/test_charset.py of python3-pydicom),
 * plus the failure cases: unknown terms, unknown escapes, bytes the declared set rejects.
 * The whole files are read in charsetFiles.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  KNOWN_CHARACTER_SETS,
  planCharacterSet,
  textDecoder,
  type CharsetWarning,
} from '../../src/dicom/charset';

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

function decode(charset: string | string[] | undefined, raw: string, vr = 'PN') {
  const warnings: CharsetWarning[] = [];
  const text = textDecoder(charset, (w) => warnings.push(w))(bytes(raw), vr);
  return { text, warnings: warnings.map((w) => w.code) };
}

// Patient's Name bytes of pydicom's charset files (FileInfo.txt) and the names its tests expect.
const FILE_NAMES: Array<[string, string, string, string]> = [
  ['chrArab', 'ISO_IR 127', '\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1', 'قباني^لنزار'],
  ['chrFren', 'ISO_IR 100', 'Buc^J\xe9r\xf4me', 'Buc^Jérôme'],
  ['chrGerm', 'ISO_IR 100', '\xc4neas^R\xfcdiger', 'Äneas^Rüdiger'],
  ['chrGreek', 'ISO_IR 126', '\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2', 'Διονυσιος'],
  [
    'chrH31',
    '\\ISO 2022 IR 87',
    'Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B',
    'Yamada^Tarou=山田^太郎=やまだ^たろう',
  ],
  [
    'chrH32',
    'ISO 2022 IR 13\\ISO 2022 IR 87',
    '\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J',
    'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
  ],
  ['chrHbrw', 'ISO_IR 138', '\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4', 'שרון^דבורה'],
  [
    'chrI2',
    '\\ISO 2022 IR 149',
    'Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf',
    'Hong^Gildong=洪^吉洞=홍^길동',
  ],
  ['chrRuss', 'ISO_IR 144', '\xbb\xee\xdace\xdc\xd1yp\xd3', 'Люкceмбypг'],
  [
    'chrX1',
    'ISO_IR 192',
    'Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1=',
    'Wang^XiaoDong=王^小東=',
  ],
  ['chrX2', 'GB18030', 'Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=', 'Wang^XiaoDong=王^小东='],
];

// pydicom's ENCODED_NAMES: every single-byte set as a code extension after ASCII.
const EXTENSIONS: Array<[string, string, string]> = [
  ['ISO 2022 IR 13', 'ﾔﾏﾀﾞ^ﾀﾛｳ', '\x1b\x29\x49\xd4\xcf\xc0\xde\x5e\x1b\x29\x49\xc0\xdb\xb3'],
  [
    'ISO 2022 IR 100',
    'Buc^Jérôme',
    '\x1b\x2d\x41\x42\x75\x63\x5e\x1b\x2d\x41\x4a\xe9\x72\xf4\x6d\x65',
  ],
  ['ISO 2022 IR 101', 'Wałęsa', '\x1b\x2d\x42\x57\x61\xb3\xea\x73\x61'],
  ['ISO 2022 IR 109', 'antaŭnomo', '\x1b\x2d\x43\x61\x6e\x74\x61\xfd\x6e\x6f\x6d\x6f'],
  ['ISO 2022 IR 110', 'vārds', '\x1b\x2d\x44\x76\xe0\x72\x64\x73'],
  [
    'ISO 2022 IR 127',
    'قباني^لنزار',
    '\x1b\x2d\x47\xe2\xc8\xc7\xe6\xea\x5e\x1b\x2d\x47\xe4\xe6\xd2\xc7\xd1',
  ],
  ['ISO 2022 IR 126', 'Διονυσιος', '\x1b\x2d\x46\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2'],
  [
    'ISO 2022 IR 138',
    'שרון^דבורה',
    '\x1b\x2d\x48\xf9\xf8\xe5\xef\x5e\x1b\x2d\x48\xe3\xe1\xe5\xf8\xe4',
  ],
  ['ISO 2022 IR 144', 'Люкceмбypг', '\x1b\x2d\x4c\xbb\xee\xda\x63\x65\xdc\xd1\x79\x70\xd3'],
  ['ISO 2022 IR 148', 'Çavuşoğlu', '\x1b\x2d\x4d\xc7\x61\x76\x75\xfe\x6f\xf0\x6c\x75'],
  ['ISO 2022 IR 166', 'นามสกุล', '\x1b\x2d\x54\xb9\xd2\xc1\xca\xa1\xd8\xc5'],
  ['ISO 2022 IR 203', 'Œuvre €', '\x1b\x2d\x62\xbcuvre \xa4'],
];

describe('Specific Character Set: single sets and code extensions', () => {
  for (const [file, charset, raw, expected] of FILE_NAMES) {
    it(`${file} (${charset || 'default'}): Patient's Name as pydicom reads it`, () => {
      assert.deepEqual(decode(charset, raw), { text: expected, warnings: [] });
    });
  }

  for (const [charset, expected, raw] of EXTENSIONS) {
    it(`${charset} after ASCII, designated by its escape sequence`, () => {
      assert.deepEqual(decode(['', charset], 'ASCII+' + raw), {
        text: 'ASCII+' + expected,
        warnings: [],
      });
    });
  }

  it('takes the list form as well as the backslash-separated value', () => {
    const raw = FILE_NAMES.find(([f]) => f === 'chrH32')![2];
    assert.equal(decode(['ISO 2022 IR 13', 'ISO 2022 IR 87'], raw).text, FILE_NAMES[5]![3]);
  });

  it('ISO_IR 203 (Latin-9) alone: € and Œ where Latin-1 has ¤ and ¼', () => {
    assert.equal(decode('ISO_IR 203', '\xa4 \xbc').text, '€ Œ');
    assert.equal(decode('ISO_IR 100', '\xa4 \xbc').text, '¤ ¼');
  });

  it('ISO_IR 13 alone: JIS X 0201 katakana', () => {
    assert.equal(decode('ISO_IR 13', '\xd4\xcf\xc0\xde^\xc0\xdb\xb3').text, 'ﾔﾏﾀﾞ^ﾀﾛｳ');
  });

  it('GBK: a second byte 0x5C is part of the character, not a value delimiter', () => {
    // 匼 (U+533C) is GBK 0x85 0x5C.
    assert.equal(decode('GBK', '\x85\x5c\\A', 'LO').text, '\u533c\\A');
  });

  it('ISO 2022 IR 58 (GB 2312 in G1) and IR 159 (JIS X 0212 in G0)', () => {
    assert.equal(decode(['', 'ISO 2022 IR 58'], '\x1b$)A\xcd\xf5^\x1b$)A\xd0\xa1').text, '王^小');
    // JIS X 0212 0x30 0x21 is 丂 (U+4E02).
    assert.equal(decode(['', 'ISO 2022 IR 159'], 'a\x1b$(D\x30\x21\x1b(Bb').text, 'a丂b');
  });

  it('a set designated before the first delimiter is reset at each PN delimiter', () => {
    // pydicom: missing escape after '^' — the second component is read as Latin-1 with a warning.
    const raw = 'ASCII+\x1b\x29\x49\xd4\xcf\xc0\xde\x5e\xc0\xdb\xb3';
    assert.deepEqual(decode(['', 'ISO 2022 IR 13'], raw), {
      text: 'ASCII+ﾔﾏﾀﾞ^ÀÛ³',
      warnings: ['undeclared-8bit'],
    });
  });

  it('the first value is in effect at the start without an escape (pydicom #707)', () => {
    assert.equal(
      decode(['ISO 2022 IR 100', 'ISO 2022 IR 144'], 'Buc^J\xe9r\xf4me').text,
      'Buc^Jérôme',
    );
    const lo = decode(['ISO 2022 IR 100', 'ISO 2022 IR 144'], 'R\xf6ntgenaufnahme', 'LO');
    assert.equal(lo.text, 'Röntgenaufnahme');
  });

  it('multiple values each in their own set; `\\` resets to the initial set', () => {
    const raw =
      'Buc^J\xe9r\xf4me\\\x1b\x2d\x46\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2\\' +
      '\x1b\x2d\x4c\xbb\xee\xda\x63\x65\xdc\xd1\x79\x70\xd3';
    const sets = ['ISO 2022 IR 100', 'ISO 2022 IR 144', 'ISO 2022 IR 126'];
    assert.equal(decode(sets, raw, 'PN').text, 'Buc^Jérôme\\Διονυσιος\\Люкceмбypг');
    assert.equal(decode(sets, raw, 'LO').text, 'Buc^Jérôme\\Διονυσιος\\Люкceмбypг');
  });

  it('in LT, `\\` is text and does not reset; a new line does', () => {
    const sets = ['ISO 2022 IR 100', 'ISO 2022 IR 126'];
    assert.equal(decode(sets, '\x1b-F\xc4\\\xc4', 'LT').text, 'Δ\\Δ');
    assert.equal(decode(sets, '\x1b-F\xc4\r\n\xc4', 'LT').text, 'Δ\r\nÄ');
  });

  it('text VRs only: CS, UI, DA… are default repertoire whatever the set', () => {
    assert.equal(decode('ISO_IR 144', 'ORIGINAL\\PRIMARY', 'CS').text, 'ORIGINAL\\PRIMARY');
    assert.equal(decode('ISO_IR 144', '\xbb', 'SH').text, 'Л');
  });
});

describe('Specific Character Set: what is not as the standard says', () => {
  it('no Specific Character Set: ASCII, and stray 8-bit bytes as ISO 8859-1 with a warning', () => {
    assert.deepEqual(decode(undefined, 'Doe^John'), { text: 'Doe^John', warnings: [] });
    assert.deepEqual(decode(undefined, 'Buc^J\xe9r\xf4me'), {
      text: 'Buc^Jérôme',
      warnings: ['undeclared-8bit'],
    });
  });

  it('misspelled terms are read as meant, with a warning (as pydicom patches them)', () => {
    for (const [term, expected] of [
      ['ISO IR 192', 'ISO_IR 192'],
      ['ISO-IR 144', 'ISO_IR 144'],
      ['iso_ir 100', 'ISO_IR 100'],
      ['ISO_2022_IR+126', 'ISO 2022 IR 126'],
      ['ISO_2022-IR 100', 'ISO 2022 IR 100'],
    ]) {
      const plan = planCharacterSet(term);
      assert.deepEqual(
        [plan.terms[0], plan.warnings.map((w) => w.code)],
        [
          expected!.replace('ISO_IR 1', plan.extensions ? 'ISO 2022 IR 1' : 'ISO_IR 1'),
          ['misspelled-term'],
        ],
      );
    }
    assert.deepEqual(decode('ISO IR 192', 'Buc^J\xc3\xa9r\xc3\xb4me').text, 'Buc^Jérôme');
  });

  it("'ISO_IR 6' (common, not a defined term) is the default repertoire, with a warning", () => {
    const plan = planCharacterSet('ISO_IR 6');
    assert.deepEqual([plan.terms, plan.extensions], [[''], false]);
    assert.match(plan.warnings[0]!.message, /read as the default repertoire/);
  });

  it('an unknown term: default repertoire, 8-bit bytes kept as ISO 8859-1, both reported', () => {
    assert.deepEqual(decode('KOI8-R', 'Buc^J\xc3\xa9'), {
      text: 'Buc^JÃ©',
      warnings: ['unknown-term', 'undeclared-8bit'],
    });
    assert.deepEqual(decode(['ISO_IR 100', 'KLINGON'], 'J\xe9').text, 'Jé');
  });

  it('an unknown escape sequence is kept as text (pydicom does the same), with a warning', () => {
    const raw = '\x1b\x2d\x46\xc4\xe9\xef';
    assert.deepEqual(decode('ISO_IR 100', raw), { text: '\x1b-FÄéï', warnings: [] });
    assert.deepEqual(decode(['', 'ISO 2022 IR 100'], '\x1b(Zab'), {
      text: '\x1b(Zab',
      warnings: ['unknown-escape'],
    });
  });

  it('an escape for a set that is not declared is honoured and reported', () => {
    assert.deepEqual(decode(['', 'ISO 2022 IR 100'], '\x1b-F\xc4'), {
      text: 'Δ',
      warnings: ['undeclared-escape'],
    });
  });

  it('bytes the declared set rejects are read as ISO 8859-1, not replaced by U+FFFD', () => {
    assert.deepEqual(decode('ISO_IR 192', 'Ren\xe9e'), {
      text: 'Renée',
      warnings: ['invalid-bytes'],
    });
    assert.deepEqual(decode(['', 'ISO 2022 IR 87'], '\x1b$B\x7f'), {
      text: '\x7f',
      warnings: [],
    });
  });

  it('ISO_IR 192 with other values: the others are ignored, with a warning', () => {
    const plan = planCharacterSet('ISO_IR 192\\ISO 2022 IR 87');
    assert.deepEqual(
      [plan.terms, plan.extensions, plan.warnings.map((w) => w.code)],
      [['ISO_IR 192'], false, ['ignored-term']],
    );
  });

  it('every defined term decodes an ASCII value to itself', () => {
    for (const term of KNOWN_CHARACTER_SETS) {
      for (const vr of ['PN', 'LO', 'LT']) {
        assert.equal(decode(term, 'Doe^John 12', vr).text, 'Doe^John 12', `${term} ${vr}`);
      }
    }
  });
});
