/**
 * One stored frame as an 8-bit picture, exactly as the preview draws it: the header read by
 * the preview's own reader (src/imaging/header/imageInfo.ts), the frame cut by its own slicer
 * (src/imaging/header/fileFrames.ts) and decoded by src/imaging/decode/decodeFrame (both through
 * decodedTranscode.ts decodeStoredFrame, which transcoding shares), mapped through
 * the display pipeline of PS3.3 C.11 (src/imaging/render/pipeline.ts: Modality LUT, VOI LUT
 * window, MONOCHROME1 inversion, palette). So the local server's `/rendered` pixels are the
 * preview's pixels, then scaled to the viewport (PS3.18 §8.3.5.1.3) and encoded.
 */
import type * as dicomParser from 'dicom-parser';
import { setImmediate } from 'node:timers/promises';
import { checkPixelBudget, PixelBudgetError } from '../imaging/decode/budget';
import type { DecoderDeps } from '../imaging/decode/decodeFrame';
import { initialWindow, isColor, renderToRgba } from '../imaging/render/pipeline';
import type { ImageInfo } from '../imaging/types';
import { imageInfoFromDataSet, NotAnImageError } from '../imaging/header/imageInfo';
import { decodeStoredFrame } from './decodedTranscode';
import type { Image8 } from './png';

/** The window of PS3.18 §8.3.5.1.4: center, width and the VOI LUT Function it stands for. */
export interface RenderWindow {
  center: number;
  width: number;
  /** LINEAR, LINEAR_EXACT or SIGMOID (PS3.3 C.11.2.1.3); the header's when absent. */
  voiLutFunction?: string;
}

export interface RenderOptions {
  /** 1-based frame number. */
  frame: number;
  window?: RenderWindow;
  /** The box the picture is scaled to fit, aspect kept (PS3.18 §8.3.5.1.3). */
  viewport?: { width: number; height: number };
}

/** Why a frame cannot be rendered; `kind` picks the status the router answers. */
export class RenderError extends Error {
  override readonly name = 'RenderError';
  constructor(
    message: string,
    /**
     * no-image: nothing to render; too-large: over a limit; undecodable: no decoder or bad
     * data; no-frame: a frame number beyond the instance's.
     */
    readonly kind: 'no-image' | 'too-large' | 'undecodable' | 'no-frame',
  ) {
    super(message);
  }
}

/** The header's image description, with the preview's errors turned into {@link RenderError}s. */
export function renderInfo(dataSet: dicomParser.DataSet): ImageInfo {
  try {
    return imageInfoFromDataSet(dataSet);
  } catch (error) {
    if (error instanceof NotAnImageError) throw new RenderError(error.message, 'no-image');
    if (error instanceof PixelBudgetError) throw new RenderError(error.message, 'too-large');
    throw error;
  }
}

/** Decodes frame `options.frame` and maps it to 8-bit grey or RGB, before any scaling. */
export async function renderStoredFrame(
  dataSet: dicomParser.DataSet,
  info: ImageInfo,
  options: RenderOptions,
  deps: DecoderDeps,
): Promise<Image8> {
  if (options.frame > info.numberOfFrames)
    throw new RenderError(
      `frame ${options.frame} does not exist: the instance has ${info.numberOfFrames} frame(s)`,
      'no-frame',
    );
  let frame;
  try {
    checkPixelBudget(info);
    frame = await decodeStoredFrame(dataSet, info, options.frame, deps);
    // Decoding was synchronous work: let the loop answer others before the pipeline runs.
    await setImmediate();
  } catch (error) {
    if (error instanceof PixelBudgetError) throw new RenderError(error.message, 'too-large');
    // DecodeError (no decoder, corrupt data) and the slicer's errors (a short Pixel Data).
    if (error instanceof Error)
      throw new RenderError(`the frame could not be decoded: ${error.message}`, 'undecodable');
    throw error;
  }
  const preset = options.window ?? initialWindow(info, frame);
  const shown: ImageInfo = options.window?.voiLutFunction
    ? { ...info, voiLutFunction: options.window.voiLutFunction }
    : info;
  const rgba = new Uint8ClampedArray(frame.rows * frame.columns * 4);
  renderToRgba(
    frame,
    shown,
    { windowCenter: preset.center, windowWidth: preset.width, invert: false },
    rgba,
  );
  return fromRgba(rgba, frame.columns, frame.rows, isColor(frame) ? 3 : 1);
}

/** Drops alpha (the pipeline writes 255) and, for grey, the two copies of the grey value. */
export function fromRgba(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  channels: 1 | 3,
): Image8 {
  const count = width * height;
  const data = new Uint8Array(count * channels);
  if (channels === 1) {
    for (let i = 0; i < count; i++) data[i] = rgba[i * 4]!;
  } else {
    for (let i = 0, j = 0; i < count; i++, j += 3) {
      data[j] = rgba[i * 4]!;
      data[j + 1] = rgba[i * 4 + 1]!;
      data[j + 2] = rgba[i * 4 + 2]!;
    }
  }
  return { width, height, channels, data };
}

/**
 * The size that fits `image` into the viewport with its aspect ratio kept (PS3.18 §8.3.5.1.3:
 * "the rendered image … scaled to fit"); at least 1×1.
 */
export function fitInto(
  width: number,
  height: number,
  box: { width: number; height: number },
): { width: number; height: number } {
  const scale = Math.min(box.width / width, box.height / height);
  return {
    width: Math.max(1, Math.min(box.width, Math.round(width * scale))),
    height: Math.max(1, Math.min(box.height, Math.round(height * scale))),
  };
}

/**
 * Scales an 8-bit image to `width`×`height`: each output pixel is the mean of the source
 * pixels its area covers (a box filter, no aliasing when shrinking), the nearest source pixel
 * when enlarging.
 */
export function scaleImage(image: Image8, width: number, height: number): Image8 {
  if (width === image.width && height === image.height) return image;
  const { channels } = image;
  const out = new Uint8Array(width * height * channels);
  const sx = image.width / width;
  const sy = image.height / height;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * sy);
    const y1 = Math.max(y0 + 1, Math.min(image.height, Math.floor((y + 1) * sy)));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * sx);
      const x1 = Math.max(x0 + 1, Math.min(image.width, Math.floor((x + 1) * sx)));
      const area = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) {
          let index = (yy * image.width + x0) * channels + c;
          for (let xx = x0; xx < x1; xx++, index += channels) sum += image.data[index]!;
        }
        out[(y * width + x) * channels + c] = Math.round(sum / area);
      }
    }
  }
  return { width, height, channels, data: out };
}
