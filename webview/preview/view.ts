/**
 * The preview's page: builds the toolbar, the stage (canvas, overlay corners, frame error),
 * the frame bar and the status bar once, and writes text into them (messages, status,
 * overlay lines). It holds no preview state: the modules that change state call it.
 * The class names are the ones media/preview.css and the UI tests (test/ui/preview.ui.ts)
 * select by.
 */
import type { FramePath, ImageInfo, OverlayAttributes } from '../protocol';
import type { DecodedFrame } from '../../src/imaging/decode/types';
import { isColor, type ViewState } from '../../src/imaging/render/pipeline';

/** A `<vscode-textfield>` or `<vscode-single-select>`: both hold their value as a string. */
export type ValueElement = HTMLElement & { value: string };
/** A `<vscode-checkbox>`. */
export type CheckboxElement = HTMLElement & { checked: boolean };

export interface Corners<T> {
  topLeft: T;
  topRight: T;
  bottomLeft: T;
  bottomRight: T;
}

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function label(text: string): HTMLElement {
  return element('span', 'label', text);
}

function button(text: string, title: string): HTMLElement {
  const node = document.createElement('vscode-button');
  node.textContent = text;
  node.title = title;
  node.setAttribute('secondary', '');
  return node;
}

function numberField(ariaLabel: string): ValueElement {
  const field = document.createElement('vscode-textfield') as ValueElement;
  field.setAttribute('aria-label', ariaLabel);
  field.className = 'number';
  return field;
}

export class PreviewView {
  /** `#message` of the page's HTML (src/preview/html.ts): loading, errors, fatal. */
  readonly messageBox = document.getElementById('message')!;

  readonly toolbar = element('div', 'toolbar');
  readonly presetSelect = document.createElement('vscode-single-select') as ValueElement;
  readonly centerField = numberField('Window center');
  readonly widthField = numberField('Window width');
  readonly invertBox = document.createElement('vscode-checkbox') as CheckboxElement;
  readonly fitButton = button('Fit', 'Fit to panel (0)');
  readonly actualButton = button('1:1', 'Actual size (1)');
  readonly resetButton = button('Reset', 'Reset window, zoom and invert (R)');
  readonly exportButton = button('Export PNG', 'Save the current frame as PNG');

  readonly stage = element('div', 'stage');
  readonly canvas = element('canvas', 'image');
  readonly corners: Corners<HTMLElement> = {
    topLeft: element('div', 'corner top-left'),
    topRight: element('div', 'corner top-right'),
    bottomLeft: element('div', 'corner bottom-left'),
    bottomRight: element('div', 'corner bottom-right'),
  };
  readonly frameError = element('div', 'frame-error');

  readonly frameBar = element('div', 'framebar');
  readonly playButton = button('Play', 'Play / pause (Space)');
  readonly slider = element('input', 'slider');
  readonly frameLabel = element('span', 'frame-label');
  readonly fpsField = numberField('Frames per second');

  readonly statusBar = element('div', 'statusbar');
  readonly pixelStatus = element('span', 'pixel');
  readonly pathStatus = element('span', 'path');

  constructor(private readonly app: HTMLElement) {
    this.assembleToolbar();
    this.assembleStage();
    this.assembleFrameBar();
    this.statusBar.append(this.pixelStatus, this.pathStatus);
  }

  private assembleToolbar(): void {
    this.presetSelect.setAttribute('aria-label', 'Window preset');
    this.presetSelect.className = 'presets';
    this.invertBox.setAttribute('label', 'Invert');
    this.toolbar.append(
      label('W/L'),
      this.presetSelect,
      label('C'),
      this.centerField,
      label('W'),
      this.widthField,
      this.invertBox,
      this.fitButton,
      this.actualButton,
      this.resetButton,
      this.exportButton,
    );
  }

  private assembleStage(): void {
    // Focusable: the keyboard works on the picture (keyboard.ts).
    this.stage.tabIndex = 0;
    this.frameError.hidden = true;
    const { topLeft, topRight, bottomLeft, bottomRight } = this.corners;
    this.stage.append(this.canvas, topLeft, topRight, bottomLeft, bottomRight, this.frameError);
  }

  private assembleFrameBar(): void {
    this.slider.type = 'range';
    this.slider.min = '1';
    this.slider.setAttribute('aria-label', 'Frame');
    this.frameBar.append(
      this.playButton,
      this.slider,
      this.frameLabel,
      label('fps'),
      this.fpsField,
    );
  }

  /** True once {@link mount} has put the viewer on the page. */
  get isMounted(): boolean {
    return this.toolbar.isConnected;
  }

  /** Puts the viewer on the page; the frame bar only when there is more than one frame. */
  mount(frameCount: number): void {
    this.slider.max = String(frameCount);
    this.frameBar.hidden = frameCount < 2;
    this.app.replaceChildren(
      this.toolbar,
      this.stage,
      this.frameBar,
      this.statusBar,
      this.messageBox,
    );
  }

  showMessage(text: string, detail?: string): void {
    this.messageBox.hidden = false;
    this.messageBox.textContent = text;
    if (detail) this.messageBox.append(element('div', 'detail', detail));
  }

  hideMessage(): void {
    this.messageBox.hidden = true;
  }

  /** Nothing can be shown at all: the message alone replaces the viewer. */
  showFatal(text: string, detail?: string): void {
    this.app.replaceChildren(this.messageBox);
    this.showMessage(text, detail);
  }

  showPosition(frameNumber: number, frameCount: number): void {
    this.slider.value = String(frameNumber);
    this.frameLabel.textContent = `${frameNumber} / ${frameCount}`;
  }

  /** Over the picture when the frame asked for cannot be shown; hidden with undefined. */
  showFrameError(text: string | undefined): void {
    this.frameError.hidden = text === undefined;
    if (text !== undefined) this.frameError.textContent = text;
  }

  setPixelStatus(text: string): void {
    this.pixelStatus.textContent = text;
  }

  setPathStatus(text: string): void {
    this.pathStatus.textContent = text;
  }

  setCorners(lines: Corners<Array<string | undefined>>): void {
    for (const corner of ['topLeft', 'topRight', 'bottomLeft', 'bottomRight'] as const)
      this.corners[corner].replaceChildren(
        ...lines[corner].filter((l): l is string => !!l).map((l) => element('div', undefined, l)),
      );
  }
}

// ---------------------------------------------------------------------------------------
// Text shown in the page (no DOM).

/** A number as shown in the fields and the overlay: whole from 100 up, else two decimals. */
export function round(value: number): string {
  return Math.abs(value) >= 100 ? String(Math.round(value)) : String(Math.round(value * 100) / 100);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the overlay corners say about the instance, the frame and the view of it. */
export interface OverlayFacts {
  attributes: OverlayAttributes;
  info: ImageInfo;
  frameNumber: number;
  /** The frame on the canvas, if any yet. */
  frame: DecodedFrame | undefined;
  view: ViewState;
  zoomScale: number;
}

export function overlayLines(facts: OverlayFacts): Corners<Array<string | undefined>> {
  const { attributes: a, info, frame, view } = facts;
  const color = frame ? isColor(frame) : false;
  return {
    topLeft: [a.patientName, a.patientId, a.studyDate, a.studyDescription],
    topRight: [
      a.modality && a.seriesNumber ? `${a.modality} · Series ${a.seriesNumber}` : a.modality,
      a.seriesDescription,
      a.instanceNumber ? `Instance ${a.instanceNumber}` : undefined,
      info.numberOfFrames > 1 ? `Frame ${facts.frameNumber} / ${info.numberOfFrames}` : undefined,
    ],
    bottomLeft: [`${info.columns} × ${info.rows}`, info.transferSyntaxUid, frame?.decoder],
    bottomRight: [
      color && !view.invert
        ? undefined
        : `W ${round(view.windowWidth)} C ${round(view.windowCenter)}${view.invert ? ' · inverted' : ''}`,
      `Zoom ${Math.round(facts.zoomScale * 100)}%`,
    ],
  };
}

/** The status bar's account of where the shown frame's bytes came from and what decoded them. */
export function describePath(
  shown: { path: FramePath; frame: DecodedFrame; mediaType: string; transferSyntaxUid?: string },
  info: ImageInfo,
): string {
  const how = {
    stored: 'as stored (transfer-syntax=*)',
    transcoded: 'transcoded by the server to Explicit VR Little Endian',
    rendered: 'rendered by the server (/rendered): no pixel values',
  }[shown.path];
  const syntax = shown.transferSyntaxUid ?? info.transferSyntaxUid;
  return `${how} · ${shown.frame.decoder}${syntax ? ` · ${syntax}` : ''} · ${shown.mediaType}`;
}

/** The status bar's readout of the pixel under the pointer at image position (x, y). */
export function describePixel(
  value: { stored: number[]; rescaled?: number },
  frame: DecodedFrame,
  info: ImageInfo,
  x: number,
  y: number,
): string {
  const position = `x ${Math.floor(x)}, y ${Math.floor(y)}`;
  if (frame.rendered) return `${position}: rendered RGB ${value.stored.join(', ')}`;
  if (value.rescaled !== undefined) {
    const unit = info.rescaleType ? ` ${info.rescaleType}` : '';
    return `${position}: stored ${value.stored[0]} · value ${round(value.rescaled)}${unit}`;
  }
  return `${position}: ${frame.photometricInterpretation} ${value.stored.join(', ')}`;
}
