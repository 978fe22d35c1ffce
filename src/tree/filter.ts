/**
 * A connection's study filter: the QIDO matching keys people search by (PS3.18 §8.3.4),
 * kept per connection in the workspace state and shown in the connection's description.
 */
import type { QidoQuery } from '../dicomweb/requests';

export interface StudyFilter {
  /** Wildcards `*` and `?` allowed; `^` separates family and given names. */
  patientName?: string;
  patientId?: string;
  /** `YYYYMMDD`, or a range `YYYYMMDD-YYYYMMDD`, `YYYYMMDD-`, `-YYYYMMDD`. */
  studyDate?: string;
  modality?: string;
  accessionNumber?: string;
  studyDescription?: string;
  /** Any other attribute by keyword or tag. */
  attributes?: Record<string, string>;
}

const LABELS: Array<[keyof Omit<StudyFilter, 'attributes'>, string, string]> = [
  ['patientName', 'PatientName', 'patient'],
  ['patientId', 'PatientID', 'ID'],
  ['studyDate', 'StudyDate', 'date'],
  ['modality', 'ModalitiesInStudy', 'modality'],
  ['accessionNumber', 'AccessionNumber', 'accession'],
  ['studyDescription', 'StudyDescription', 'description'],
];

export function filterToMatch(filter: StudyFilter | undefined): QidoQuery['match'] {
  const match: Record<string, string> = {};
  if (!filter) return match;
  for (const [field, keyword] of LABELS) {
    const value = filter[field]?.trim();
    if (value) match[keyword] = value;
  }
  for (const [key, value] of Object.entries(filter.attributes ?? {})) {
    if (value.trim()) match[key] = value.trim();
  }
  return match;
}

export function isEmptyFilter(filter: StudyFilter | undefined): boolean {
  return Object.keys(filterToMatch(filter) ?? {}).length === 0;
}

/** "patient: Doe^J* · date: 20200101-" */
export function describeFilter(filter: StudyFilter | undefined): string {
  if (!filter) return '';
  const parts: string[] = [];
  for (const [field, , label] of LABELS) {
    const value = filter[field]?.trim();
    if (value) parts.push(`${label}: ${value}`);
  }
  for (const [key, value] of Object.entries(filter.attributes ?? {})) {
    if (value.trim()) parts.push(`${key}: ${value.trim()}`);
  }
  return parts.join(' · ');
}

/**
 * Parses the filter input box: `key=value` pairs separated by `;` or `,`-free spaces are
 * ambiguous, so `;` separates. Known short keys: patient, id, date, modality, accession,
 * description; anything else is taken as an attribute keyword or tag. A bare text without
 * `=` is a patient name.
 */
export function parseFilter(text: string): StudyFilter {
  const filter: StudyFilter = {};
  const trimmed = text.trim();
  if (!trimmed) return filter;
  if (!trimmed.includes('=')) {
    filter.patientName = trimmed;
    return filter;
  }
  for (const piece of trimmed.split(';')) {
    const index = piece.indexOf('=');
    if (index < 0) continue;
    const key = piece.slice(0, index).trim();
    const value = piece.slice(index + 1).trim();
    if (!key || !value) continue;
    const known = LABELS.find(([field, keyword, label]) =>
      [field.toLowerCase(), keyword.toLowerCase(), label.toLowerCase()].includes(key.toLowerCase()),
    );
    if (known) filter[known[0]] = value;
    else (filter.attributes ??= {})[key] = value;
  }
  return filter;
}

export function formatFilterInput(filter: StudyFilter | undefined): string {
  if (!filter) return '';
  const parts: string[] = [];
  for (const [field, , label] of LABELS) {
    const value = filter[field]?.trim();
    if (value) parts.push(`${label}=${value}`);
  }
  for (const [key, value] of Object.entries(filter.attributes ?? {})) parts.push(`${key}=${value}`);
  return parts.join('; ');
}
