/**
 * One DICOM file opened in the custom editor: its header (read through a file handle,
 * Pixel Data located but not read: src/dicom/headerReader.ts) and its tag table
 * (src/dicom/tagTable.ts), built once per document and shared by its editors.
 */
import type * as vscode from 'vscode';
import {
  formatBytes,
  locateFragments,
  readDicomHeader,
  type DicomHeader,
} from '../dicom/headerReader';
import { buildTagTable, refreshPixelDataRow, type TagNode, type TagTable } from '../dicom/tagTable';
import { transferSyntaxName } from '../dicom/uids';

/** How long opening took, for the log, the tests and the benchmark. */
export interface OpenTimings {
  /** Header read (file handle, positioned reads), ms. */
  headerMs: number;
  /** Tag table built, ms. */
  tableMs: number;
}

export class DicomDocument implements vscode.CustomDocument {
  private constructor(
    readonly uri: vscode.Uri,
    readonly header: DicomHeader | undefined,
    readonly table: TagTable,
    private readonly openProblems: string[],
    readonly summary: string,
    readonly timings: OpenTimings,
  ) {}

  /** Reads the header and builds the table; never rejects (problems say what went wrong). */
  static async open(uri: vscode.Uri): Promise<DicomDocument> {
    const name = uri.path.split('/').pop() || uri.toString();
    const started = performance.now();
    if (uri.scheme !== 'file') {
      const problem = `Only files on this machine's disk open in the DICOM editor (this one is on "${uri.scheme}"): use Preview DICOM File instead.`;
      return new DicomDocument(uri, undefined, emptyTable(), [problem], name, zero());
    }
    let header: DicomHeader;
    try {
      // Encapsulated fragments are located after the table is on screen (completeness()).
      header = await readDicomHeader(uri.fsPath, {}, { deferFragments: true });
    } catch (error) {
      const problem = `The file cannot be read: ${error instanceof Error ? error.message : String(error)}`;
      return new DicomDocument(uri, undefined, emptyTable(), [problem], name, zero());
    }
    const read = performance.now();
    const table = header.dataSet
      ? buildTagTable(header.dataSet, { pixelData: header.pixelData, bigEndian: header.bigEndian })
      : emptyTable();
    const built = performance.now();
    const syntax = header.transferSyntaxUid
      ? ` · ${transferSyntaxName(header.transferSyntaxUid)}`
      : '';
    const summary = `${name} · ${formatBytes(header.fileSize)} · ${table.nodeCount.toLocaleString('en-US')} elements${syntax}`;
    return new DicomDocument(uri, header, table, [], summary, {
      headerMs: read - started,
      tableMs: built - read,
    });
  }

  /** What is wrong with the file and the limits hit, one sentence each. */
  get problems(): string[] {
    if (!this.header) return this.openProblems;
    return [...this.header.problems, ...this.table.problems];
  }

  /**
   * Locates the fragments of encapsulated Pixel Data (left by the header read) and
   * returns the Pixel Data row rewritten, or undefined when nothing was pending.
   */
  async completeness(): Promise<TagNode | undefined> {
    const header = this.header;
    if (!header?.pixelData?.fragmentsPending || !header.dataSet) return undefined;
    await locateFragments(header);
    return refreshPixelDataRow(this.table, header.pixelData, header.dataSet);
  }

  /** Whether the viewer has an image to show beside the table. */
  get hasImage(): boolean {
    return this.header?.pixelData !== undefined;
  }

  dispose(): void {}
}

function emptyTable(): TagTable {
  return { roots: [], nodeCount: 0, problems: [] };
}

function zero(): OpenTimings {
  return { headerMs: 0, tableMs: 0 };
}
