/**
 * The image in a series or instance row's tooltip. Built in the tree's `resolveTreeItem`,
 * so nothing is fetched for rows nobody hovers, and cancelled with the hover (its
 * CancellationToken aborts the request; a request still waiting for one of the
 * connection's few slots never starts).
 *
 * VS Code 1.139 (code-server 4.139.1, read in its workbench.js): a hover's Markdown goes
 * through the Markdown renderer's sanitizer, whose `allowedMediaProtocols` are http,
 * https, data, file and the vscode-* resource schemes, and `mediaSourceIsAllowed` accepts
 * `data:` outright; so a `data:image/png;base64,…` image renders in a tree tooltip, without
 * `isTrusted`. The same renderer cuts a hover's text at 100,000 characters, hence
 * MAX_TOOLTIP_IMAGE_BYTES (src/thumbnails/connection.ts).
 */
import type * as vscode from 'vscode';
import {
  MAX_TOOLTIP_IMAGE_BYTES,
  NoThumbnailError,
  type ThumbnailRegistry,
} from '../thumbnails/connection';
import type { InstanceTarget } from '../preview/frameSource';
import { redactUrlsIn } from '../dicomweb/transport/errors';
import { NotAnImageError } from '../imaging/header/imageInfo';
import { PixelBudgetError } from '../imaging/decode/budget';
import type { DicomWebNode } from '../tree/nodes/DicomWebNode';
import type { InstanceResource, SeriesRow } from '../tree/nodes/resourceNode';
import { listSeriesInstances } from './seriesInstances';

/** What a tooltip hook gets: the row's Markdown, the row, the hover's token. */
export type TooltipDecorator = (
  tooltip: vscode.MarkdownString,
  node: DicomWebNode,
  token: vscode.CancellationToken,
) => Promise<void>;

export class ThumbnailTooltips {
  /** Tooltips that already carry their image (or its absence): a row's item is built once. */
  private readonly done = new WeakSet<vscode.MarkdownString>();
  /** The series' first instance, once found (a series tooltip shows it). */
  private readonly firstInstance = new WeakMap<DicomWebNode, InstanceTarget | null>();

  constructor(
    private readonly registry: ThumbnailRegistry,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Adds the thumbnail of a series or instance row to its tooltip. */
  readonly decorate: TooltipDecorator = async (tooltip, node, token) => {
    if (this.done.has(tooltip) || (node.level !== 'series' && node.level !== 'instance')) return;
    const controller = new AbortController();
    const subscription = token.onCancellationRequested(() => controller.abort());
    try {
      const row = node as SeriesRow | InstanceResource;
      const target =
        row.level === 'instance' ? row.target : await this.seriesTarget(row, controller.signal);
      if (!target) {
        this.add(tooltip, '\n\n*No instances to show.*');
        return;
      }
      const image = await this.registry.of(row.client).image(target, controller.signal);
      if (image.bytes.byteLength > MAX_TOOLTIP_IMAGE_BYTES) {
        this.add(
          tooltip,
          `\n\n*The thumbnail is too large for a tooltip (${image.bytes.byteLength.toLocaleString('en-US')} bytes).*`,
        );
        return;
      }
      const data = Buffer.from(
        image.bytes.buffer,
        image.bytes.byteOffset,
        image.bytes.byteLength,
      ).toString('base64');
      const from = image.source === 'decoded' ? 'decoded here' : `the server's /${image.source}`;
      this.add(
        tooltip,
        `\n\n![Thumbnail](data:${image.mediaType};base64,${data})\n\n*Image: ${from}*`,
      );
    } catch (error) {
      // Cancelled: the next hover tries again (from the cache if the answer came).
      if (controller.signal.aborted || token.isCancellationRequested) return;
      const expected =
        error instanceof NoThumbnailError ||
        error instanceof NotAnImageError ||
        error instanceof PixelBudgetError;
      const reason = redactUrlsIn(error instanceof Error ? error.message : String(error));
      if (!expected) this.log.warn(`thumbnail for ${node.id}: ${reason}`);
      this.add(
        tooltip,
        `\n\n*No thumbnail: ${escapeMarkdown(reason.replace(/^No thumbnail: /, ''))}*`,
      );
    } finally {
      subscription.dispose();
    }
  };

  private add(tooltip: vscode.MarkdownString, markdown: string): void {
    if (this.done.has(tooltip)) return;
    this.done.add(tooltip);
    tooltip.appendMarkdown(markdown);
  }

  /** The series' first instance by Instance Number: a loaded child, else one QIDO page. */
  private async seriesTarget(
    series: SeriesRow,
    signal: AbortSignal,
  ): Promise<InstanceTarget | undefined> {
    const known = this.firstInstance.get(series);
    if (known !== undefined) return known ?? undefined;
    const { instances } = await listSeriesInstances(
      series.client,
      {
        studyInstanceUid: series.study.model.studyInstanceUid,
        seriesInstanceUid: series.model.seriesInstanceUid,
      },
      { signal, max: 1 },
    );
    const target = instances[0]?.target;
    this.firstInstance.set(series, target ?? null);
    return target;
  }
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+!|<>]/g, (c) => `\\${c}`);
}
