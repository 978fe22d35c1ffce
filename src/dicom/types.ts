/**
 * The DICOM JSON model (PS3.18 Annex F.2) as the client returns it. Keys are tags as 8
 * upper-case hex digits; each attribute has a VR and at most one of Value, BulkDataURI,
 * InlineBinary. Display helpers live in src/dicom/json.ts.
 */
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}

export type DicomJsonDataset = Record<string, DicomJsonAttribute>;
