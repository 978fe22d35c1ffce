/**
 * "Show Thumbnails" of a series: a webview with one tile per instance (webview/thumbnails/).
 * The page asks for the tiles it shows (`requestThumbnail`) and cancels those scrolled
 * away (`cancelThumbnail`); every request is made here, in the extension host, through the
 * connection's client and its {@link ConnectionThumbnails} (cache, at most 4 in flight), so
 * no credential or URL reaches the page: it gets bytes by message, as the preview does.
 */
import * as vscode from 'vscode';
import {
  PROTOCOL_VERSION,
  checkFromWebview,
  logAt,
  type FromWebview,
  type RequestThumbnailMessage,
  type TileSource,
  type ToWebview,
} from '../../webview/protocol';
import type { ConnectionThumbnails } from '../thumbnails/connection';
import { redactUrl } from '../dicomweb/transport/errors';
import { PreviewPanel } from '../preview/PreviewPanel';
import { codecMessage, codecScriptUris, messageBytes, messageOf } from '../preview/webviewCodecs';
import { previewHtml } from '../preview/html';
import type { InstanceTarget } from '../preview/frameSource';
import { listSeriesInstances, type ListedInstance } from './seriesInstances';

export const THUMBNAIL_GRID_VIEW_TYPE = 'dicomweb.thumbnails';

/**
 * Tile requests a page may have open at once; beyond, it is answered with an error. The
 * page asks only for tiles near the view (a few screens), far below this.
 */
export const MAX_OPEN_TILE_REQUESTS = 512;

export interface TileShown {
  index: number;
  source: TileSource;
}

export interface SeriesTarget {
  studyInstanceUid: string;
  seriesInstanceUid: string;
}

export class ThumbnailGridPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly abort = new AbortController();
  private readonly open = new Map<number, AbortController>();
  private instances: ListedInstance[] = [];
  private disposed = false;
  private readonly onDidShowTileEmitter = new vscode.EventEmitter<TileShown>();
  /** The page drew a tile. */
  readonly onDidShowTile = this.onDidShowTileEmitter.event;
  private readonly onDidDisposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.onDidDisposeEmitter.event;
  /** Tile answers posted, by kind, and their image bytes (for the tests and the bench). */
  readonly posted = { image: 0, frame: 0, error: 0, cancelled: 0, bytes: 0 };

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    readonly thumbnails: ConnectionThumbnails,
    private readonly series: SeriesTarget,
    private readonly title: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly openInstance: (target: InstanceTarget, title: string) => Promise<void>,
  ) {
    const webview = panel.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: PreviewPanel.resourceRoots(extensionUri),
    };
    const asUri = (...path: string[]): string =>
      webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...path)).toString();
    webview.html = previewHtml({
      cspSource: webview.cspSource,
      scriptUri: asUri('dist', 'webview', 'thumbnails.js'),
      styleUri: asUri('media', 'preview.css'),
      extraStyleUri: asUri('media', 'thumbnails.css'),
      title,
    });
    this.disposables.push(
      webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** The number of instances listed (after `thumbnailsInit`). */
  get tileCount(): number {
    return this.instances.length;
  }

  /** Tile requests open now. */
  get openRequests(): number {
    return this.open.size;
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** Scrolls the page to tile `index` (its tiles then come into view and are asked for). */
  scrollTo(index: number): void {
    this.post({ type: 'scrollToTile', index });
  }

  private post(message: ToWebview): void {
    if (!this.disposed) void this.panel.webview.postMessage(message);
  }

  private onMessage(value: unknown): void {
    const checked = checkFromWebview(value);
    if (!checked.ok) {
      this.log.warn(
        `thumbnails ${this.title}: ignored a "${checked.type}" message (${checked.reason})`,
      );
      return;
    }
    void this.handle(checked.message).catch((error: unknown) =>
      this.log.error(`thumbnails ${this.title}: ${messageOf(error)}`),
    );
  }

  private async handle(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (message.protocolVersion === PROTOCOL_VERSION) await this.init();
        else this.post({ type: 'fatal', message: 'The page is out of date: close and reopen it.' });
        return;
      case 'requestThumbnail':
        await this.sendTile(message);
        return;
      case 'cancelThumbnail':
        this.open.get(message.requestId)?.abort();
        return;
      case 'openTile': {
        const instance = this.instances[message.index];
        if (instance)
          await this.openInstance(instance.target, this.tileTitle(instance, message.index));
        return;
      }
      case 'tileShown':
        this.onDidShowTileEmitter.fire({ index: message.index, source: message.source });
        return;
      case 'requestCodec':
        this.post(await codecMessage(message.name, this.extensionUri, this.log, 'thumbnails'));
        return;
      case 'log':
        logAt(this.log, message.level, `thumbnails webview: ${message.message}`);
        return;
      default:
        return;
    }
  }

  private async init(): Promise<void> {
    try {
      const listing = await listSeriesInstances(this.thumbnails.client, this.series, {
        signal: this.abort.signal,
      });
      this.instances = listing.instances;
      this.post({
        type: 'thumbnailsInit',
        protocolVersion: PROTOCOL_VERSION,
        title: this.title,
        sourceLabel: redactUrl(this.thumbnails.client.baseUrl),
        tiles: listing.instances.map((instance, index) => ({
          label: this.tileLabel(instance, index),
        })),
        truncated: listing.truncated,
        codecScripts: codecScriptUris(this.panel.webview, this.extensionUri),
      });
      this.log.info(
        `thumbnails ${this.title}: ${listing.instances.length} instances${listing.truncated ? ' (truncated)' : ''}`,
      );
    } catch (error) {
      if (this.abort.signal.aborted) return;
      this.log.error(`thumbnails ${this.title}: ${messageOf(error)}`);
      this.post({ type: 'fatal', message: `Cannot list the instances: ${messageOf(error)}` });
    }
  }

  private tileLabel(instance: ListedInstance, index: number): string {
    const frames = (instance.numberOfFrames ?? 1) > 1 ? ` · ${instance.numberOfFrames} frames` : '';
    return `${instance.instanceNumber ?? `#${index + 1}`}${frames}`;
  }

  private tileTitle(instance: ListedInstance, index: number): string {
    return `${this.title} — instance ${instance.instanceNumber ?? index + 1}`;
  }

  private async sendTile(request: RequestThumbnailMessage): Promise<void> {
    const { requestId, index } = request;
    const instance = this.instances[index];
    if (!instance || this.open.size >= MAX_OPEN_TILE_REQUESTS || this.open.has(requestId)) {
      this.posted.error++;
      this.post({
        type: 'thumbnailError',
        requestId,
        index,
        message: instance
          ? `More than ${MAX_OPEN_TILE_REQUESTS} tiles asked at once.`
          : 'No such tile.',
      });
      return;
    }
    const controller = new AbortController();
    const onPanelAbort = () => controller.abort();
    this.abort.signal.addEventListener('abort', onPanelAbort, { once: true });
    this.open.set(requestId, controller);
    try {
      const tile = await this.thumbnails.tile(instance.target, controller.signal, request.from);
      if (tile.kind === 'image') {
        this.posted.image++;
        this.posted.bytes += tile.bytes.byteLength;
        this.post({
          type: 'thumbnail',
          requestId,
          index,
          kind: 'image',
          mediaType: tile.mediaType,
          source: tile.source,
          bytes: messageBytes(tile.bytes),
        });
      } else {
        this.posted.frame++;
        this.posted.bytes += tile.bytes.byteLength;
        const message: ToWebview = {
          type: 'thumbnail',
          requestId,
          index,
          kind: 'frame',
          info: tile.info,
          path: tile.path,
          mediaType: tile.mediaType,
          bytes: messageBytes(tile.bytes),
        };
        if (tile.transferSyntaxUid) message.transferSyntaxUid = tile.transferSyntaxUid;
        this.post(message);
      }
    } catch (error) {
      if (controller.signal.aborted) {
        this.posted.cancelled++;
        return;
      }
      this.posted.error++;
      this.log.warn(`thumbnails ${this.title}, tile ${index + 1}: ${messageOf(error)}`);
      this.post({ type: 'thumbnailError', requestId, index, message: messageOf(error) });
    } finally {
      this.open.delete(requestId);
      this.abort.signal.removeEventListener('abort', onPanelAbort);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.abort.abort();
    this.onDidDisposeEmitter.fire();
    this.onDidDisposeEmitter.dispose();
    this.onDidShowTileEmitter.dispose();
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}
