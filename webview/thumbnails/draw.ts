/**
 * A tile's picture on its canvas: a server image (PNG/JPEG from `/thumbnail`, `/rendered`
 * or the host) through the browser's decoder, or a frame through the preview's decoders
 * (src/imaging) and display pipeline (PS3.3 C.11: the header's first window, else the
 * frame's range), shrunk to the tile.
 */
import type { ThumbnailMessage } from '../protocol';
import { decodeFrame, type DecoderDeps } from '../../src/imaging/decode/decodeFrame';
import { initialWindow, renderToRgba } from '../../src/imaging/render/pipeline';

/** The longer side of a tile's canvas, in pixels (the host asks servers for this size). */
export const TILE_SIZE = 128;

type Source = CanvasImageSource & { width: number; height: number };

/** Draws `source` into `canvas`, fitted inside TILE_SIZE, aspect kept. */
function drawFitted(canvas: HTMLCanvasElement, source: Source): void {
  const scale = Math.min(1, TILE_SIZE / Math.max(source.width, source.height));
  canvas.width = Math.max(1, Math.round(source.width * scale));
  canvas.height = Math.max(1, Math.round(source.height * scale));
  const context = canvas.getContext('2d')!;
  context.imageSmoothingQuality = 'high';
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
}

export async function drawTile(
  canvas: HTMLCanvasElement,
  message: ThumbnailMessage,
  decoders: DecoderDeps,
): Promise<void> {
  if (message.kind === 'image') {
    const bitmap = await createImageBitmap(
      new Blob([message.bytes as BlobPart], { type: message.mediaType }),
    );
    drawFitted(canvas, bitmap);
    bitmap.close();
    return;
  }
  if (message.path === 'rendered' || message.mediaType.startsWith('image/png')) {
    const bitmap = await createImageBitmap(
      new Blob([message.bytes as BlobPart], { type: message.mediaType }),
    );
    drawFitted(canvas, bitmap);
    bitmap.close();
    return;
  }
  const frame = await decodeFrame(
    message.bytes,
    message.info,
    {
      path: message.path,
      mediaType: message.mediaType,
      transferSyntaxUid: message.transferSyntaxUid,
    },
    decoders,
  );
  const window = initialWindow(message.info, frame);
  const full = new OffscreenCanvas(frame.columns, frame.rows);
  const image = new ImageData(frame.columns, frame.rows);
  renderToRgba(
    frame,
    message.info,
    { windowCenter: window.center, windowWidth: window.width, invert: false },
    image.data,
  );
  full.getContext('2d')!.putImageData(image, 0, 0);
  drawFitted(canvas, full);
}
