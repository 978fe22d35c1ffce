/**
 * The picture on its stage: draws the shown frame on the canvas through the display
 * pipeline (render/pipeline.ts) with the window/level the user set, places it (fit, 1:1,
 * zoom about a point, pan) and turns the pointer into window/level (left drag), pan (right
 * or shift/ctrl drag), zoom (wheel) and the status bar's pixel readout. The overlay corners
 * are redrawn with the picture.
 */
import type { ImageInfo, OverlayAttributes } from '../protocol';
import type { DecodedFrame } from '../../src/imaging/decode/types';
import type { ShownFrame } from './frames';
import { pixelValueAt, renderToRgba } from '../../src/imaging/render/pipeline';
import { describePixel, overlayLines, type PreviewView } from './view';
import { WindowLevel, type WindowAtDragStart } from './windowLevel';

/** Where the canvas sits on the stage: its scale and top-left offset in CSS pixels. */
interface Placement {
  scale: number;
  x: number;
  y: number;
  /** Follows the stage's size (fit to panel) until the user zooms or pans. */
  fit: boolean;
}

/** A drag in progress, from where it started. */
interface Drag {
  mode: 'window' | 'pan';
  x: number;
  y: number;
  window: WindowAtDragStart;
  placedX: number;
  placedY: number;
}

export interface ViewportSetup {
  view: PreviewView;
  info: ImageInfo;
  attributes: OverlayAttributes;
  /** The frame number the overlay names (the one asked for, maybe still loading). */
  frameNumber: () => number;
}

export class Viewport {
  readonly windowLevel: WindowLevel;
  private readonly view: PreviewView;
  private readonly context: CanvasRenderingContext2D;
  private imageData: ImageData | undefined;
  private shown: ShownFrame | undefined;
  private placement: Placement = { scale: 1, x: 0, y: 0, fit: true };
  private drag: Drag | undefined;

  constructor(private readonly setup: ViewportSetup) {
    this.view = setup.view;
    this.context = this.view.canvas.getContext('2d')!;
    this.windowLevel = new WindowLevel(this.view, setup.info, () => this.draw());
    this.listenToStage();
    this.view.fitButton.addEventListener('click', () => this.fit());
    this.view.actualButton.addEventListener('click', () => this.actualSize());
    this.view.resetButton.addEventListener('click', () => this.reset());
  }

  /** True once a frame is on the canvas. */
  get hasFrame(): boolean {
    return this.shown !== undefined;
  }

  /** Puts a decoded frame on the canvas (the first one also sets the starting window). */
  display(shown: ShownFrame): void {
    this.shown = shown;
    this.windowLevel.startFrom(shown.frame);
    this.draw();
  }

  draw(): void {
    const shown = this.shown;
    if (!shown) return;
    const { frame } = shown;
    const { canvas } = this.view;
    if (canvas.width !== frame.columns || canvas.height !== frame.rows) {
      canvas.width = frame.columns;
      canvas.height = frame.rows;
      this.imageData = undefined;
    }
    this.imageData ??= this.context.createImageData(frame.columns, frame.rows);
    renderToRgba(frame, this.setup.info, this.windowLevel.viewState, this.imageData.data);
    this.context.putImageData(this.imageData, 0, 0);
    this.updateOverlay();
  }

  /** Places the canvas on the stage (recomputing the fit) and redraws the overlay. */
  applyZoom(): void {
    if (!this.shown) return;
    const { columns, rows } = this.shown.frame;
    const bounds = this.view.stage.getBoundingClientRect();
    const place = this.placement;
    if (place.fit) {
      place.scale = Math.min(bounds.width / columns, bounds.height / rows) || 1;
      place.x = (bounds.width - columns * place.scale) / 2;
      place.y = (bounds.height - rows * place.scale) / 2;
    }
    const { canvas } = this.view;
    canvas.style.transform = `translate(${place.x}px, ${place.y}px) scale(${place.scale})`;
    canvas.classList.toggle('pixelated', place.scale >= 2);
    this.updateOverlay();
  }

  /** Zooms by `factor` keeping the image point under (clientX, clientY) where it is. */
  zoomAt(factor: number, clientX: number, clientY: number): void {
    const bounds = this.view.stage.getBoundingClientRect();
    const px = clientX - bounds.left;
    const py = clientY - bounds.top;
    const old = this.placement;
    const scale = Math.min(64, Math.max(0.05, old.scale * factor));
    this.placement = {
      scale,
      x: px - ((px - old.x) * scale) / old.scale,
      y: py - ((py - old.y) * scale) / old.scale,
      fit: false,
    };
    this.applyZoom();
  }

  /** Zooms about the middle of the stage (the + and - keys). */
  zoomAtCenter(factor: number): void {
    const { stage } = this.view;
    this.zoomAt(
      factor,
      stage.getBoundingClientRect().left + stage.clientWidth / 2,
      stage.getBoundingClientRect().top + stage.clientHeight / 2,
    );
  }

  /** One image pixel per CSS pixel, centred. */
  actualSize(): void {
    const bounds = this.view.stage.getBoundingClientRect();
    const frame = this.shown?.frame;
    if (!frame) return;
    this.placement = {
      scale: 1,
      x: (bounds.width - frame.columns) / 2,
      y: (bounds.height - frame.rows) / 2,
      fit: false,
    };
    this.applyZoom();
  }

  fit(): void {
    this.placement.fit = true;
    this.applyZoom();
  }

  /** Starting window, not inverted, fit to the panel. */
  reset(): void {
    if (!this.shown) return;
    this.windowLevel.reset(this.shown.frame);
    this.fit();
  }

  /** The canvas as PNG bytes, handed to `onPng`; nothing when no frame is shown yet. */
  toPng(onPng: (png: Uint8Array) => void): void {
    if (!this.shown) return;
    this.view.canvas.toBlob((blob) => {
      if (!blob) return;
      void blob.arrayBuffer().then((buffer) => onPng(new Uint8Array(buffer)));
    }, 'image/png');
  }

  private listenToStage(): void {
    const { stage } = this.view;
    new ResizeObserver(() => this.applyZoom()).observe(stage);
    stage.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        this.zoomAt(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX, event.clientY);
      },
      { passive: false },
    );
    stage.addEventListener('contextmenu', (event) => event.preventDefault());
    stage.addEventListener('pointerdown', (event) => this.startDrag(event));
    stage.addEventListener('pointermove', (event) => {
      this.showPixelValue(event);
      this.moveDrag(event);
    });
    const endDrag = () => (this.drag = undefined);
    stage.addEventListener('pointerup', endDrag);
    stage.addEventListener('pointercancel', endDrag);
    stage.addEventListener('pointerleave', () => this.view.setPixelStatus(''));
    stage.addEventListener('dblclick', () => this.fit());
  }

  /** Left button drags the window; right, or with shift or ctrl, pans. */
  private startDrag(event: PointerEvent): void {
    this.view.stage.focus();
    const mode = event.button === 0 && !event.shiftKey && !event.ctrlKey ? 'window' : 'pan';
    // A server-rendered image has no stored values to window.
    if (mode === 'window' && this.shown?.frame.rendered) return;
    const { windowCenter, windowWidth } = this.windowLevel.viewState;
    this.drag = {
      mode,
      x: event.clientX,
      y: event.clientY,
      window: { center: windowCenter, width: windowWidth },
      placedX: this.placement.x,
      placedY: this.placement.y,
    };
    this.view.stage.setPointerCapture(event.pointerId);
  }

  private moveDrag(event: PointerEvent): void {
    const drag = this.drag;
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (drag.mode === 'pan') {
      this.placement = {
        ...this.placement,
        x: drag.placedX + dx,
        y: drag.placedY + dy,
        fit: false,
      };
      this.applyZoom();
      return;
    }
    this.windowLevel.dragTo(drag.window, dx, dy, this.shown?.frame);
  }

  private showPixelValue(event: PointerEvent): void {
    const shown = this.shown;
    if (!shown) return;
    const bounds = this.view.stage.getBoundingClientRect();
    const x = (event.clientX - bounds.left - this.placement.x) / this.placement.scale;
    const y = (event.clientY - bounds.top - this.placement.y) / this.placement.scale;
    const value = pixelValueAt(shown.frame, this.setup.info, x, y);
    this.view.setPixelStatus(value ? describePixel(value, shown.frame, this.setup.info, x, y) : '');
  }

  private updateOverlay(): void {
    const frame: DecodedFrame | undefined = this.shown?.frame;
    this.view.setCorners(
      overlayLines({
        attributes: this.setup.attributes,
        info: this.setup.info,
        frameNumber: this.setup.frameNumber(),
        frame,
        view: this.windowLevel.viewState,
        zoomScale: this.placement.scale,
      }),
    );
  }
}
