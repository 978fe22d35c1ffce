/**
 * Decoded pixel data, as every decoder hands it to the pixel pipeline. Plain TypeScript:
 * no DOM and no Node, so the decoders run in the webview and in Node tests alike.
 */

/** Typed arrays a frame's samples can live in. */
export type PixelArray =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array;

/** One decoded frame: stored values (before the Modality LUT), samples interleaved. */
export interface DecodedFrame {
  columns: number;
  rows: number;
  samplesPerPixel: number;
  /**
   * rows × columns × samplesPerPixel stored values, pixel-interleaved (R1G1B1R2…) whatever
   * the Planar Configuration of the source (PS3.3 C.7.6.3.1.3).
   */
  pixels: PixelArray;
  /**
   * Photometric Interpretation of `pixels`: the source's, except where decoding changed it
   * (YBR_FULL/YBR_FULL_422 converted to RGB; JPEG and JPEG 2000 codecs that apply the
   * colour transform themselves, PS3.5 §8.2.1, §8.2.4).
   */
  photometricInterpretation: string;
  /** Smallest and largest stored value (of the first sample for colour). */
  min: number;
  max: number;
  /** Bits that carry the value (Bits Stored, or what the codec reported). */
  bitsStored: number;
  signed: boolean;
  /** What decoded it, for the status bar and the logs: "native", "RLE", "OpenJPEG" … */
  decoder: string;
  /** True for a server-rendered image (`/rendered`): display only, no stored values. */
  rendered?: boolean;
}

/** A decoder failure worth a clear sentence (unsupported syntax, corrupt data). */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    message: string,
    /** True when another path (a transcoded frame) may succeed where this one cannot. */
    readonly unsupported = false,
  ) {
    super(message);
  }
}

/** Smallest and largest value of every `stride`-th sample starting at 0. */
export function minMax(pixels: ArrayLike<number>, stride = 1): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  const length = pixels.length;
  for (let i = 0; i < length; i += stride) {
    const v = pixels[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { min: 0, max: 0 };
  return { min, max };
}

/**
 * A {@link DecodedFrame} whose `min`/`max` are computed on first read and kept: decoding
 * stays the codec's work alone, the range pass happens once when the display needs it.
 */
export function lazyRange(frame: Omit<DecodedFrame, 'min' | 'max'>): DecodedFrame {
  let range: { min: number; max: number } | undefined;
  const get = () => (range ??= minMax(frame.pixels, frame.samplesPerPixel));
  return Object.defineProperties(frame as DecodedFrame, {
    min: { get: () => get().min, enumerable: true, configurable: true },
    max: { get: () => get().max, enumerable: true, configurable: true },
  });
}
