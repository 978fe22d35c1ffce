/**
 * A frame output to RGBA with the preview's own code: decodeFrame (native, RLE, JPEG
 * Lossless in JavaScript) and renderToRgba at the header's default window (PS3.3
 * C.11.2.1.2: the first window is the default), else one spanning the frame's range.
 * No DOM: Node tests run exactly this.
 *
 * The WebAssembly codecs (JPEG baseline/extended, JPEG-LS, JPEG 2000, HTJ2K) come with
 * `deps`: the renderer passes the page's (pageCodecs.ts), the tests Node's. Without them such
 * frames get a sentence saying which codec they need.
 */
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- tests compile this file without webview/ in their tsconfig: the ambient declaration comes in here
/// <reference path="../preview/jpegLossless.d.ts" />
import { Decoder as JpegLosslessDecoderClass } from 'jpeg-lossless-decoder-js';
import {
  decodeFrame,
  type DecoderDeps,
  type JpegLosslessDecoder,
} from '../../src/imaging/decode/decodeFrame';
import { DecodeError } from '../../src/imaging/decode/types';
import { initialWindow, renderToRgba } from '../../src/imaging/render/pipeline';
import type { FrameOutput } from './frameOutput';

/** No WebAssembly codec: what a caller without a way to load them draws with. */
export const NO_WASM_DEPS: DecoderDeps = {
  codecs: {
    get: (name) =>
      Promise.reject(
        new DecodeError(
          `This frame needs the ${name} WebAssembly codec, which is not loaded here: open the instance in the preview, or ask for the frame transcoded (transfer-syntax=1.2.840.10008.1.2.1).`,
          true,
        ),
      ),
  },
  jpegLossless: async () => JpegLosslessDecoderClass as unknown as new () => JpegLosslessDecoder,
};

export interface DrawnFrame {
  columns: number;
  rows: number;
  rgba: Uint8ClampedArray<ArrayBuffer>;
  decoder: string;
  window: { center: number; width: number };
}

export async function frameToRgba(
  output: FrameOutput,
  deps: DecoderDeps = NO_WASM_DEPS,
): Promise<DrawnFrame> {
  const frame = await decodeFrame(
    output.bytes,
    output.info,
    {
      path: 'stored',
      mediaType: output.mediaType,
      ...(output.transferSyntaxUid ? { transferSyntaxUid: output.transferSyntaxUid } : {}),
    },
    deps,
  );
  const window = initialWindow(output.info, frame);
  const rgba = new Uint8ClampedArray(frame.rows * frame.columns * 4);
  renderToRgba(
    frame,
    output.info,
    { windowCenter: window.center, windowWidth: window.width, invert: false },
    rgba,
  );
  return {
    columns: frame.columns,
    rows: frame.rows,
    rgba,
    decoder: frame.decoder,
    window: { center: window.center, width: window.width },
  };
}
