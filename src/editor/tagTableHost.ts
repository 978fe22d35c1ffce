/**
 * The extension side of the editor's tag table: answers the webview's table messages
 * (webview/protocol.ts) from the document's model. Children are sent when a row is
 * expanded and a filter runs here over the whole model, so the page holds only the rows
 * it shows (a file of 10,000+ elements stays responsive).
 */
import * as vscode from 'vscode';
import {
  filterTagTable,
  findTagNode,
  fullValue,
  type TagNode,
  type TagTable,
} from '../dicom/tagTable';
import {
  MAX_FILTER_ROWS,
  type CopyWhat,
  type FromWebview,
  type TagRow,
  type ToWebview,
} from '../../webview/protocol';
import type { PanelExtra } from '../preview/PreviewPanel';
import type { DicomDocument } from './DicomDocument';

export const EDITOR_SCRIPT = 'editor.js';
export const EDITOR_STYLE = 'editor.css';

/** What the table reports (for the log, the tests and the benchmark). */
export interface TableShown {
  uri: vscode.Uri;
  rows: number;
  /** From the editor's creation to the webview's report of its first rows. */
  elapsedMs: number;
}

export class TagTableHost implements PanelExtra {
  readonly page = { script: EDITOR_SCRIPT, style: EDITOR_STYLE, layout: 'editor' as const };
  private readonly createdAt = performance.now();

  constructor(
    private readonly document: DicomDocument,
    private readonly onShown: (shown: TableShown) => void,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get documentUri(): string {
    return this.document.uri.toString();
  }

  async ready(post: (message: ToWebview) => void): Promise<{ showViewer: boolean }> {
    const { document } = this;
    post({
      type: 'tagTable',
      summary: document.summary,
      problems: document.problems,
      rows: document.table.roots.map((node) => toRow(node, 0)),
      hasImage: document.hasImage,
    });
    // Encapsulated fragments are located now, with the table already on screen.
    void document
      .completeness()
      .then((row) => {
        if (row)
          post({ type: 'tagTableUpdate', rows: [toRow(row, 0)], problems: document.problems });
      })
      .catch((error: unknown) =>
        this.log.error(`DICOM editor ${document.summary}: ${(error as Error).message}`),
      );
    return { showViewer: document.hasImage };
  }

  async handle(message: FromWebview, post: (message: ToWebview) => void): Promise<void> {
    const table = this.document.table;
    switch (message.type) {
      case 'requestTagChildren': {
        const node = findTagNode(table, message.id);
        const depth = message.id.split('.').length;
        const rows = (node?.children ?? []).map((child) => toRow(child, depth));
        post({ type: 'tagChildren', requestId: message.requestId, id: message.id, rows });
        return;
      }
      case 'filterTags': {
        const found = filterTagTable(table, message.query, MAX_FILTER_ROWS);
        post({
          type: 'tagFilterResult',
          requestId: message.requestId,
          query: message.query,
          rows: found.rows.map((row) => ({ ...toRow(row.node, row.depth), match: row.match })),
          matches: found.matches,
          truncated: found.truncated,
        });
        return;
      }
      case 'copyTag':
        await this.copy(message.id, message.what);
        return;
      case 'tagTableShown': {
        const elapsedMs = performance.now() - this.createdAt;
        this.log.info(
          `DICOM editor ${this.document.summary}: ${message.rows} rows shown ${elapsedMs.toFixed(0)} ms after the editor opened (header ${this.document.timings.headerMs.toFixed(1)} ms, table ${this.document.timings.tableMs.toFixed(1)} ms)`,
        );
        this.onShown({ uri: this.document.uri, rows: message.rows, elapsedMs });
        return;
      }
    }
  }

  /** Puts a row's value or path on the clipboard; returns the text, or undefined. */
  async copy(id: string, what: CopyWhat): Promise<string | undefined> {
    const text = copyText(this.document.table, id, what, this.document.header?.bigEndian);
    if (text === undefined) return undefined;
    await vscode.env.clipboard.writeText(text);
    return text;
  }
}

/** The text "Copy Value", "Copy Tag Path" or "Copy Keyword Path" gives for a row. */
export function copyText(
  table: TagTable,
  id: string,
  what: CopyWhat,
  bigEndian?: boolean,
): string | undefined {
  const node = findTagNode(table, id);
  if (!node) return undefined;
  if (what === 'tagPath') return node.tagPath;
  if (what === 'keywordPath') return node.keywordPath;
  return fullValue(node, { bigEndian });
}

/** A model node as the protocol's row. */
export function toRow(node: TagNode, depth: number): TagRow {
  return {
    id: node.id,
    depth,
    kind: node.kind,
    tag: node.tag,
    name: node.name,
    vr: node.vr,
    vm: node.vm,
    length:
      node.kind === 'note' ? '' : node.length === undefined ? 'undefined' : String(node.length),
    value: node.value,
    childCount: node.children?.length ?? 0,
  };
}
