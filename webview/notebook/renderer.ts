/**
 * The extension's notebook renderer (contributes.notebookRenderer in package.json), which VS
 * Code loads in the notebook's output webview and calls `activate` on. Two mime types:
 * - FRAME_MIME (src/notebook/frameOutput.ts): a frame decoded like the preview and drawn on
 *   a canvas, with a caption (frame number, size, decoder, window);
 * - SEARCH_MIME (src/notebook/searchOutput.ts): a search's rows as a table whose "Show"
 *   buttons post to the extension, which reveals the row in the tree.
 */
import type { DecoderDeps } from '../../src/imaging/decode/decodeFrame';
import { frameToRgba } from './drawFrame';
import { decodeFrameOutput } from './frameOutput';
import { pageDecoderDeps } from './pageCodecs';
import { readSearchOutput, type RevealMessage } from './searchOutput';
import { drawSearch } from './searchTable';

const FRAME_MIME = 'application/vnd.dicomweb-explorer.frame';
const SEARCH_MIME = 'application/vnd.dicomweb-explorer.search+json';

/** What VS Code hands a renderer (the vscode-notebook-renderer API, the part used here). */
interface OutputItem {
  readonly mime: string;
  data(): Uint8Array;
}
interface RendererContext {
  /** Present when the renderer's messaging is on (package.json: requiresMessaging). */
  postMessage?(message: unknown): void;
}
interface RendererApi {
  renderOutputItem(item: OutputItem, element: HTMLElement): Promise<void>;
}

export function activate(context: RendererContext = {}): RendererApi {
  // The codecs beside this module's own URL (dist/codecs/), loaded on a frame's first need.
  const deps = pageDecoderDeps(import.meta.url);
  const post = context.postMessage
    ? (message: RevealMessage) => context.postMessage!(message)
    : undefined;
  return {
    async renderOutputItem(item, element) {
      element.replaceChildren();
      try {
        if (item.mime === SEARCH_MIME) drawSearch(readSearchOutput(item.data()), element, post);
        else if (item.mime === FRAME_MIME) await drawFrame(item.data(), element, deps);
        else throw new Error(`The DICOMweb renderer does not draw ${item.mime}.`);
      } catch (error) {
        const caption = document.createElement('p');
        caption.className = 'dicomweb-error';
        caption.textContent = error instanceof Error ? error.message : String(error);
        element.append(caption);
      }
    },
  };
}

async function drawFrame(data: Uint8Array, element: HTMLElement, deps: DecoderDeps): Promise<void> {
  const output = decodeFrameOutput(data);
  const drawn = await frameToRgba(output, deps);
  const canvas = document.createElement('canvas');
  canvas.width = drawn.columns;
  canvas.height = drawn.rows;
  canvas.className = 'dicomweb-frame';
  canvas.style.maxWidth = '100%';
  canvas.getContext('2d')!.putImageData(new ImageData(drawn.rgba, drawn.columns, drawn.rows), 0, 0);
  const caption = document.createElement('p');
  caption.textContent = `Frame ${output.frameNumber} · ${drawn.columns}×${drawn.rows} · ${drawn.decoder} · window ${Math.round(drawn.window.center)}/${Math.round(drawn.window.width)}`;
  element.append(canvas, caption);
}
