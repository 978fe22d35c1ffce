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
import { PROTOCOL_VERSION, isToWebview, type ImageInfo, type InitMessage } from '../protocol';
import { Cine } from './cine';
import { BrowserCodecs } from './codecLoader';
import { FrameRequests, FrameStore } from './frames';
import { describePath, messageOf, PreviewView } from './view';
import { Viewport } from './viewport';
import { connectToExtension } from './vscodeApi';

const post = connectToExtension();
const app = document.getElementById('app')!;
const nonce = app.dataset.nonce ?? '';
const codecs = new BrowserCodecs(nonce, post);

// ---------------------------------------------------------------------------------------
// state

let info: ImageInfo | undefined;
let current = 1;
const requests = new FrameRequests(post);
let frames: FrameStore | undefined;
let viewport: Viewport | undefined;

const page = new PreviewView(app);
const { stage, slider } = page;
const cine = new Cine(page, post);

// ---------------------------------------------------------------------------------------
// navigation

let firstShown = false;

async function show(frameNumber: number): Promise<void> {
  if (!info) return;
  current = Math.min(Math.max(1, frameNumber), info.numberOfFrames);
  page.showPosition(current, info.numberOfFrames);
  const wanted = current;
  try {
    const shown = await frames!.load(wanted);
    if (wanted !== current) return;
    page.showFrameError(undefined);
    viewport!.display(shown);
    cine.frameDrawn();
    viewport!.applyZoom();
    page.setPathStatus(describePath(shown, info));
    page.hideMessage();
    if (!firstShown) {
      firstShown = true;
      // After the browser has had the chance to paint it.
      requestAnimationFrame(() =>
        post({ type: 'rendered', frameNumber: wanted, path: shown.path }),
      );
    }
  } catch (error) {
    if (wanted !== current) return;
    page.showFrameError(`Frame ${wanted} cannot be shown: ${messageOf(error)}`);
    if (!viewport!.hasFrame) page.showMessage(`Frame ${wanted} cannot be shown.`, messageOf(error));
  }
  if (!cine.isPlaying) void frames?.prefetch(2);
}

slider.addEventListener('input', () => void show(Number(slider.value)));

stage.addEventListener('keydown', (event) => {
  if (!info || !viewport) return;
  const handled = onKey(event.key, info, viewport);
  if (handled) event.preventDefault();
});

function onKey(key: string, info: ImageInfo, viewport: Viewport): boolean {
  switch (key) {
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
      viewport.zoomAtCenter(1.25);
      return true;
    case '-':
      viewport.zoomAtCenter(0.8);
      return true;
    case '0':
      viewport.fit();
      return true;
    case '1':
      viewport.actualSize();
      return true;
    case 'i':
      viewport.windowLevel.toggleInvert();
      return true;
    case 'r':
      viewport.reset();
      return true;
    default:
      return false;
  }
}

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
      page.showFatal(message.message, message.detail);
      return;
    case 'exportDone':
      if (message.error) page.setPixelStatus(`Export failed: ${message.error}`);
      else if (message.path) page.setPixelStatus(`Saved ${message.path}`);
      return;
    case 'cine':
      cine.command(message);
      return;
  }
});

function start(message: InitMessage): void {
  info = message.info;
  const opened = message.info;
  codecs.useScripts(message.codecScripts);
  viewport = new Viewport({
    view: page,
    info: opened,
    attributes: message.attributes,
    frameNumber: () => current,
  });
  const shownViewport = viewport;
  page.exportButton.addEventListener('click', () =>
    shownViewport.toPng((png) => {
      const base = message.title.replace(/\.dcm$/i, '');
      const frame = opened.numberOfFrames > 1 ? `-frame${current}` : '';
      post({ type: 'exportPng', suggestedName: `${base}${frame}.png`, png });
    }),
  );
  const store = new FrameStore({
    requests,
    info: opened,
    decoders: codecs.deps,
    post,
    shownNumber: () => current,
  });
  frames = store;
  document.title = message.title;
  cine.open(
    {
      frameCount: opened.numberOfFrames,
      get current() {
        return current;
      },
      show,
      isLoaded: (n) => store.has(n),
      load: (n) => store.load(n),
      prefetch: (count) => store.prefetch(count),
    },
    opened.frameTimeMs,
  );
  page.mount(opened.numberOfFrames);
  page.showMessage(`Loading frame 1 of ${opened.numberOfFrames}…`);
  stage.focus();
  void show(1);
}

post({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
