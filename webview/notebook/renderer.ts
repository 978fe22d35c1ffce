/**
 * The notebook renderer of frame outputs (FRAME_MIME, src/notebook/frameOutput.ts): decodes
 * the frame like the preview and draws it on a canvas, with a caption (frame number, size,
 * decoder, window). VS Code loads this module in the notebook's output webview and calls
 * `activate` (contributes.notebookRenderer in package.json).
 */
import { frameToRgba } from './drawFrame';
import { decodeFrameOutput } from './frameOutput';

/** What VS Code hands a renderer (the vscode-notebook-renderer API, the part used here). */
interface OutputItem {
  readonly mime: string;
  data(): Uint8Array;
}
interface RendererApi {
  renderOutputItem(item: OutputItem, element: HTMLElement): Promise<void>;
}

export function activate(): RendererApi {
  return {
    async renderOutputItem(item, element) {
      element.replaceChildren();
      const caption = document.createElement('p');
      try {
        const output = decodeFrameOutput(item.data());
        const drawn = await frameToRgba(output);
        const canvas = document.createElement('canvas');
        canvas.width = drawn.columns;
        canvas.height = drawn.rows;
        canvas.className = 'dicomweb-frame';
        canvas.style.maxWidth = '100%';
        canvas
          .getContext('2d')!
          .putImageData(new ImageData(drawn.rgba, drawn.columns, drawn.rows), 0, 0);
        caption.textContent = `Frame ${output.frameNumber} · ${drawn.columns}×${drawn.rows} · ${drawn.decoder} · window ${Math.round(drawn.window.center)}/${Math.round(drawn.window.width)}`;
        element.append(canvas, caption);
      } catch (error) {
        caption.className = 'dicomweb-error';
        caption.textContent = error instanceof Error ? error.message : String(error);
        element.append(caption);
      }
    },
  };
}
