/**
 * The preview webview: receives an instance's ImageInfo and its frames' bytes from the
 * extension (webview/protocol.ts), decodes them here (decode/), maps them to RGBA
 * (render/pipeline.ts) and draws them on a canvas; window/level, zoom/pan, cine, pixel
 * values, overlay and PNG export. No network: everything arrives by message.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import {
  PROTOCOL_VERSION,
  isToWebview,
  type ImageInfo,
  type InitMessage,
  type WindowPreset,
} from '../protocol';
import { Cine } from './cine';
import { BrowserCodecs } from './codecLoader';
import type { DecodedFrame } from './decode/types';
import { FrameRequests, FrameStore, type ShownFrame } from './frames';
import {
  initialWindow,
  isColor,
  pixelValueAt,
  rangeWindow,
  renderToRgba,
  type ViewState,
} from './render/pipeline';
import { describePath, describePixel, messageOf, overlayLines, PreviewView, round } from './view';
import { connectToExtension } from './vscodeApi';

const post = connectToExtension();
const app = document.getElementById('app')!;
const nonce = app.dataset.nonce ?? '';

// ---------------------------------------------------------------------------------------
// codecs: scripts by nonce, wasm by message

const codecs = new BrowserCodecs(nonce, post);

// ---------------------------------------------------------------------------------------
// state

type Shown = ShownFrame;

let init: InitMessage | undefined;
let info: ImageInfo | undefined;
let current = 1;
let view: ViewState = { windowCenter: 0, windowWidth: 1, invert: false };
let windowChosen = false;
let zoom = { scale: 1, x: 0, y: 0, fit: true };
const requests = new FrameRequests(post);
let frames: FrameStore | undefined;

// ---------------------------------------------------------------------------------------
// DOM

const page = new PreviewView(app);
const {
  toolbar,
  presetSelect,
  centerField,
  widthField,
  invertBox,
  fitButton,
  actualButton,
  resetButton,
  exportButton,
  stage,
  canvas,
  frameError,
  frameBar,
  slider,
  frameLabel,
  statusBar,
  pixelStatus,
  pathStatus,
} = page;
const messageBox = page.messageBox;
const context = canvas.getContext('2d')!;

const cine = new Cine(page, post);

function showMessage(text: string, detail?: string): void {
  page.showMessage(text, detail);
}

// ---------------------------------------------------------------------------------------
// frames

// ---------------------------------------------------------------------------------------
// drawing

let imageData: ImageData | undefined;
let shownNow: Shown | undefined;
let firstShown = false;

function draw(): void {
  const shown = shownNow;
  if (!shown || !info) return;
  const { frame } = shown;
  if (canvas.width !== frame.columns || canvas.height !== frame.rows) {
    canvas.width = frame.columns;
    canvas.height = frame.rows;
    imageData = undefined;
  }
  imageData ??= context.createImageData(frame.columns, frame.rows);
  renderToRgba(frame, info, view, imageData.data);
  context.putImageData(imageData, 0, 0);
  updateOverlay();
}

async function show(frameNumber: number): Promise<void> {
  if (!info) return;
  current = Math.min(Math.max(1, frameNumber), info.numberOfFrames);
  slider.value = String(current);
  frameLabel.textContent = `${current} / ${info.numberOfFrames}`;
  const wanted = current;
  try {
    const shown = await frames!.load(wanted);
    if (wanted !== current) return;
    frameError.hidden = true;
    shownNow = shown;
    if (!windowChosen) {
      const start = initialWindow(info, shown.frame);
      setWindow(start.center, start.width, false);
      windowChosen = true;
      fillPresets(shown.frame);
    }
    draw();
    cine.frameDrawn();
    applyZoom();
    pathStatus.textContent = describePath(shown, info);
    messageBox.hidden = true;
    if (!firstShown) {
      firstShown = true;
      // After the browser has had the chance to paint it.
      requestAnimationFrame(() =>
        post({ type: 'rendered', frameNumber: wanted, path: shown.path }),
      );
    }
  } catch (error) {
    if (wanted !== current) return;
    frameError.hidden = false;
    frameError.textContent = `Frame ${wanted} cannot be shown: ${messageOf(error)}`;
    if (!shownNow) showMessage(`Frame ${wanted} cannot be shown.`, messageOf(error));
  }
  if (!cine.isPlaying) void frames?.prefetch(2);
}

function updateOverlay(): void {
  if (!init || !info) return;
  page.setCorners(
    overlayLines({
      attributes: init.attributes,
      info,
      frameNumber: current,
      frame: shownNow?.frame,
      view,
      zoomScale: zoom.scale,
    }),
  );
}

// ---------------------------------------------------------------------------------------
// window / level

let presets: WindowPreset[] = [];

function fillPresets(frame: DecodedFrame): void {
  if (!info) return;
  presets = [
    ...info.windows.map((w, i) => ({
      ...w,
      explanation: w.explanation || `Header window ${i + 1}`,
    })),
    rangeWindow(info, frame),
  ];
  if (isColor(frame)) presets = [initialWindow(info, frame)];
  presetSelect.replaceChildren(
    ...presets.map((preset, index) => {
      const option = document.createElement('vscode-option') as HTMLElement & { value: string };
      option.setAttribute('value', String(index));
      option.textContent = `${preset.explanation} (W ${round(preset.width)} / C ${round(preset.center)})`;
      return option;
    }),
  );
  presetSelect.value = '0';
}

function setWindow(center: number, width: number, redraw = true): void {
  view = { ...view, windowCenter: center, windowWidth: Math.max(1, width) };
  centerField.value = round(view.windowCenter);
  widthField.value = round(view.windowWidth);
  if (redraw) draw();
}

presetSelect.addEventListener('change', () => {
  const preset = presets[Number(presetSelect.value)];
  if (preset) setWindow(preset.center, preset.width);
});
const onTypedWindow = () => {
  const c = Number(centerField.value);
  const w = Number(widthField.value);
  if (Number.isFinite(c) && Number.isFinite(w) && w >= 1) setWindow(c, w);
};
centerField.addEventListener('change', onTypedWindow);
widthField.addEventListener('change', onTypedWindow);
invertBox.addEventListener('change', () => {
  view = { ...view, invert: invertBox.checked };
  draw();
});

// ---------------------------------------------------------------------------------------
// zoom / pan

function applyZoom(): void {
  if (!shownNow) return;
  const { columns, rows } = shownNow.frame;
  const bounds = stage.getBoundingClientRect();
  if (zoom.fit) {
    zoom.scale = Math.min(bounds.width / columns, bounds.height / rows) || 1;
    zoom.x = (bounds.width - columns * zoom.scale) / 2;
    zoom.y = (bounds.height - rows * zoom.scale) / 2;
  }
  canvas.style.transform = `translate(${zoom.x}px, ${zoom.y}px) scale(${zoom.scale})`;
  canvas.classList.toggle('pixelated', zoom.scale >= 2);
  updateOverlay();
}

function zoomAt(factor: number, clientX: number, clientY: number): void {
  const bounds = stage.getBoundingClientRect();
  const px = clientX - bounds.left;
  const py = clientY - bounds.top;
  const scale = Math.min(64, Math.max(0.05, zoom.scale * factor));
  zoom = {
    scale,
    x: px - ((px - zoom.x) * scale) / zoom.scale,
    y: py - ((py - zoom.y) * scale) / zoom.scale,
    fit: false,
  };
  applyZoom();
}

function actualSize(): void {
  const bounds = stage.getBoundingClientRect();
  const frame = shownNow?.frame;
  if (!frame) return;
  zoom = {
    scale: 1,
    x: (bounds.width - frame.columns) / 2,
    y: (bounds.height - frame.rows) / 2,
    fit: false,
  };
  applyZoom();
}

function fit(): void {
  zoom.fit = true;
  applyZoom();
}

new ResizeObserver(() => applyZoom()).observe(stage);
stage.addEventListener(
  'wheel',
  (event) => {
    event.preventDefault();
    zoomAt(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX, event.clientY);
  },
  { passive: false },
);

let drag:
  | {
      mode: 'window' | 'pan';
      x: number;
      y: number;
      center: number;
      width: number;
      zx: number;
      zy: number;
    }
  | undefined;
stage.addEventListener('contextmenu', (event) => event.preventDefault());
stage.addEventListener('pointerdown', (event) => {
  stage.focus();
  const mode = event.button === 0 && !event.shiftKey && !event.ctrlKey ? 'window' : 'pan';
  if (mode === 'window' && shownNow?.frame.rendered) return;
  drag = {
    mode,
    x: event.clientX,
    y: event.clientY,
    center: view.windowCenter,
    width: view.windowWidth,
    zx: zoom.x,
    zy: zoom.y,
  };
  stage.setPointerCapture(event.pointerId);
});
stage.addEventListener('pointermove', (event) => {
  updatePixelValue(event);
  if (!drag) return;
  const dx = event.clientX - drag.x;
  const dy = event.clientY - drag.y;
  if (drag.mode === 'pan') {
    zoom = { ...zoom, x: drag.zx + dx, y: drag.zy + dy, fit: false };
    applyZoom();
    return;
  }
  // Sensitivity follows the frame's range, as Cornerstone's W/L tool does.
  const frame = shownNow?.frame;
  const span = frame
    ? Math.max(1, (frame.max - frame.min) * Math.abs(info?.rescaleSlope || 1))
    : 256;
  const perPixel = span / 512;
  setWindow(drag.center + dy * perPixel, Math.max(1, drag.width + dx * perPixel));
});
const endDrag = () => (drag = undefined);
stage.addEventListener('pointerup', endDrag);
stage.addEventListener('pointercancel', endDrag);
stage.addEventListener('pointerleave', () => (pixelStatus.textContent = ''));
stage.addEventListener('dblclick', fit);

function updatePixelValue(event: PointerEvent): void {
  const shown = shownNow;
  if (!shown || !info) return;
  const bounds = stage.getBoundingClientRect();
  const x = (event.clientX - bounds.left - zoom.x) / zoom.scale;
  const y = (event.clientY - bounds.top - zoom.y) / zoom.scale;
  const value = pixelValueAt(shown.frame, info, x, y);
  if (!value) {
    pixelStatus.textContent = '';
    return;
  }
  pixelStatus.textContent = describePixel(value, shown.frame, info, x, y);
}

fitButton.addEventListener('click', fit);
actualButton.addEventListener('click', actualSize);
resetButton.addEventListener('click', reset);
exportButton.addEventListener('click', exportPng);

function reset(): void {
  if (!shownNow || !info) return;
  const start = initialWindow(info, shownNow.frame);
  invertBox.checked = false;
  view = { ...view, invert: false };
  presetSelect.value = '0';
  setWindow(start.center, start.width);
  fit();
}

function exportPng(): void {
  if (!shownNow) return;
  canvas.toBlob((blob) => {
    if (!blob) return;
    void blob.arrayBuffer().then((buffer) => {
      const base = (init?.title ?? 'frame').replace(/\.dcm$/i, '');
      post({
        type: 'exportPng',
        suggestedName: `${base}${info && info.numberOfFrames > 1 ? `-frame${current}` : ''}.png`,
        png: new Uint8Array(buffer),
      });
    });
  }, 'image/png');
}

slider.addEventListener('input', () => void show(Number(slider.value)));

stage.addEventListener('keydown', (event) => {
  if (!info) return;
  const handled = (() => {
    switch (event.key) {
      case 'ArrowRight':
      case 'ArrowDown':
      case 'PageDown':
        void show(current >= info.numberOfFrames ? 1 : current + 1);
        return true;
      case 'ArrowLeft':
      case 'ArrowUp':
      case 'PageUp':
        void show(current <= 1 ? info.numberOfFrames : current - 1);
        return true;
      case 'Home':
        void show(1);
        return true;
      case 'End':
        void show(info.numberOfFrames);
        return true;
      case ' ':
        cine.toggle();
        return true;
      case '+':
      case '=':
        zoomAt(
          1.25,
          stage.getBoundingClientRect().left + stage.clientWidth / 2,
          stage.getBoundingClientRect().top + stage.clientHeight / 2,
        );
        return true;
      case '-':
        zoomAt(
          0.8,
          stage.getBoundingClientRect().left + stage.clientWidth / 2,
          stage.getBoundingClientRect().top + stage.clientHeight / 2,
        );
        return true;
      case '0':
        fit();
        return true;
      case '1':
        actualSize();
        return true;
      case 'i':
        invertBox.checked = !invertBox.checked;
        view = { ...view, invert: invertBox.checked };
        draw();
        return true;
      case 'r':
        reset();
        return true;
      default:
        return false;
    }
  })();
  if (handled) event.preventDefault();
});

// ---------------------------------------------------------------------------------------
// messages

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = event.data;
  if (!isToWebview(message)) return;
  switch (message.type) {
    case 'init':
      // Once per page: the extension posts it in answer to this page's one `ready`.
      if (!page.isMounted) start(message);
      return;
    case 'frame':
      requests.answer(message);
      return;
    case 'frameError':
      requests.refuse(message);
      return;
    case 'codec':
      codecs.deliver(message);
      return;
    case 'fatal':
      app.replaceChildren(messageBox);
      showMessage(message.message, message.detail);
      return;
    case 'exportDone':
      if (message.error) pixelStatus.textContent = `Export failed: ${message.error}`;
      else if (message.path) pixelStatus.textContent = `Saved ${message.path}`;
      return;
    case 'cine':
      cine.command(message);
      return;
  }
});

function start(message: InitMessage): void {
  init = message;
  info = message.info;
  codecs.useScripts(message.codecScripts);
  frames = new FrameStore({
    requests,
    info,
    decoders: codecs.deps,
    post,
    shownNumber: () => current,
  });
  document.title = message.title;
  cine.open(
    {
      frameCount: info.numberOfFrames,
      get current() {
        return current;
      },
      show,
      isLoaded: (n) => frames!.has(n),
      load: (n) => frames!.load(n),
      prefetch: (count) => frames!.prefetch(count),
    },
    info.frameTimeMs,
  );
  slider.max = String(info.numberOfFrames);
  frameBar.hidden = info.numberOfFrames < 2;
  app.replaceChildren(toolbar, stage, frameBar, statusBar, messageBox);
  showMessage(`Loading frame 1 of ${info.numberOfFrames}…`);
  stage.focus();
  void show(1);
}

post({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
