/**
 * The VRs an extended query tag of the Azure DICOM service may have (its
 * ExtendedQueryTagEntryValidator.SupportedVRCodes; the table "The following VR types are
 * supported" of learn.microsoft.com's "Extended query tags overview"): single-valued strings,
 * dates, times and numbers (PS3.5 §6.2). Not SQ (sequences), nor the long texts and the
 * binary VRs. One list for the client (what the extension offers when a tag is added) and for
 * the local server (what it accepts), so here, in the room both stand on.
 */
export const EXTENDED_QUERY_TAG_VRS: readonly string[] = [
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'FD',
  'FL',
  'IS',
  'LO',
  'PN',
  'SH',
  'SL',
  'SS',
  'TM',
  'UI',
  'UL',
  'US',
];
