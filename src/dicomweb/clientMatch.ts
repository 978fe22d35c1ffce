/**
 * Matching keys a server cannot take as typed, and the exact filter that makes up for it.
 *
 * Orthanc 1.10 (Debian's) does not percent-decode QIDO search values: `PatientName=M%C3%BCller*`
 * or `*Mary%20Ann*` match nothing there (../shared/docs/orthanc.md, "Behaviour measured"),
 * while a space or a non-ASCII letter cannot travel raw in a URL (RFC 3986 §2.1, §3.4). For
 * such a server the client sends the nearest pattern it understands — a wider one — and
 * keeps, of the answer, exactly the rows the typed value matches, with the local server's
 * matcher (PS3.4 §C.2.2.2.4 wildcards, case-insensitive as Orthanc and Azure match). The
 * results are then the same on every server.
 *
 * No `vscode` import.
 */
import { compileWildcard, wildcardMatches } from '../dicom/wildcard';
import { lookupTag, resolveTag } from '../dicom/dictionary';
import { encodeQueryValue, type QidoQuery } from './requests';
import type { DicomJsonDataset } from '../dicom/types';
import { Tag } from '../dicom/tags';

/** A matching key sent wider than typed: what to check on the answer. */
export interface ClientFilter {
  /** The attribute's tag (`00100010`). */
  tag: string;
  vr: string | undefined;
  /** The value as the person typed it. */
  typed: string;
}

/** Whether a value reaches the server unchanged (nothing in it is percent-encoded). */
export function travelsRaw(value: string): boolean {
  return encodeQueryValue(value) === value;
}

/**
 * The nearest pattern a server that does not percent-decode understands, always matching at
 * least what `value` matches: an ASCII character that would be percent-encoded (space,
 * `& # % + = " < > [ ] { } | \ $` …) becomes `?` (exactly one character), and the value is
 * cut at its first non-ASCII character with `*` appended — Orthanc folds accented letters
 * to ASCII in its index (`Müller` is stored as `MULLER`) and how many characters a CJK name
 * leaves there is its own business, so no `?` count would be safe.
 */
export function widenForRawServer(value: string): string {
  let out = '';
  for (const char of value) {
    if (char.charCodeAt(0) > 0x7e) {
      out = `${out}*`;
      break;
    }
    out += travelsRaw(char) ? char : '?';
  }
  return out.replace(/\*{2,}/g, '*');
}

/**
 * Splits a query into what the server is sent and the filters to apply to its answer.
 * Only wildcard-style keys (text, PN, CS) are widened; UID lists and date ranges never hold
 * such characters.
 */
export function planQuery(
  query: QidoQuery,
  decodesPercent: boolean,
): { sent: QidoQuery; filters: ClientFilter[] } {
  if (decodesPercent || !query.match) return { sent: query, filters: [] };
  const match: NonNullable<QidoQuery['match']> = {};
  const filters: ClientFilter[] = [];
  for (const [key, value] of Object.entries(query.match)) {
    const tag = typeof value === 'string' ? resolveTag(key) : undefined;
    if (typeof value !== 'string' || travelsRaw(value) || !tag) {
      match[key] = value;
      continue;
    }
    match[key] = widenForRawServer(value);
    filters.push({ tag, vr: lookupTag(tag)?.vr, typed: value.trim() });
  }
  if (filters.length === 0) return { sent: query, filters };
  // The answer must carry the attributes checked (PS3.18 §10.6.3.3.1 asks servers to return
  // matching keys, but asking costs nothing).
  const includeField =
    query.includeField === 'all'
      ? 'all'
      : [...new Set([...(query.includeField ?? []), ...filters.map((filter) => filter.tag)])];
  return { sent: { ...query, match, includeField }, filters };
}

/** The values of an attribute as text: a PN as `Alphabetic=Ideographic=Phonetic`. */
function textValues(dataset: DicomJsonDataset, tag: string): string[] {
  const values = (dataset[tag] as { Value?: unknown[] } | undefined)?.Value ?? [];
  return values.map((value) => {
    if (value && typeof value === 'object') {
      const name = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
      return [name.Alphabetic ?? '', name.Ideographic ?? '', name.Phonetic ?? '']
        .join('=')
        .replace(/=+$/, '');
    }
    return value === null || value === undefined ? '' : String(value);
  });
}

/**
 * Whether a dataset matches one typed value, as the local server decides it (src/server/qido.ts
 * `matcher`): a PN on its whole value or on one component group, trailing `^` ignored; a CS
 * on any of comma-separated alternatives; text by wildcard; a multi-valued attribute when
 * one value does.
 */
export function matchesTyped(dataset: DicomJsonDataset, filter: ClientFilter): boolean {
  const alternatives =
    filter.vr === 'CS' ? filter.typed.split(',').map((value) => value.trim()) : [filter.typed];
  const patterns = alternatives.map((value) => compileWildcard(value));
  const test = (value: string): boolean =>
    patterns.some((pattern) => wildcardMatches(pattern, value));
  return textValues(dataset, filter.tag).some((raw) => {
    const value = raw.trim();
    if (filter.vr !== 'PN') return test(value);
    return (
      test(value) ||
      value.split('=').some((group) => test(group)) ||
      test(value.replace(/\^+$/, ''))
    );
  });
}

/** The rows of an answer that match every filter. */
export function applyClientFilters(
  items: DicomJsonDataset[],
  filters: readonly ClientFilter[],
): DicomJsonDataset[] {
  return filters.length === 0
    ? items
    : items.filter((item) => filters.every((filter) => matchesTyped(item, filter)));
}

/**
 * Whether a row's copy of the attribute may have lost characters of the typed value. Orthanc
 * answers QIDO from its index in its DefaultEncoding (Latin-1 unless configured, declared in
 * the row's SpecificCharacterSet `ISO_IR 100`): a CJK name arrives as `^`. A typed character
 * beyond the row's character set cannot be judged from the row; the instance's metadata,
 * read from the stored file (UTF-8 in DICOM JSON, PS3.18 §F.2), can.
 */
export function rowMayBeLossy(dataset: DicomJsonDataset, filter: ClientFilter): boolean {
  const charsets = (
    (dataset[Tag.SpecificCharacterSet] as { Value?: unknown[] } | undefined)?.Value ?? []
  )
    .map(String)
    .join('\\');
  // Unicode-capable sets (PS3.3 C.12.1.1.2): UTF-8, GB18030, GBK and the ISO 2022 extensions.
  // No SpecificCharacterSet in the row: DICOM JSON is Unicode text (PS3.18 §F.2), nothing to
  // suspect.
  if (charsets === '' || /ISO_IR 192|GB18030|GBK|ISO 2022/.test(charsets)) return false;
  const limit = /^ISO_IR 6$/.test(charsets) ? 0x7f : 0xff;
  for (const char of filter.typed) if (char.codePointAt(0)! > limit) return true;
  return false;
}

/** The row with the attribute replaced by the source's copy (the instance metadata). */
export function withSourceValue(
  dataset: DicomJsonDataset,
  source: DicomJsonDataset,
  filter: ClientFilter,
): DicomJsonDataset {
  return source[filter.tag] ? { ...dataset, [filter.tag]: source[filter.tag]! } : dataset;
}
