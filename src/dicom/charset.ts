/**
 * Specific Character Set (0008,0005): bytes of the text VRs to Unicode (PS3.5 §6.1, Annexes
 * H–K; PS3.3 C.12.1.1.2), including ISO 2022 code extensions with escape sequences.
 *
 * Hand-written on the platform's TextDecoder (full ICU in Node 20+, Electron and browsers)
 * rather than on `dicom-character-set`: that package throws on an unknown defined term or
 * escape sequence (the whole value is lost), has no ISO_IR 203, decodes undeclared 8-bit bytes
 * of the default repertoire as U+FFFD, and cannot say what it did. Here a value never loses a
 * byte: what cannot be decoded as declared is decoded as ISO 8859-1 and reported.
 */

/** Something about a data set's text that was not as the standard says, and what was done. */
export interface CharsetWarning {
  code:
    | 'unknown-term'
    | 'misspelled-term'
    | 'ignored-term'
    | 'unknown-escape'
    | 'undeclared-escape'
    | 'undeclared-8bit'
    | 'invalid-bytes';
  message: string;
}

/** Decodes one value's bytes for its VR. */
export type TextDecode = (bytes: Uint8Array, vr: string) => string;

/** PS3.5 §6.1.2.3: only these VRs use the Specific Character Set; the rest: default repertoire. */
const CHARSET_VRS: ReadonlySet<string> = new Set(['SH', 'LO', 'ST', 'LT', 'UC', 'UT', 'PN']);

/** ISO 2022 code element: one graphic set designated to G0 (bytes < 0x80) or G1 (≥ 0x80). */
interface CodeElement {
  name: string;
  plane: 'G0' | 'G1';
  bytesPerChar: 1 | 2;
  escape: readonly number[];
  decode: (bytes: Uint8Array) => string;
}

interface Term {
  /** Decoder of the whole value when this term stands alone without code extensions. */
  whole?: (bytes: Uint8Array) => string;
  /** The term's code elements when used with ISO 2022 code extensions (PS3.3 Table C.12-3/4). */
  elements?: readonly CodeElement[];
  /** PS3.3 C.12.1.1.2: ISO_IR 192, GB18030 and GBK cannot be combined with code extensions. */
  standalone?: boolean;
}

type PlatformDecoder = InstanceType<typeof TextDecoder>;
const decoders = new Map<string, PlatformDecoder>();
function platformDecoder(label: string, fatal: boolean): PlatformDecoder {
  const key = `${label}|${fatal}`;
  let decoder = decoders.get(key);
  if (!decoder) {
    decoder = new TextDecoder(label, { fatal });
    decoders.set(key, decoder);
  }
  return decoder;
}

/** Bytes that the named encoding rejects are decoded as ISO 8859-1 instead, so none is lost. */
class InvalidBytes extends Error {}

function decodeWith(label: string): (bytes: Uint8Array) => string {
  return (bytes) => {
    try {
      return platformDecoder(label, true).decode(bytes);
    } catch {
      throw new InvalidBytes(label);
    }
  };
}

/** ISO 8859-1 byte for byte: U+0000–U+00FF, lossless (the fallback for anything undecodable). */
function latin1(bytes: Uint8Array): string {
  // ASCII (nearly every value) is the same in UTF-8, whose platform decoder is the fastest.
  if (isAscii(bytes)) return platformDecoder('utf-8', false).decode(bytes);
  let out = '';
  for (let at = 0; at < bytes.length; at += 4096) {
    out += String.fromCharCode(...bytes.subarray(at, at + 4096));
  }
  return out;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

function withHighBit(bytes: Uint8Array, prefix?: number): Uint8Array {
  const step = prefix === undefined ? 2 : 3;
  const out = new Uint8Array((bytes.length / 2) * step);
  for (let i = 0, o = 0; i + 1 < bytes.length; i += 2) {
    if (prefix !== undefined) out[o++] = prefix;
    out[o++] = bytes[i]! | 0x80;
    out[o++] = bytes[i + 1]! | 0x80;
  }
  return out;
}

const ESC = 0x1b;
const ascii: CodeElement = {
  name: 'ASCII',
  plane: 'G0',
  bytesPerChar: 1,
  escape: [ESC, 0x28, 0x42],
  decode: latin1,
};

/** ISO 8859 right-hand parts, designated to G1 with ESC 02/13 F (PS3.3 Table C.12-3). */
function g1Set(name: string, final: number, label: string): CodeElement {
  return {
    name,
    plane: 'G1',
    bytesPerChar: 1,
    escape: [ESC, 0x2d, final],
    decode: decodeWith(label),
  };
}

const latin1G1: CodeElement = { ...g1Set('ISO 8859-1', 0x41, 'latin1'), decode: latin1 };
const SINGLE_BYTE: Record<string, CodeElement> = {
  '100': latin1G1,
  '101': g1Set('ISO 8859-2', 0x42, 'iso-8859-2'),
  '109': g1Set('ISO 8859-3', 0x43, 'iso-8859-3'),
  '110': g1Set('ISO 8859-4', 0x44, 'iso-8859-4'),
  '144': g1Set('ISO 8859-5', 0x4c, 'iso-8859-5'),
  '127': g1Set('ISO 8859-6', 0x47, 'iso-8859-6'),
  '126': g1Set('ISO 8859-7', 0x46, 'iso-8859-7'),
  '138': g1Set('ISO 8859-8', 0x48, 'iso-8859-8'),
  '148': g1Set('ISO 8859-9', 0x4d, 'iso-8859-9'),
  '203': g1Set('ISO 8859-15', 0x62, 'iso-8859-15'),
  '166': g1Set('TIS 620-2533', 0x54, 'windows-874'),
};

// PS3.5 Annex H/J: JIS X 0201 (Shift_JIS single bytes; 0x5C stays a backslash so it can
// delimit values, as pydicom and dcmtk read it), JIS X 0208/0212 as EUC-JP with the high bit set.
const jisRomaji: CodeElement = {
  name: 'JIS X 0201 Romaji',
  plane: 'G0',
  bytesPerChar: 1,
  escape: [ESC, 0x28, 0x4a],
  decode: decodeWith('shift_jis'),
};
const jisKatakana: CodeElement = {
  name: 'JIS X 0201 Katakana',
  plane: 'G1',
  bytesPerChar: 1,
  escape: [ESC, 0x29, 0x49],
  decode: decodeWith('shift_jis'),
};
const MULTI_BYTE: Record<string, CodeElement> = {
  '87': {
    name: 'JIS X 0208',
    plane: 'G0',
    bytesPerChar: 2,
    escape: [ESC, 0x24, 0x42],
    decode: (bytes) => decodeWith('euc-jp')(withHighBit(bytes)),
  },
  '159': {
    name: 'JIS X 0212',
    plane: 'G0',
    bytesPerChar: 2,
    escape: [ESC, 0x24, 0x28, 0x44],
    decode: (bytes) => decodeWith('euc-jp')(withHighBit(bytes, 0x8f)),
  },
  // PS3.5 Annex I: KS X 1001 in G1 is EUC-KR; Annex K: GB 2312 in G1 is EUC-CN (a GB18030 subset).
  '149': {
    name: 'KS X 1001',
    plane: 'G1',
    bytesPerChar: 2,
    escape: [ESC, 0x24, 0x29, 0x43],
    decode: decodeWith('euc-kr'),
  },
  '58': {
    name: 'GB 2312',
    plane: 'G1',
    bytesPerChar: 2,
    escape: [ESC, 0x24, 0x29, 0x41],
    decode: decodeWith('gb18030'),
  },
};

function buildTerms(): Record<string, Term> {
  const terms: Record<string, Term> = {
    'ISO 2022 IR 6': { elements: [ascii] },
    'ISO_IR 13': { whole: decodeWith('shift_jis') },
    'ISO 2022 IR 13': { elements: [jisRomaji, jisKatakana] },
    'ISO_IR 192': { whole: decodeWith('utf-8'), standalone: true },
    GB18030: { whole: decodeWith('gb18030'), standalone: true },
    GBK: { whole: decodeWith('gbk'), standalone: true },
  };
  for (const [number, element] of Object.entries(SINGLE_BYTE)) {
    // Without extensions bytes < 0x80 are ASCII, which every ISO 8859 part and TIS 620 contain.
    terms[`ISO_IR ${number}`] = { whole: element.decode };
    terms[`ISO 2022 IR ${number}`] = { elements: [ascii, element] };
  }
  for (const [number, element] of Object.entries(MULTI_BYTE)) {
    terms[`ISO 2022 IR ${number}`] = { elements: [element] };
  }
  return terms;
}

const TERMS = buildTerms();
const ALL_ELEMENTS: readonly CodeElement[] = [
  ascii,
  jisRomaji,
  jisKatakana,
  ...Object.values(SINGLE_BYTE),
  ...Object.values(MULTI_BYTE),
];

/** The defined terms this module decodes (PS3.3 Table C.12-2, C.12-3, C.12-4, C.12-5). */
export const KNOWN_CHARACTER_SETS: readonly string[] = ['', ...Object.keys(TERMS)];

/** A Specific Character Set, read: the terms in use and what was not as the standard says. */
export interface CharacterSetPlan {
  /** The defined terms in use, in order, after spelling fixes; '' = default repertoire. */
  terms: string[];
  /** True when ISO 2022 code extensions (escape sequences) are in effect. */
  extensions: boolean;
  warnings: CharsetWarning[];
}

function splitTerms(specificCharacterSet: string | readonly string[] | undefined): string[] {
  if (specificCharacterSet === undefined) return [];
  const list =
    typeof specificCharacterSet === 'string'
      ? specificCharacterSet.split('\\')
      : [...specificCharacterSet];
  const terms = list.map((t) => t.replace(/[\0 ]+$/, '').replace(/^ +/, ''));
  while (terms.length > 1 && terms[terms.length - 1] === '') terms.pop();
  return terms.length === 1 && terms[0] === '' ? [] : terms;
}

/** Misspellings (`ISO IR 100`, `ISO-IR 144`, `ISO_2022_IR+126`, lower case) as pydicom fixes. */
function respell(term: string): string {
  const upper = term.toUpperCase();
  if (TERMS[upper]) return upper;
  // Not a defined term (the default repertoire is an empty value, PS3.3 C.12.1.1.2) but common.
  if (upper === 'ISO_IR 6' || upper === 'ISO IR 6') return '';
  const plain = /^ISO[ _-]?IR[ _-]?(\d+)$/.exec(upper);
  if (plain && TERMS[`ISO_IR ${plain[1]}`]) return `ISO_IR ${plain[1]}`;
  const ext = /^ISO[ _-]?2022[ _-]?IR[ _+-]?(\d+)$/.exec(upper);
  if (ext && TERMS[`ISO 2022 IR ${ext[1]}`]) return `ISO 2022 IR ${ext[1]}`;
  if (upper === 'GB 18030' || upper === 'GB-18030') return 'GB18030';
  return term;
}

/**
 * Reads a Specific Character Set value: fixes common misspellings, drops unknown terms (the
 * default repertoire stands in for an unknown first term), each with a warning, and, when there
 * are several values, reads single-byte terms as their ISO 2022 equivalents (`ISO_IR 100` as
 * `ISO 2022 IR 100`, PS3.3 C.12.1.1.2), as pydicom and dicom-character-set do.
 */
export function planCharacterSet(
  specificCharacterSet: string | readonly string[] | undefined,
): CharacterSetPlan {
  const warnings: CharsetWarning[] = [];
  const raw = splitTerms(specificCharacterSet);
  const terms = raw.map((term, index) => {
    if (term === '') return '';
    const fixed = respell(term);
    if (fixed !== '' && !TERMS[fixed]) {
      warnings.push({
        code: 'unknown-term',
        message: `Unknown Specific Character Set '${term}'${index === 0 ? ': decoded as the default repertoire, other bytes as ISO 8859-1' : ': ignored'}`,
      });
      return undefined;
    }
    if (fixed !== term) {
      warnings.push({
        code: 'misspelled-term',
        message: `Incorrect Specific Character Set '${term}': read as ${fixed ? `'${fixed}'` : 'the default repertoire'}`,
      });
    }
    return fixed;
  });
  const first = terms[0];
  if (first && TERMS[first]!.standalone) {
    if (terms.length > 1) {
      warnings.push({
        code: 'ignored-term',
        message: `'${first}' cannot be combined with code extensions (PS3.3 C.12.1.1.2): '${raw.slice(1).join('\\')}' ignored`,
      });
    }
    return { terms: [first], extensions: false, warnings };
  }
  const known = terms.filter((t, i): t is string => t !== undefined && (i === 0 || t !== ''));
  if (terms[0] === undefined) known.unshift('');
  return planExtensions(known, raw.length, warnings);
}

function planExtensions(
  known: string[],
  declared: number,
  warnings: CharsetWarning[],
): CharacterSetPlan {
  const extensions = declared > 1 || known.some((t) => t.startsWith('ISO 2022'));
  if (!extensions) return { terms: known.length ? known : [''], extensions, warnings };
  const terms = known.map((term) => {
    if (term === '') return 'ISO 2022 IR 6';
    if (term.startsWith('ISO_IR ') && TERMS[term.replace('ISO_IR', 'ISO 2022 IR')]) {
      return term.replace('ISO_IR', 'ISO 2022 IR');
    }
    if (TERMS[term]!.standalone) {
      warnings.push({
        code: 'ignored-term',
        message: `'${term}' cannot be combined with code extensions (PS3.3 C.12.1.1.2): ignored`,
      });
      return undefined;
    }
    return term;
  });
  return {
    terms: terms.filter((t): t is string => t !== undefined),
    extensions: true,
    warnings,
  };
}

/**
 * A decoder for the text VRs of a data set whose Specific Character Set (0008,0005) is given
 * (its raw value, backslash-separated, or the list); undefined = default repertoire.
 * Warnings (unknown terms once, then per value: unknown escapes, undecodable bytes) go to
 * `onWarning`; the text is always returned, never an exception.
 */
export function textDecoder(
  specificCharacterSet: string | readonly string[] | undefined,
  onWarning?: (warning: CharsetWarning) => void,
): TextDecode {
  const plan = planCharacterSet(specificCharacterSet);
  const warn = onWarning ?? (() => undefined);
  for (const warning of plan.warnings) warn(warning);
  const decodeText = plan.extensions
    ? iso2022Decoder(plan.terms, warn)
    : wholeDecoder(plan.terms[0] ?? '', warn);
  return (bytes, vr) => {
    if (!CHARSET_VRS.has(vr)) return defaultRepertoire(bytes, warn);
    return decodeText(bytes, vr);
  };
}

/** PS3.5 §6.1.2.1: the default repertoire is ASCII; stray 8-bit bytes are read as ISO 8859-1. */
function defaultRepertoire(bytes: Uint8Array, warn: (w: CharsetWarning) => void): string {
  if (!isAscii(bytes)) {
    warn({
      code: 'undeclared-8bit',
      message:
        'Bytes above 0x7F in the default repertoire (no Specific Character Set for them): read as ISO 8859-1',
    });
  }
  return latin1(bytes);
}

function wholeDecoder(term: string, warn: (w: CharsetWarning) => void): (b: Uint8Array) => string {
  const decode = TERMS[term]?.whole;
  if (!decode) return (bytes) => defaultRepertoire(bytes, warn);
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      if (!(error instanceof InvalidBytes)) throw error;
      warn({
        code: 'invalid-bytes',
        message: `A value is not valid ${term}: read as ISO 8859-1`,
      });
      return latin1(bytes);
    }
  };
}

// PS3.5 §6.1.2.5.3: these reset G0/G1 to the initial sets (CR, LF, FF, TAB always; `\` between
// values except in the single-valued ST, LT, UT; `^` and `=` between PN components and groups).
const LINE_DELIMITERS = [0x0d, 0x0a, 0x0c, 0x09];
function delimitersFor(vr: string): ReadonlySet<number> {
  const set = new Set(LINE_DELIMITERS);
  if (vr !== 'ST' && vr !== 'LT' && vr !== 'UT') set.add(0x5c);
  if (vr === 'PN') {
    set.add(0x5e);
    set.add(0x3d);
  }
  return set;
}

interface Designation {
  G0: CodeElement;
  G1: CodeElement | undefined;
}

function initialDesignation(terms: readonly string[]): Designation {
  // PS3.5 §6.1.2.5.1: the first value's sets are designated at the start of each value; a
  // multi-byte G0 set (JIS X 0208/0212) only ever by escape, so G0 starts as ASCII then.
  const elements = TERMS[terms[0] ?? '']?.elements ?? [ascii];
  const g0 = elements.find((e) => e.plane === 'G0' && e.bytesPerChar === 1) ?? ascii;
  return { G0: g0, G1: elements.find((e) => e.plane === 'G1') };
}

function iso2022Decoder(
  terms: readonly string[],
  warn: (w: CharsetWarning) => void,
): (bytes: Uint8Array, vr: string) => string {
  // ASCII (ESC ( B) is accepted without a warning even when not declared: files return to it
  // after JIS X 0208 under 'ISO 2022 IR 13' (pydicom's chrSQEncoding), and it changes nothing.
  const declared = new Set([ascii, ...terms.flatMap((t) => TERMS[t]?.elements ?? [])]);
  const initial = initialDesignation(terms);
  return (bytes, vr) => new Iso2022Run(bytes, delimitersFor(vr), initial, declared, warn).decode();
}

function escapeAt(bytes: Uint8Array, at: number): CodeElement | undefined {
  return ALL_ELEMENTS.find((element) => element.escape.every((byte, i) => bytes[at + i] === byte));
}

/** One value through the ISO 2022 state machine (PS3.5 §6.1.2.5, Annex H, I, K). */
class Iso2022Run {
  private out = '';
  private active: Designation;
  private runStart = 0;
  private runElement: CodeElement | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly delimiters: ReadonlySet<number>,
    private readonly initial: Designation,
    private readonly declared: ReadonlySet<CodeElement>,
    private readonly warn: (w: CharsetWarning) => void,
  ) {
    this.active = { ...initial };
  }

  decode(): string {
    const { bytes } = this;
    let at = 0;
    while (at < bytes.length) {
      const byte = bytes[at]!;
      if (byte === ESC) {
        at = this.escape(at);
        continue;
      }
      const element = this.elementFor(byte);
      const width = element && element.bytesPerChar === 2 && this.isDoubleByte(byte) ? 2 : 1;
      if (element !== this.runElement) this.startRun(at, element);
      at += width;
      if (width === 1 && this.delimiters.has(byte) && byte < 0x80) {
        this.flush(at);
        this.active = { ...this.initial };
      }
    }
    this.flush(bytes.length);
    return this.out;
  }

  /** The element a byte belongs to; undefined for an 8-bit byte with no G1 set designated. */
  private elementFor(byte: number): CodeElement | undefined {
    if (byte >= 0x80) return this.active.G1;
    // C0 controls and SPACE are the same in every G0 set.
    if (byte <= 0x20 || byte === 0x7f)
      return this.active.G0.bytesPerChar === 2 ? ascii : this.active.G0;
    return this.active.G0;
  }

  private isDoubleByte(byte: number): boolean {
    return byte >= 0x80 ? byte >= 0xa1 && byte <= 0xfe : byte >= 0x21 && byte <= 0x7e;
  }

  private escape(at: number): number {
    const element = escapeAt(this.bytes, at);
    if (!element) {
      // pydicom keeps an unknown escape sequence as text; so do we (nothing dropped).
      this.warn({
        code: 'unknown-escape',
        message: `Unknown escape sequence at byte ${at}: kept as text`,
      });
      if (this.runElement !== ascii) this.startRun(at, ascii);
      return at + 1;
    }
    if (!this.declared.has(element)) {
      this.warn({
        code: 'undeclared-escape',
        message: `Escape sequence for ${element.name} at byte ${at}, a set not in Specific Character Set: decoded anyway`,
      });
    }
    this.flush(at);
    this.active[element.plane] = element;
    this.runStart = at + element.escape.length;
    this.runElement = undefined;
    return this.runStart;
  }

  private startRun(at: number, element: CodeElement | undefined): void {
    this.flush(at);
    this.runStart = at;
    this.runElement = element;
  }

  private flush(end: number): void {
    if (end <= this.runStart) return;
    const run = this.bytes.subarray(this.runStart, end);
    this.runStart = end;
    this.out += this.decodeRun(run, this.runElement);
  }

  private decodeRun(run: Uint8Array, element: CodeElement | undefined): string {
    if (!element) {
      this.warn({
        code: 'undeclared-8bit',
        message: 'Bytes above 0x7F with no G1 character set designated: read as ISO 8859-1',
      });
      return latin1(run);
    }
    try {
      return element.decode(run);
    } catch (error) {
      if (!(error instanceof InvalidBytes)) throw error;
      this.warn({
        code: 'invalid-bytes',
        message: `Bytes not valid in ${element.name}: read as ISO 8859-1`,
      });
      return latin1(run);
    }
  }
}
