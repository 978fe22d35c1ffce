/**
 * Window/level (the VOI window, PS3.3 C.11.2.1.2) and invert as the user sets them: from
 * the presets (the header's windows, then the frame's range), the C and W fields, the
 * invert box, the `i` key or a left-drag on the picture. Owned by the viewport, which
 * redraws when they change.
 */
import type { ImageInfo, WindowPreset } from '../protocol';
import type { DecodedFrame } from '../../src/imaging/decode/types';
import {
  initialWindow,
  isColor,
  rangeWindow,
  type ViewState,
} from '../../src/imaging/render/pipeline';
import { round, type PreviewView } from './view';

/** The window when a drag started, which the pointer's offset then moves. */
export interface WindowAtDragStart {
  center: number;
  width: number;
}

export class WindowLevel {
  private state: ViewState = { windowCenter: 0, windowWidth: 1, invert: false };
  private presets: WindowPreset[] = [];
  /** True once the first frame set the starting window; later frames keep the user's. */
  private chosen = false;

  constructor(
    private readonly view: PreviewView,
    private readonly info: ImageInfo,
    private readonly redraw: () => void,
  ) {
    const { presetSelect, centerField, widthField, invertBox } = view;
    presetSelect.addEventListener('change', () => {
      const preset = this.presets[Number(presetSelect.value)];
      if (preset) this.setWindow(preset.center, preset.width);
    });
    const onTypedWindow = () => {
      const c = Number(centerField.value);
      const w = Number(widthField.value);
      if (Number.isFinite(c) && Number.isFinite(w) && w >= 1) this.setWindow(c, w);
    };
    centerField.addEventListener('change', onTypedWindow);
    widthField.addEventListener('change', onTypedWindow);
    invertBox.addEventListener('change', () => {
      this.state = { ...this.state, invert: invertBox.checked };
      this.redraw();
    });
  }

  /** What the display pipeline (render/pipeline.ts) applies. */
  get viewState(): ViewState {
    return this.state;
  }

  /** On the first frame shown: its starting window, and the presets offered for it. */
  startFrom(frame: DecodedFrame): void {
    if (this.chosen) return;
    const start = initialWindow(this.info, frame);
    this.setWindow(start.center, start.width, false);
    this.chosen = true;
    this.fillPresets(frame);
  }

  setWindow(center: number, width: number, redraw = true): void {
    this.state = { ...this.state, windowCenter: center, windowWidth: Math.max(1, width) };
    this.view.centerField.value = round(this.state.windowCenter);
    this.view.widthField.value = round(this.state.windowWidth);
    if (redraw) this.redraw();
  }

  toggleInvert(): void {
    const { invertBox } = this.view;
    invertBox.checked = !invertBox.checked;
    this.state = { ...this.state, invert: invertBox.checked };
    this.redraw();
  }

  /** Back to the frame's starting window, not inverted, the first preset selected. */
  reset(frame: DecodedFrame): void {
    const start = initialWindow(this.info, frame);
    this.view.invertBox.checked = false;
    this.state = { ...this.state, invert: false };
    this.view.presetSelect.value = '0';
    this.setWindow(start.center, start.width);
  }

  /** The window at drag start moved by the pointer's offset (dx widens, dy raises the center). */
  dragTo(start: WindowAtDragStart, dx: number, dy: number, frame: DecodedFrame | undefined): void {
    // Sensitivity follows the frame's range, as Cornerstone's W/L tool does.
    const span = frame
      ? Math.max(1, (frame.max - frame.min) * Math.abs(this.info.rescaleSlope || 1))
      : 256;
    const perPixel = span / 512;
    this.setWindow(start.center + dy * perPixel, Math.max(1, start.width + dx * perPixel));
  }

  private fillPresets(frame: DecodedFrame): void {
    this.presets = [
      ...this.info.windows.map((w, i) => ({
        ...w,
        explanation: w.explanation || `Header window ${i + 1}`,
      })),
      rangeWindow(this.info, frame),
    ];
    if (isColor(frame)) this.presets = [initialWindow(this.info, frame)];
    this.view.presetSelect.replaceChildren(
      ...this.presets.map((preset, index) => {
        const option = document.createElement('vscode-option') as HTMLElement & { value: string };
        option.setAttribute('value', String(index));
        option.textContent = `${preset.explanation} (W ${round(preset.width)} / C ${round(preset.center)})`;
        return option;
      }),
    );
    this.view.presetSelect.value = '0';
  }
}
