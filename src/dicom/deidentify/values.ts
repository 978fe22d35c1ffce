/**
 * Values de-identification writes: dummies valid for each VR (PS3.15 §E.1.1 "D"), shifted
 * dates (PS3.15 §E.3.6), and the short summaries the preview shows.
 *
 * Every text written is ASCII, so it is valid in any Specific Character Set the data set
 * declares (PS3.5 §6.1: the default repertoire is in all of them) and (0008,0005) stays.
 */

/** Character-string VRs (PS3.5 §6.2). */
export const TEXT_VRS = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UI',
  'UR',
  'UT',
]);

/** Bytes of one value of the binary VRs, for a dummy of one zero value. */
const BINARY_UNIT: Readonly<Record<string, number>> = {
  US: 2,
  SS: 2,
  UL: 4,
  SL: 4,
  FL: 4,
  FD: 8,
  SV: 8,
  UV: 8,
  AT: 4,
  OB: 2,
  OW: 2,
  OF: 4,
  OD: 8,
  OL: 4,
  OV: 8,
  UN: 2,
};

/** The text every free-text dummy holds. */
export const DUMMY_TEXT = 'ANONYMIZED';

/** Dummy text values per VR, each valid for its VR's grammar and length (PS3.5 §6.2). */
const TEXT_DUMMIES: Readonly<Record<string, string>> = {
  AE: DUMMY_TEXT,
  AS: '000Y',
  CS: DUMMY_TEXT,
  DA: '19000101',
  DS: '0',
  DT: '19000101000000',
  IS: '0',
  LO: DUMMY_TEXT,
  LT: DUMMY_TEXT,
  PN: DUMMY_TEXT,
  SH: DUMMY_TEXT,
  ST: DUMMY_TEXT,
  TM: '000000',
  UC: DUMMY_TEXT,
  UR: DUMMY_TEXT,
  UT: DUMMY_TEXT,
};

/**
 * A dummy for a VR other than UI and SQ (those are handled by UID replacement and by the
 * sequence rules): text for string VRs, one zero value for binary ones.
 */
export function dummyValue(vr: string): string | Uint8Array {
  const text = TEXT_DUMMIES[vr];
  if (text !== undefined) return text;
  return new Uint8Array(BINARY_UNIT[vr] ?? 2);
}

const DAY_MS = 86_400_000;

/** YYYYMMDD moved back `days` days, or undefined when `date` is not a full date. */
function shiftDate(date: string, days: number): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  if (!m) return undefined;
  const time = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const check = new Date(time);
  if (check.getUTCDate() !== Number(m[3]) || check.getUTCMonth() !== Number(m[2]) - 1)
    return undefined;
  const shifted = new Date(time - days * DAY_MS);
  const year = shifted.getUTCFullYear();
  if (year < 1) return undefined;
  return (
    String(year).padStart(4, '0') +
    String(shifted.getUTCMonth() + 1).padStart(2, '0') +
    String(shifted.getUTCDate()).padStart(2, '0')
  );
}

/**
 * A DA or DT value (each of its values, `\`-separated) moved back `days` days: the date part
 * moves, a DT's time, fraction and UTC offset stay, since the shift is whole days. A value
 * that is not a full date (a year alone, garbage) becomes empty: it cannot be shifted, and
 * keeping it would keep the real date.
 */
export function shiftDates(value: string, vr: 'DA' | 'DT', days: number): string {
  return value
    .split('\\')
    .map((one) => {
      if (one === '') return '';
      const datePart = vr === 'DA' ? one : one.slice(0, 8);
      const shifted = shiftDate(datePart, days);
      if (shifted === undefined) return '';
      return vr === 'DA' ? shifted : shifted + one.slice(8);
    })
    .join('\\');
}

/** Longest text a summary shows before "…". */
export const SUMMARY_CHARS = 64;

/** The text of a string value: latin1 (ASCII-safe), without its padding (PS3.5 §6.2). */
export function textOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(/[\0 ]+$/, '');
}

/** One short line for a value in the preview: the text, or the size of binary data. */
export function summarize(vr: string, bytes: Uint8Array | undefined, items?: number): string {
  if (items !== undefined) return `${items} item${items === 1 ? '' : 's'}`;
  if (!bytes || bytes.length === 0) return '(empty)';
  if (!TEXT_VRS.has(vr)) return `${bytes.length} bytes`;
  // Control characters (CR, LF, ESC of ISO 2022) would break the preview's one-line layout.
  const text = [...textOf(bytes)].map((c) => (c < ' ' ? ' ' : c)).join('');
  return text.length > SUMMARY_CHARS ? `${text.slice(0, SUMMARY_CHARS)}…` : text;
}
