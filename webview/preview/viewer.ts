/**
 * The frame viewer, as the preview page (main.ts) and the DICOM editor page
 * (webview/editor/main.ts) both show it: receives an instance's ImageInfo and its frames'
 * bytes from the extension (webview/protocol.ts), decodes them here (decode/), maps them to
 * RGBA (render/pipeline.ts) and draws them on a canvas; window/level, zoom/pan, cine, pixel
 * values, overlay and PNG export. No network: everything arrives by message.
 *
 * This file wires the modules and answers the viewer's messages of the protocol:
 *   view.ts            the page's elements and the text written into them
 *   frames.ts          frame requests, the decode hand-off, the frame cache
 *   frameNavigation.ts which frame is shown (slider, keys, cine)
 *   cine.ts            playback loop and frame rate
 *   viewport.ts        the canvas: drawing, zoom/pan, pointer (windowLevel.ts: W/L, invert)
 *   keyboard.ts        the keys, bound to those modules
 *   codecLoader.ts     the WebAssembly codecs, scripts by nonce and wasm by message
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { InitMessage, ToWebview } from '../protocol';
import { Cine } from './cine';
import { BrowserCodecs } from './codecLoader';
import { FrameNavigation } from './frameNavigation';
import { FrameRequests, FrameStore } from './frames';
import { bindKeys } from './keyboard';
import { PreviewView } from './view';
import { Viewport } from './viewport';
import type { Post } from './vscodeApi';

/**
 * Puts a viewer in `app` (the element holding `#message` and `data-nonce`) and returns
 * its message handler: true when the message was the viewer's.
 */
export function createViewer(app: HTMLElement, post: Post): (message: ToWebview) => boolean {
  // What lives as long as the page: messages can reach these before `init`.
  const view = new PreviewView(app);
  const codecs = new BrowserCodecs(app.dataset.nonce ?? '', post);
  const requests = new FrameRequests(post);
  const cine = new Cine(view, post);
  return (message) => {
    switch (message.type) {
      case 'init':
        // Once per page: the extension posts it in answer to this page's one `ready`.
        if (!view.isMounted) start(message, { view, codecs, requests, cine, post });
        return true;
      case 'frame':
        requests.answer(message);
        return true;
      case 'frameError':
        requests.refuse(message);
        return true;
      case 'codec':
        codecs.deliver(message);
        return true;
      case 'fatal':
        view.showFatal(message.message, message.detail);
        return true;
      case 'exportDone':
        if (message.error) view.setPixelStatus(`Export failed: ${message.error}`);
        else if (message.path) view.setPixelStatus(`Saved ${message.path}`);
        return true;
      case 'cine':
        cine.command(message);
        return true;
      default:
        return false;
    }
  };
}

/** What {@link start} needs from the page. */
interface ViewerParts {
  view: PreviewView;
  codecs: BrowserCodecs;
  requests: FrameRequests;
  cine: Cine;
  post: Post;
}

/** The instance is known: builds what shows it, puts the viewer on the page, shows frame 1. */
function start(message: InitMessage, parts: ViewerParts): void {
  const { view, codecs, requests, cine, post } = parts;
  const { info } = message;
  codecs.useScripts(message.codecScripts);
  document.title = message.title;
  const viewport = new Viewport({
    view,
    info,
    attributes: message.attributes,
    frameNumber: (): number => navigation.current,
  });
  const frames = new FrameStore({
    requests,
    info,
    decoders: codecs.deps,
    post,
    shownNumber: (): number => navigation.current,
  });
  const navigation = new FrameNavigation({ view, info, frames, viewport, cine, post });
  cine.open(navigation, info.frameTimeMs);
  bindKeys(view.stage, {
    next: () => void navigation.next(),
    previous: () => void navigation.previous(),
    first: () => void navigation.show(1),
    last: () => void navigation.show(info.numberOfFrames),
    togglePlay: () => cine.toggle(),
    zoomIn: () => viewport.zoomAtCenter(1.25),
    zoomOut: () => viewport.zoomAtCenter(0.8),
    fit: () => viewport.fit(),
    actualSize: () => viewport.actualSize(),
    invert: () => viewport.windowLevel.toggleInvert(),
    reset: () => viewport.reset(),
  });
  view.exportButton.addEventListener('click', () =>
    viewport.toPng((png) => {
      const base = message.title.replace(/\.dcm$/i, '');
      const frame = info.numberOfFrames > 1 ? `-frame${navigation.current}` : '';
      post({ type: 'exportPng', suggestedName: `${base}${frame}.png`, png });
    }),
  );
  view.mount(info.numberOfFrames);
  view.showMessage(`Loading frame 1 of ${info.numberOfFrames}…`);
  view.stage.focus();
  void navigation.show(1);
}
