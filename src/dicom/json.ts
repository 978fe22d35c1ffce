/**
 * Helpers for the DICOM JSON model (PS3.18 Annex F.2) that QIDO-RS and WADO-RS
 * metadata return. Forgiving by design: servers differ (PN as a plain string, a single
 * object where an array belongs, numbers as strings, null inside value lists), and a
 * browser of other people's data must show what it can rather than throw.
 *
 * Browser-safe (no node: imports): the preview webview uses it too.
 */

// The DICOM JSON model types (PS3.18 §F.2) live in types.ts, apart from these helpers.
import type { DicomJsonAttribute, DicomJsonDataset } from './types';
export type { DicomJsonAttribute, DicomJsonDataset };
import { resolveTag } from './dictionary';

/**
 * A PN value (PS3.18 §F.2.2): up to three component groups, each
 * "Family^Given^Middle^Prefix^Suffix".
 */
export interface DicomPersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

/** The JSON key of a tag: tagKey(0x0020, 0x000d) → "0020000D" (PS3.18 §F.2.1.1). */
export function tagKey(group: number, element: number): string {
  const hex = (n: number) => (n & 0xffff).toString(16).toUpperCase().padStart(4, '0');
  return hex(group) + hex(element);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The attribute for a tag ("0020000D", "(0020,000D)", 0x0020000D) or a keyword
 * ("StudyInstanceUID"). Keys are matched case-insensitively, for servers that send
 * lowercase hex.
 */
export function getAttribute(
  ds: DicomJsonDataset | undefined | null,
  tagOrKeyword: string | number,
): DicomJsonAttribute | undefined {
  if (!isObject(ds)) return undefined;
  const tag = resolveTag(tagOrKeyword);
  if (!tag) return undefined;
  const direct = ds[tag];
  if (isObject(direct)) return direct as DicomJsonAttribute;
  const lower = ds[tag.toLowerCase()];
  return isObject(lower) ? (lower as DicomJsonAttribute) : undefined;
}

/**
 * The Value list of an attribute, always as an array: [] when the attribute is missing
 * or empty (PS3.18 §F.2.5: an empty attribute has no Value), `[x]` when a server sent a
 * single value where an array belongs. Null entries (empty values, §F.2.5) are kept so
 * positions stay meaningful.
 */
export function getValues(
  ds: DicomJsonDataset | undefined | null,
  tagOrKeyword: string | number,
): unknown[] {
  const value = getAttribute(ds, tagOrKeyword)?.Value;
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The first value of an attribute, or undefined when absent or empty (null). */
export function getValue(
  ds: DicomJsonDataset | undefined | null,
  tagOrKeyword: string | number,
): unknown {
  const first = getValues(ds, tagOrKeyword)[0];
  return first === null ? undefined : first;
}

/**
 * One value as text: PN → its Alphabetic (else Ideographic, Phonetic) group; numbers → decimal;
 * null → ''.
 */
function valueToString(value: unknown, vr: string | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return vr === 'PN' ? personNameToString(value) : value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (
    isObject(value) &&
    (vr === 'PN' || 'Alphabetic' in value || 'Ideographic' in value || 'Phonetic' in value)
  ) {
    return personNameToString(value as DicomPersonName);
  }
  return JSON.stringify(value);
}

/**
 * The first value as a string (PN as its Alphabetic form, see {@link personNameToString}),
 * or undefined when the attribute is missing or its first value is empty.
 */
export function getString(
  ds: DicomJsonDataset | undefined | null,
  tagOrKeyword: string | number,
): string | undefined {
  const attribute = getAttribute(ds, tagOrKeyword);
  const first = getValue(ds, tagOrKeyword);
  if (first === undefined) return undefined;
  return valueToString(first, attribute?.vr);
}

/** All values as strings, with '' for null entries (so index i is still value i). */
export function getStrings(
  ds: DicomJsonDataset | undefined | null,
  tagOrKeyword: string | number,
): string[] {
  const vr = getAttribute(ds, tagOrKeyword)?.vr;
  return getValues(ds, tagOrKeyword).map((v) => valueToString(v, vr));
}

/**
 * A JSON number or a numeric string (IS, DS, SV, UV may be sent as strings, PS3.18 §F.2.3) as a
 * number.
 */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    const text = value.trim(); // DS and IS may carry padding spaces (PS3.5 §6.2)
    if (text === '') return undefined;
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/**
 * The first value as a number (US, UL, SS, SL, FL, FD, IS, DS, SV, UV; strings accepted), or
 * undefined.
 */
export function getNumber(
  ds: DicomJsonDataset | undefined | null,
  tagOrKeyword: string | number,
): number | undefined {
  return toNumber(getValue(ds, tagOrKeyword));
}

/** All values as numbers; entries that are null or not numeric become undefined. */
export function getNumbers(
  ds: DicomJsonDataset | undefined | null,
  tagOrKeyword: string | number,
): Array<number | undefined> {
  return getValues(ds, tagOrKeyword).map(toNumber);
}

/**
 * The first value as a bigint, for SV/UV beyond 2^53 that servers send as strings to
 * keep precision (PS3.18 §F.2.3). Undefined when absent or not an integer.
 */
export function getBigInt(
  ds: DicomJsonDataset | undefined | null,
  tagOrKeyword: string | number,
): bigint | undefined {
  const value = getValue(ds, tagOrKeyword);
  try {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined;
    if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return BigInt(value.trim());
  } catch {
    /* not representable */
  }
  return undefined;
}

/** The items of a sequence (SQ); empty items `{}` stay, null items become `{}`. */
export function getSequence(
  ds: DicomJsonDataset | undefined | null,
  tagOrKeyword: string | number,
): DicomJsonDataset[] {
  return getValues(ds, tagOrKeyword).map((item) =>
    isObject(item) ? (item as DicomJsonDataset) : {},
  );
}

/**
 * A PN value as one string: the Alphabetic group, else the Ideographic, else the
 * Phonetic one (PS3.18 §F.2.2). A plain string (sent by some servers) is taken as the
 * DICOM-encoded form, "Alphabetic=Ideographic=Phonetic" (PS3.5 §6.2.1), and its first
 * non-empty group is returned. The "^" separators are kept: see {@link formatPersonName}.
 */
export function personNameToString(pn: DicomPersonName | string | null | undefined): string {
  if (pn === null || pn === undefined) return '';
  if (typeof pn === 'string') return pn.split('=').find((group) => group !== '') ?? '';
  if (!isObject(pn)) return '';
  for (const group of [pn.Alphabetic, pn.Ideographic, pn.Phonetic]) {
    if (typeof group === 'string' && group !== '') return group;
  }
  return '';
}

/**
 * A readable person name. Components are Family^Given^Middle^Prefix^Suffix
 * (PS3.5 §6.2.1.1); the result is "Family, Prefix Given Middle, Suffix" with empty
 * parts left out: "Doe^John" → "Doe, John", "Doe^John^Q^Dr^Jr" → "Doe, Dr John Q, Jr",
 * "Doe" → "Doe", "^John" → "John". Accepts whatever {@link personNameToString} accepts.
 */
export function formatPersonName(pn: DicomPersonName | string | null | undefined): string {
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = personNameToString(pn)
    .split('^')
    .map((c) => c.trim());
  const rest = [prefix, given, middle].filter(Boolean).join(' ');
  let out = [family, rest].filter(Boolean).join(', ');
  if (suffix) out = out ? `${out}, ${suffix}` : suffix;
  return out;
}

/**
 * "20210716" → "2021-07-16" (DA, PS3.5 §6.2). Also formats the ACR-NEMA form
 * "2021.07.16" and ranges "20210101-20211231" (QIDO matching, PS3.18 §8.3.4.6.1).
 * Anything else is returned unchanged (trimmed): showing the raw value beats hiding it.
 */
export function formatDicomDate(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = value.trim();
  const range = /^(\d{8})?-(\d{8})?$/.exec(text);
  if (range && (range[1] || range[2])) {
    return `${range[1] ? formatDicomDate(range[1]) : ''} – ${range[2] ? formatDicomDate(range[2]) : ''}`.trim();
  }
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(text);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : text;
}

/**
 * "101530.123456" → "10:15:30.123456" (TM, PS3.5 §6.2: HH, HHMM, HHMMSS, HHMMSS.F{1,6}).
 * The ACR-NEMA form "10:15:30" passes as is; anything else is returned unchanged.
 */
export function formatDicomTime(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = value.trim();
  const m = /^(\d{2})(\d{2})?(\d{2})?(\.\d{1,6})?$/.exec(text);
  if (!m || (m[4] && !m[3])) return text;
  return [m[1], m[2], m[3]].filter(Boolean).join(':') + (m[4] ?? '');
}

/**
 * "20210716101530.5+0100" → "2021-07-16 10:15:30.5 +0100" (DT, PS3.5 §6.2:
 * YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX]). Anything else is returned unchanged.
 */
export function formatDicomDateTime(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = value.trim();
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,6})?([+-]\d{4})?$/.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const date = [y, mo, d].filter(Boolean).join('-');
  const time = h ? [h, mi, s].filter(Boolean).join(':') + (s && frac ? frac : '') : '';
  return [date, time, zone].filter(Boolean).join(' ');
}
