import { Tag } from '../../dicom/tags';
/**
 * The STOW-RS response (PS3.18 §10.5.3, Table 10.5.3-1) turned into one outcome per
 * instance: stored, stored with a warning, or failed with the reason code and its meaning.
 */

export type StoreStatus =
  /** The server acknowledged the instance (ReferencedSOPSequence, or verified by a query). */
  | 'stored'
  /** Stored, with a WarningReason (coercion, elements discarded …). */
  | 'warning'
  /** Not stored: FailedSOPSequence, an HTTP error, or absent when verified. */
  | 'failed'
  /**
   * Not sent: the file is not a readable DICOM Part 10 file, or the request was cancelled first.
   */
  | 'skipped';

export interface InstanceOutcome {
  sopInstanceUid: string;
  sopClassUid?: string;
  status: Exclude<StoreStatus, 'skipped'>;
  retrieveUrl?: string;
  /** WarningReason (0008,1196) or FailureReason (0008,1197). */
  reasonCode?: number;
  /** What the code means (PS3.4 Annex B.2.3 / PS3.18 §10.5.3, Azure's conformance statement). */
  reasonText?: string;
  /** ErrorComment (0000,0902) texts, from the item or its FailedAttributesSequence. */
  errorComments?: string[];
}

export interface ParsedStowResponse {
  /** Study-level RetrieveURL (0008,1190). */
  retrieveUrl?: string;
  outcomes: Map<string, InstanceOutcome>;
  /** True when FailedSOPSequence was present but empty (Orthanc, for a non-DICOM part). */
  emptyFailedSequence: boolean;
}

const TAG = {
  RetrieveURL: Tag.RetrieveURL,
  ReferencedSOPSequence: Tag.ReferencedSOPSequence,
  FailedSOPSequence: Tag.FailedSOPSequence,
  ReferencedSOPClassUID: Tag.ReferencedSOPClassUID,
  ReferencedSOPInstanceUID: Tag.ReferencedSOPInstanceUID,
  WarningReason: Tag.WarningReason,
  FailureReason: Tag.FailureReason,
  ErrorComment: Tag.ErrorComment,
  FailedAttributesSequence: Tag.FailedAttributesSequence,
} as const;

/**
 * Meanings of STOW-RS status codes: PS3.18 Table 10.5.3-2 / PS3.4 Annex B.2.3, and Azure's codes.
 */
export const STOW_REASONS: Record<number, string> = {
  0x0110: 'Processing failure',
  0x0112: 'No such SOP instance',
  0x0122: 'SOP class not supported',
  0x0124: 'Not authorized',
  0xa700: 'Out of resources',
  0xa770: 'Out of resources: unable to perform sub-operations',
  0xa900: 'Data set does not match SOP class',
  0xa901: 'StudyInstanceUID in the data set does not match the study of the request',
  0xb000: 'Coercion of data elements',
  0xb006: 'Elements discarded',
  0xb007: 'Data set does not match SOP class',
  0xb00e: 'Instance already exists (duplicate SOPInstanceUID)',
  0xb00f:
    'Instance is being created by another request, or an earlier attempt failed and is being cleaned up',
  0xc000: 'Cannot understand',
  0xc122: 'Referenced transfer syntax not supported',
};

export function reasonText(code: number | undefined): string | undefined {
  if (code === undefined) return undefined;
  return STOW_REASONS[code] ?? `Status 0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

type JsonAttribute = { vr?: string; Value?: unknown[] } | undefined;
type JsonItem = Record<string, JsonAttribute>;

function first(item: JsonItem | undefined, tag: string): unknown {
  return item?.[tag]?.Value?.[0];
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

function items(item: JsonItem | undefined, tag: string): JsonItem[] {
  const values = item?.[tag]?.Value;
  return Array.isArray(values)
    ? (values.filter((value) => value && typeof value === 'object') as JsonItem[])
    : [];
}

function comments(item: JsonItem): string[] {
  const found: string[] = [];
  const own = asString(first(item, TAG.ErrorComment));
  if (own) found.push(own);
  for (const attribute of items(item, TAG.FailedAttributesSequence)) {
    const comment = asString(first(attribute, TAG.ErrorComment));
    if (comment) found.push(comment);
  }
  return found;
}

/**
 * Parses a STOW-RS response body (DICOM JSON, an object or a one-element array). Returns
 * undefined when the body is empty or not DICOM JSON (then the caller verifies by query).
 */
export function parseStowResponse(body: unknown): ParsedStowResponse | undefined {
  const root = (Array.isArray(body) ? body[0] : body) as JsonItem | undefined;
  if (!root || typeof root !== 'object') return undefined;
  const outcomes = new Map<string, InstanceOutcome>();
  for (const item of items(root, TAG.ReferencedSOPSequence)) {
    const uid = asString(first(item, TAG.ReferencedSOPInstanceUID));
    if (!uid) continue;
    const warning = asNumber(first(item, TAG.WarningReason));
    const itemComments = comments(item);
    outcomes.set(uid, {
      sopInstanceUid: uid,
      sopClassUid: asString(first(item, TAG.ReferencedSOPClassUID)),
      status: warning !== undefined ? 'warning' : 'stored',
      retrieveUrl: asString(first(item, TAG.RetrieveURL)),
      reasonCode: warning,
      reasonText: reasonText(warning),
      errorComments: itemComments.length ? itemComments : undefined,
    });
  }
  const failed = items(root, TAG.FailedSOPSequence);
  for (const item of failed) {
    const uid = asString(first(item, TAG.ReferencedSOPInstanceUID));
    if (!uid) continue;
    const failure = asNumber(first(item, TAG.FailureReason));
    const itemComments = comments(item);
    outcomes.set(uid, {
      sopInstanceUid: uid,
      sopClassUid: asString(first(item, TAG.ReferencedSOPClassUID)),
      status: 'failed',
      reasonCode: failure,
      reasonText: reasonText(failure),
      errorComments: itemComments.length ? itemComments : undefined,
    });
  }
  return {
    retrieveUrl: asString(first(root, TAG.RetrieveURL)),
    outcomes,
    emptyFailedSequence: root[TAG.FailedSOPSequence] !== undefined && failed.length === 0,
  };
}
