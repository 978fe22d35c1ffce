/**
 * One preview panel: owns its webview, answers the webview's typed messages
 * (webview/protocol.ts), fetches frames from its {@link FrameSource} and codec binaries
 * from dist/codecs/. Every network request happens here, in the extension host.
 */
import * as vscode from 'vscode';
import {
  PROTOCOL_VERSION,
  checkFromWebview,
  logAt,
  type FramePath,
  type FromWebview,
  type RequestFrameMessage,
  type ToWebview,
} from '../../webview/protocol';
import type { FrameSource } from './frameSource';
import { previewHtml } from './html';
import { codecMessage, codecScriptUris, messageBytes, messageOf } from './webviewCodecs';
import { PixelBudgetError } from '../imaging/decode/budget';
import { NotAnImageError } from '../imaging/header/imageInfo';

export const PREVIEW_VIEW_TYPE = 'dicomweb.preview';

/**
 * What a page adds to the viewer (the DICOM editor's tag table, src/editor/): its own page
 * and the messages the viewer does not handle. `ready` runs on the page's `ready`, before
 * the viewer's `init`; it says whether there is an image for the viewer to show.
 */
export interface PanelExtra {
  page: { script: string; style: string; layout: 'editor' };
  ready(post: (message: ToWebview) => void): Promise<{ showViewer: boolean }>;
  handle(message: FromWebview, post: (message: ToWebview) => void): Promise<void>;
}

export interface FirstFrameShown {
  title: string;
  frameNumber: number;
  path: FramePath;
  /** From the panel's creation to the webview's report. */
  elapsedMs: number;
}

/** What the webview's cine drew (its `cineStats` message). */
export interface CineStats {
  title: string;
  framesDrawn: number;
  elapsedMs: number;
  /** The rate asked for. */
  fps: number;
  stopped: boolean;
}

export class PreviewPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly abort = new AbortController();
  private disposed = false;
  private readonly onDidDisposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.onDidDisposeEmitter.event;
  private readonly onDidShowFirstFrameEmitter = new vscode.EventEmitter<FirstFrameShown>();
  /** The webview drew its first frame (once). */
  readonly onDidShowFirstFrame = this.onDidShowFirstFrameEmitter.event;
  private readonly onDidReportCineStatsEmitter = new vscode.EventEmitter<CineStats>();
  /** The webview's cine drew a loop's worth of frames, or stopped. */
  readonly onDidReportCineStats = this.onDidReportCineStatsEmitter.event;
  private readonly openedAt = performance.now();
  /** Message types the webview sent that were refused (see {@link reportRefused}). */
  private readonly refusedTypes = new Set<string>();

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly source: FrameSource,
    private readonly title: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly extra?: PanelExtra,
  ) {
    const webview = panel.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: PreviewPanel.resourceRoots(extensionUri),
    };
    const media = (file: string): string =>
      webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', file)).toString();
    webview.html = previewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview
        .asWebviewUri(
          vscode.Uri.joinPath(extensionUri, 'dist', 'webview', extra?.page.script ?? 'preview.js'),
        )
        .toString(),
      styleUri: media('preview.css'),
      extraStyleUri: extra ? media(extra.page.style) : undefined,
      layout: extra?.page.layout ?? 'preview',
      title,
    });
    this.disposables.push(
      webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** Folders the webview may load from: the bundled script, the codecs, the stylesheet. */
  static resourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
    return [
      vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
      vscode.Uri.joinPath(extensionUri, 'dist', 'codecs'),
      vscode.Uri.joinPath(extensionUri, 'media'),
    ];
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** Starts or stops cine in the webview, at `fps` frames per second when given. */
  cine(play: boolean, fps?: number): void {
    this.post(fps === undefined ? { type: 'cine', play } : { type: 'cine', play, fps });
  }

  private post(message: ToWebview): void {
    if (!this.disposed) void this.panel.webview.postMessage(message);
  }

  private onMessage(value: unknown): void {
    const checked = checkFromWebview(value);
    if (!checked.ok) {
      this.reportRefused(checked.type, checked.reason);
      return;
    }
    const message = checked.message;
    void this.handle(message).catch((error: unknown) =>
      this.log.error(`preview: ${messageOf(error)}`),
    );
  }

  private async handle(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (message.protocolVersion !== PROTOCOL_VERSION) {
          this.post({
            type: 'fatal',
            message: 'The preview page is out of date: close and reopen the preview.',
          });
          return;
        }
        if (!this.extra || (await this.extra.ready((m) => this.post(m))).showViewer)
          await this.init();
        return;
      case 'requestFrame':
        await this.sendFrame(message);
        return;
      case 'requestCodec':
        this.post(await codecMessage(message.name, this.extensionUri, this.log, 'preview'));
        return;
      case 'exportPng':
        await this.exportPng(message.suggestedName, message.png);
        return;
      case 'log':
        logAt(this.log, message.level, `preview webview: ${message.message}`);
        return;
      case 'rendered': {
        const elapsedMs = performance.now() - this.openedAt;
        this.log.info(
          `preview ${this.title}: frame ${message.frameNumber} shown ${elapsedMs.toFixed(0)} ms after the panel opened (${message.path})`,
        );
        this.onDidShowFirstFrameEmitter.fire({
          title: this.title,
          frameNumber: message.frameNumber,
          path: message.path,
          elapsedMs,
        });
        return;
      }
      case 'cineStats':
        this.log.info(
          `preview ${this.title}: cine drew ${message.framesDrawn} frames in ${message.elapsedMs.toFixed(0)} ms (${((message.framesDrawn * 1000) / message.elapsedMs).toFixed(1)} frames/s, ${message.fps} asked)`,
        );
        this.onDidReportCineStatsEmitter.fire({
          title: this.title,
          framesDrawn: message.framesDrawn,
          elapsedMs: message.elapsedMs,
          fps: message.fps,
          stopped: message.stopped,
        });
        return;
      default:
        await this.extra?.handle(message, (m) => this.post(m));
    }
  }

  /**
   * A refused message is logged once per type (a page posting in a loop cannot flood the
   * log), and at most {@link MAX_REFUSED_TYPES_LOGGED} types per panel.
   */
  private reportRefused(type: string, reason: string): void {
    if (this.refusedTypes.has(type) || this.refusedTypes.size >= MAX_REFUSED_TYPES_LOGGED) return;
    this.refusedTypes.add(type);
    this.log.warn(
      `preview ${this.title}: ignored a "${type}" message from the webview (${reason}); further ones of this type are ignored silently`,
    );
  }

  private async init(): Promise<void> {
    try {
      const { info, attributes } = await this.source.open(this.abort.signal);
      this.post({
        type: 'init',
        protocolVersion: PROTOCOL_VERSION,
        title: this.title,
        sourceLabel: this.source.label,
        info,
        attributes,
        codecScripts: codecScriptUris(this.panel.webview, this.extensionUri),
      });
    } catch (error) {
      if (this.abort.signal.aborted) return;
      this.log.error(`preview of ${this.title}: ${messageOf(error)}`);
      const message =
        error instanceof NotAnImageError || error instanceof PixelBudgetError
          ? error.message
          : `Cannot read this instance: ${messageOf(error)}`;
      this.post({ type: 'fatal', message, detail: this.source.label });
    }
  }

  private async sendFrame(request: RequestFrameMessage): Promise<void> {
    try {
      const frame = await this.source.frame(request.frameNumber, request.from, this.abort.signal);
      const message: ToWebview = {
        type: 'frame',
        requestId: request.requestId,
        frameNumber: request.frameNumber,
        path: frame.path,
        mediaType: frame.mediaType,
        bytes: messageBytes(frame.bytes),
      };
      if (frame.transferSyntaxUid) message.transferSyntaxUid = frame.transferSyntaxUid;
      this.post(message);
    } catch (error) {
      if (this.abort.signal.aborted) return;
      this.log.error(`preview of ${this.title}, frame ${request.frameNumber}: ${messageOf(error)}`);
      this.post({
        type: 'frameError',
        requestId: request.requestId,
        frameNumber: request.frameNumber,
        message: messageOf(error),
      });
    }
  }

  private async exportPng(suggestedName: string, png: Uint8Array): Promise<void> {
    const safeName = suggestedName.replace(/[^\w.\- ]+/g, '_').slice(0, 120) || 'frame.png';
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, safeName) : vscode.Uri.file(safeName),
      filters: { 'PNG image': ['png'] },
      saveLabel: 'Export Frame',
    });
    if (!target) {
      this.post({ type: 'exportDone' });
      return;
    }
    try {
      await vscode.workspace.fs.writeFile(target, png);
      this.log.info(`preview: exported ${target.fsPath}`);
      this.post({ type: 'exportDone', path: target.fsPath });
    } catch (error) {
      this.post({ type: 'exportDone', error: messageOf(error) });
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.abort.abort();
    this.onDidDisposeEmitter.fire();
    this.onDidDisposeEmitter.dispose();
    this.onDidShowFirstFrameEmitter.dispose();
    this.onDidReportCineStatsEmitter.dispose();
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}

/** Distinct refused message types logged per panel; later ones are dropped silently. */
export const MAX_REFUSED_TYPES_LOGGED = 16;
