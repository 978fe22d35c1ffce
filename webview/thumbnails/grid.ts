/**
 * The grid: one tile per instance, pictures only for tiles near the view. An
 * IntersectionObserver asks for a tile's picture when it comes within a screen of the view
 * and cancels the request when it leaves before the answer (the extension aborts it);
 * at most {@link MAX_DRAWN_TILES} pictures are kept, the ones longest out of view cleared
 * first, so a 10,000-instance series holds a bounded amount of pixels.
 */
import type {
  FramePath,
  ThumbnailErrorMessage,
  ThumbnailMessage,
  ThumbnailTile,
} from '../protocol';
import type { DecoderDeps } from '../../src/imaging/decode/decodeFrame';
import { DecodeError } from '../../src/imaging/decode/types';
import { drawTile } from './draw';
import type { Post } from '../preview/vscodeApi';

/** Tile pictures kept at most (128 px canvases: ~64 KB each, ~40 MB in all). */
export const MAX_DRAWN_TILES = 600;

interface TileState {
  element: HTMLElement;
  canvas: HTMLCanvasElement;
  visible: boolean;
  state: 'idle' | 'pending' | 'drawn' | 'failed';
  requestId?: number;
  /** When it was last in view (for eviction). */
  seenAt: number;
}

export class ThumbnailGrid {
  private readonly tiles: TileState[] = [];
  private readonly observer: IntersectionObserver;
  private nextRequestId = 1;
  private drawn = 0;

  constructor(
    private readonly container: HTMLElement,
    tiles: ThumbnailTile[],
    private readonly post: Post,
    private readonly decoders: DecoderDeps,
  ) {
    // One screen above and below the view: a tile is asked for just before it shows.
    this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), {
      root: container,
      rootMargin: '100% 0px',
    });
    const fragment = document.createDocumentFragment();
    tiles.forEach((tile, index) => fragment.appendChild(this.makeTile(tile, index)));
    container.appendChild(fragment);
  }

  private makeTile(tile: ThumbnailTile, index: number): HTMLElement {
    const element = document.createElement('button');
    element.className = 'tile';
    element.dataset.index = String(index);
    element.title = `Open instance ${tile.label} in the preview`;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const caption = document.createElement('span');
    caption.className = 'caption';
    caption.textContent = tile.label;
    element.append(canvas, caption);
    element.addEventListener('click', () => this.post({ type: 'openTile', index }));
    this.tiles.push({ element, canvas, visible: false, state: 'idle', seenAt: 0 });
    this.observer.observe(element);
    return element;
  }

  scrollTo(index: number): void {
    this.tiles[Math.max(0, Math.min(index, this.tiles.length - 1))]?.element.scrollIntoView({
      block: 'start',
    });
  }

  private onIntersect(entries: IntersectionObserverEntry[]): void {
    const now = performance.now();
    for (const entry of entries) {
      const index = Number((entry.target as HTMLElement).dataset.index);
      const tile = this.tiles[index];
      if (!tile) continue;
      tile.visible = entry.isIntersecting;
      tile.seenAt = now;
      if (tile.visible && tile.state === 'idle') this.request(index);
      else if (!tile.visible && tile.state === 'pending') this.cancel(tile);
    }
  }

  private request(index: number, from?: FramePath): void {
    const tile = this.tiles[index];
    tile.state = 'pending';
    tile.requestId = this.nextRequestId++;
    tile.element.classList.add('loading');
    this.post(
      from
        ? { type: 'requestThumbnail', requestId: tile.requestId, index, from }
        : { type: 'requestThumbnail', requestId: tile.requestId, index },
    );
  }

  private cancel(tile: TileState): void {
    this.post({ type: 'cancelThumbnail', requestId: tile.requestId! });
    tile.state = 'idle';
    tile.requestId = undefined;
    tile.element.classList.remove('loading');
  }

  /** A `thumbnail` answer: drawn if its tile still waits for it (else it was cancelled). */
  async receive(message: ThumbnailMessage): Promise<void> {
    const tile = this.tiles[message.index];
    if (!tile || tile.requestId !== message.requestId || tile.state !== 'pending') return;
    try {
      await drawTile(tile.canvas, message, this.decoders);
    } catch (error) {
      // A syntax the page cannot decode: ask for the frame transcoded, then rendered.
      if (
        message.kind === 'frame' &&
        error instanceof DecodeError &&
        error.unsupported &&
        message.path !== 'rendered'
      ) {
        this.request(message.index, message.path === 'stored' ? 'transcoded' : 'rendered');
        return;
      }
      this.fail(tile, error instanceof Error ? error.message : String(error));
      return;
    }
    // Scrolled away (cancelled) or asked again while drawing: the picture is here all the same.
    if (tile.state === 'pending' && tile.requestId !== message.requestId)
      this.post({ type: 'cancelThumbnail', requestId: tile.requestId! });
    tile.requestId = undefined;
    tile.state = 'drawn';
    tile.element.classList.remove('loading');
    this.drawn++;
    this.post({
      type: 'tileShown',
      index: message.index,
      source: message.kind === 'image' ? message.source : 'webview',
    });
    this.evict();
  }

  refuse(message: ThumbnailErrorMessage): void {
    const tile = this.tiles[message.index];
    if (tile && tile.requestId === message.requestId) this.fail(tile, message.message);
  }

  private fail(tile: TileState, reason: string): void {
    tile.state = 'failed';
    tile.element.classList.remove('loading');
    tile.element.classList.add('failed');
    tile.element.title = `No thumbnail: ${reason}`;
  }

  /** Clears the pictures longest out of view while more than MAX_DRAWN_TILES are kept. */
  private evict(): void {
    if (this.drawn <= MAX_DRAWN_TILES) return;
    const hidden = this.tiles
      .filter((t) => t.state === 'drawn' && !t.visible)
      .sort((a, b) => a.seenAt - b.seenAt);
    for (const tile of hidden) {
      if (this.drawn <= MAX_DRAWN_TILES) break;
      tile.canvas.width = tile.canvas.height = 1;
      tile.state = 'idle';
      tile.requestId = undefined;
      this.drawn--;
    }
  }
}
