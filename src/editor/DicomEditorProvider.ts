/**
 * The read-only custom editor of DICOM files (`dicomweb.dicomFile`): double-click a .dcm
 * (or "Open With…" any file) to see its image, with the preview's viewer (PreviewPanel,
 * HeaderFrameSource: one frame read at a time), beside its tag table (tagTableHost.ts).
 */
import * as vscode from 'vscode';
import type { CopyWhat } from '../../webview/protocol';
import { HeaderFrameSource } from '../preview/headerFrameSource';
import { PreviewPanel } from '../preview/PreviewPanel';
import { FileFrameSource, type FrameSource } from '../preview/frameSource';
import { DicomDocument } from './DicomDocument';
import { TagTableHost, type TableShown } from './tagTableHost';

/** Double-click on *.dcm, *.DCM, *.dicom (priority "default"). */
export const DICOM_EDITOR_VIEW_TYPE = 'dicomweb.dicomFile';
/** "Open With…" on any file, e.g. an extension-less DICOM file (priority "option"). */
export const DICOM_EDITOR_ANY_VIEW_TYPE = 'dicomweb.dicomFile.any';

export class DicomEditorProvider
  implements vscode.CustomReadonlyEditorProvider<DicomDocument>, vscode.Disposable
{
  private readonly onDidShowTableEmitter = new vscode.EventEmitter<TableShown>();
  /** An editor's webview put its first table rows on the page (for the tests and the bench). */
  readonly onDidShowTable = this.onDidShowTableEmitter.event;
  private readonly documents = new Map<string, DicomDocument>();
  private readonly editors = new Set<{ panel: vscode.WebviewPanel; host: TagTableHost }>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async openCustomDocument(uri: vscode.Uri): Promise<DicomDocument> {
    const document = await DicomDocument.open(uri);
    const { headerMs, tableMs } = document.timings;
    this.log.info(
      `DICOM editor: opened ${document.summary} (header ${headerMs.toFixed(1)} ms, table ${tableMs.toFixed(1)} ms${document.problems.length ? `; ${document.problems.join(' ')}` : ''})`,
    );
    this.documents.set(uri.toString(), document);
    return document;
  }

  async resolveCustomEditor(document: DicomDocument, panel: vscode.WebviewPanel): Promise<void> {
    const host = new TagTableHost(
      document,
      (shown) => this.onDidShowTableEmitter.fire(shown),
      this.log,
    );
    const title = document.uri.path.split('/').pop() || document.uri.toString();
    const source: FrameSource = document.header
      ? new HeaderFrameSource(document.uri.fsPath, document.header)
      : new FileFrameSource(document.uri.toString(), async () => new Uint8Array());
    const preview = new PreviewPanel(panel, this.extensionUri, source, title, this.log, host);
    const editor = { panel, host };
    this.editors.add(editor);
    preview.onDidDispose(() => {
      this.editors.delete(editor);
      if (![...this.editors].some((other) => other.host.documentUri === document.uri.toString()))
        this.documents.delete(document.uri.toString());
    });
  }

  /** The model of an open document (the integration tests read its rows). */
  documentFor(uri: vscode.Uri): DicomDocument | undefined {
    return this.documents.get(uri.toString());
  }

  /**
   * Copies from the active editor's row `id` (the row's context menu passes it through
   * `data-vscode-context`). @returns the text copied, or undefined
   */
  async copyFromActive(id: string, what: CopyWhat): Promise<string | undefined> {
    const active = [...this.editors].find((editor) => editor.panel.active);
    return active?.host.copy(id, what);
  }

  dispose(): void {
    this.onDidShowTableEmitter.dispose();
    this.documents.clear();
  }
}
