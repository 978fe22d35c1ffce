/**
 * Opens thumbnail grids: one panel per series, revealed when already open. The series
 * row's "Show Thumbnails" calls {@link ThumbnailGridManager.showSeries}.
 */
import * as vscode from 'vscode';
import type { DicomWebClient } from '../dicomweb/client';
import type { InstanceTarget } from '../preview/frameSource';
import { PreviewPanel } from '../preview/PreviewPanel';
import type { ThumbnailRegistry } from '../thumbnails/connection';
import {
  THUMBNAIL_GRID_VIEW_TYPE,
  ThumbnailGridPanel,
  type SeriesTarget,
  type TileShown,
} from './ThumbnailGridPanel';

export class ThumbnailGridManager implements vscode.Disposable {
  private readonly panels = new Map<string, ThumbnailGridPanel>();
  private readonly onDidShowTileEmitter = new vscode.EventEmitter<
    TileShown & { panel: ThumbnailGridPanel }
  >();
  /** A grid drew a tile (for the tests and the benchmark). */
  readonly onDidShowTile = this.onDidShowTileEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly registry: ThumbnailRegistry,
    private readonly log: vscode.LogOutputChannel,
    private readonly openInstance: (
      client: DicomWebClient,
      target: InstanceTarget,
      title: string,
    ) => Promise<void>,
  ) {}

  showSeries(client: DicomWebClient, series: SeriesTarget, title: string): ThumbnailGridPanel {
    const key = `${client.baseUrl}/studies/${series.studyInstanceUid}/series/${series.seriesInstanceUid}`;
    const existing = this.panels.get(key);
    if (existing) {
      existing.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      THUMBNAIL_GRID_VIEW_TYPE,
      `Thumbnails: ${title}`,
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        // Scrolled position and drawn tiles survive switching tabs.
        retainContextWhenHidden: true,
        localResourceRoots: PreviewPanel.resourceRoots(this.extensionUri),
      },
    );
    const grid = new ThumbnailGridPanel(
      panel,
      this.extensionUri,
      this.registry.of(client),
      { ...series },
      title,
      this.log,
      (target, instanceTitle) => this.openInstance(client, target, instanceTitle),
    );
    this.panels.set(key, grid);
    grid.onDidShowTile((shown) => this.onDidShowTileEmitter.fire({ ...shown, panel: grid }));
    grid.onDidDispose(() => this.panels.delete(key));
    return grid;
  }

  dispose(): void {
    for (const panel of [...this.panels.values()]) panel.dispose();
    this.panels.clear();
    this.onDidShowTileEmitter.dispose();
  }
}
