/**
 * Opens frame previews: one panel per instance (or file), revealed when already open.
 * The tree's instance node calls {@link PreviewManager.showInstance}; the Explorer's
 * context menu on a `.dcm` file calls {@link PreviewManager.showFile}.
 */
import * as vscode from 'vscode';
import type { DicomWebClient } from '../dicomweb';
import {
  DicomWebFrameSource,
  FileFrameSource,
  type FrameSource,
  type InstanceTarget,
} from './frameSource';
import { HeaderFrameSource } from './headerFrameSource';
import {
  PREVIEW_VIEW_TYPE,
  PreviewPanel,
  type CineStats,
  type FirstFrameShown,
} from './PreviewPanel';

export class PreviewManager implements vscode.Disposable {
  private readonly panels = new Map<string, PreviewPanel>();
  private readonly onDidShowFirstFrameEmitter = new vscode.EventEmitter<FirstFrameShown>();
  /** A panel's webview drew its first frame (for the benchmark and the tests). */
  readonly onDidShowFirstFrame = this.onDidShowFirstFrameEmitter.event;
  private readonly onDidReportCineStatsEmitter = new vscode.EventEmitter<CineStats>();
  /** A panel's cine drew a loop's worth of frames, or stopped (for the benchmark). */
  readonly onDidReportCineStats = this.onDidReportCineStatsEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Previews an instance of a DICOMweb service (frames through `client`). */
  async showInstance(client: DicomWebClient, target: InstanceTarget, title: string): Promise<void> {
    const key = `dicomweb:${client.baseUrl}/studies/${target.studyInstanceUid}/series/${target.seriesInstanceUid}/instances/${target.sopInstanceUid}`;
    const source = new DicomWebFrameSource(client, { ...target }, (line) =>
      this.log.info(`preview ${title}: ${line}`),
    );
    this.open(key, title, source);
  }

  /**
   * Previews a local Part 10 file: on disk, frame by frame from its header
   * (HeaderFrameSource); on other file systems VS Code can read, read whole.
   */
  async showFile(uri: vscode.Uri): Promise<void> {
    const title = uri.path.split('/').pop() || uri.toString();
    const source =
      uri.scheme === 'file'
        ? new HeaderFrameSource(uri.fsPath)
        : new FileFrameSource(uri.toString(), async () => vscode.workspace.fs.readFile(uri));
    this.open(`file:${uri.toString()}`, title, source);
  }

  private open(key: string, title: string, source: FrameSource): void {
    const existing = this.panels.get(key);
    if (existing) {
      existing.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      PREVIEW_VIEW_TYPE,
      title,
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        // Cine position, window and zoom survive switching tabs.
        retainContextWhenHidden: true,
        localResourceRoots: PreviewPanel.resourceRoots(this.extensionUri),
      },
    );
    const preview = new PreviewPanel(panel, this.extensionUri, source, title, this.log);
    this.panels.set(key, preview);
    preview.onDidShowFirstFrame((shown) => this.onDidShowFirstFrameEmitter.fire(shown));
    preview.onDidReportCineStats((stats) => this.onDidReportCineStatsEmitter.fire(stats));
    preview.onDidDispose(() => this.panels.delete(key));
    this.log.info(`preview: opened ${title} (${source.label})`);
  }

  dispose(): void {
    for (const panel of [...this.panels.values()]) panel.dispose();
    this.panels.clear();
    this.onDidShowFirstFrameEmitter.dispose();
    this.onDidReportCineStatsEmitter.dispose();
  }
}
