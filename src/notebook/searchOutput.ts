/**
 * The custom output a search answer (QIDO-RS, PS3.18 §10.6) becomes besides its HTML: the
 * rows as JSON, drawn by the extension's notebook renderer (webview/notebook/searchTable.ts)
 * as a table whose rows can be shown in the tree. A `command:` link in plain HTML cannot do
 * that: VS Code's output webview runs only its own short list of commands from a clicked
 * link (code-server 4.139.1, backLayerWebView "clicked-link"), so the renderer posts the
 * click to the extension instead (createRendererMessaging, src/notebookHost/rendererLink.ts).
 * The HTML stays in the same output as the fallback a renderer-less viewer shows.
 */
import { lookupTag } from '../dicom/dictionary';
import { getStrings } from '../dicom/json';
import { Tag } from '../dicom/tags';
import type { DicomJsonDataset } from '../dicom/types';

/** The renderer's mime type of a search; package.json's notebookRenderer lists it. */
export const SEARCH_MIME = 'application/vnd.dicomweb-explorer.search+json';

/** Rows of a search shown in its table (the JSON output holds every row): 1,000. */
export const TABLE_ROWS = 1000;

/** One column: the attribute's tag, its keyword (the tag when unknown), UIDs set as code. */
export interface SearchColumn {
  tag: string;
  keyword: string;
  uid: boolean;
}

export interface SearchRow {
  /** One text per column, as the HTML table shows it. */
  values: string[];
  /** The row's deepest UID (SOP Instance, else Series, else Study): what "Show" finds. */
  uid?: string;
}

/** What the renderer gets; webview/notebook/searchTable.ts reads the same shape. */
export interface SearchOutput {
  /** The status line as the HTML has it: status, time, size, request. */
  status: { status: string; ms: number; size: string; request: string };
  notes: string[];
  columns: SearchColumn[];
  /** The first {@link TABLE_ROWS} rows. */
  rows: SearchRow[];
  /** Every row of the answer (the JSON output holds them all). */
  total: number;
  /** The connection the cell ran on: rows are shown in the tree on it. Absent, no "Show". */
  connectionId?: string;
}

/** The attributes of every row, in tag order, with their keywords. */
export function searchColumns(datasets: readonly DicomJsonDataset[]): SearchColumn[] {
  const tags = [...new Set(datasets.flatMap((row) => Object.keys(row)))].sort();
  return tags.map((tag) => ({
    tag,
    keyword: lookupTag(tag)?.keyword || tag,
    uid: datasets.some((row) => row[tag]?.vr === 'UI'),
  }));
}

/** A cell's text: a sequence's item count, "(binary)", else the values joined by `\`. */
export function searchValue(row: DicomJsonDataset, tag: string): string {
  const attribute = row[tag];
  if (!attribute) return '';
  if (attribute.vr === 'SQ') return `${attribute.Value?.length ?? 0} item(s)`;
  if (attribute.BulkDataURI || attribute.InlineBinary !== undefined) return '(binary)';
  return getStrings(row, tag).join('\\');
}

/**
 * The UID a row is shown by: the deepest it has (PS3.18 §10.6.3: a QIDO row of each level
 * carries its own UID and its parents'), so an instance row finds the instance.
 */
export function rowUid(row: DicomJsonDataset): string | undefined {
  return [Tag.SOPInstanceUID, Tag.SeriesInstanceUID, Tag.StudyInstanceUID]
    .map((tag) => getStrings(row, tag)[0])
    .find((value) => value);
}

export function searchOutput(
  datasets: readonly DicomJsonDataset[],
  status: SearchOutput['status'],
  notes: readonly string[],
  connectionId?: string,
): SearchOutput {
  const columns = searchColumns(datasets);
  const rows = datasets.slice(0, TABLE_ROWS).map((row): SearchRow => {
    const uid = rowUid(row);
    return {
      values: columns.map((column) => searchValue(row, column.tag)),
      ...(uid ? { uid } : {}),
    };
  });
  return {
    status,
    notes: [...notes],
    columns,
    rows,
    total: datasets.length,
    ...(connectionId === undefined ? {} : { connectionId }),
  };
}

/**
 * What the renderer posts on a click of a row's "Show" (webview/notebook/searchOutput.ts
 * writes it): shown in the tree by src/notebookHost/rendererLink.ts.
 */
export interface RevealMessage {
  type: 'reveal';
  connectionId: string;
  uid: string;
}

/** PS3.5 §9.1: a UID is at most 64 characters of digits and dots. */
const UID = /^[0-9.]{1,64}$/;

/** A message is checked before anything runs: an output webview shows a server's answer. */
export function isRevealMessage(message: unknown): message is RevealMessage {
  if (typeof message !== 'object' || message === null) return false;
  const { type, connectionId, uid } = message as Record<string, unknown>;
  return (
    type === 'reveal' &&
    typeof connectionId === 'string' &&
    connectionId.length > 0 &&
    connectionId.length <= 256 &&
    typeof uid === 'string' &&
    UID.test(uid)
  );
}
