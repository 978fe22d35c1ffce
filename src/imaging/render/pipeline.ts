/**
 * The display pipeline of PS3.3 C.11 (Figure C.11-1 "Grayscale transformation"), from
 * stored values to RGBA bytes for a canvas:
 *   stored value → Modality LUT (Rescale Slope/Intercept, C.11.1.1.2) → VOI LUT (window,
 *   C.11.2.1.2) → Presentation (MONOCHROME1 inverts, C.7.6.3.1.2; user invert) → gray.
 * Colour: RGB as it is (8-bit) or scaled by the window (more bits); PALETTE COLOR through
 * its lookup tables (C.7.6.3.1.5–6, C.7.9).
 *
 * Plain TypeScript, no DOM: runs in Node tests and benchmarks as in the webview.
 */
import type { ImageInfo, PaletteChannel, WindowPreset } from '../types';
import type { DecodedFrame } from '../decode/types';

/** What the user controls. */
export interface ViewState {
  windowCenter: number;
  windowWidth: number;
  invert: boolean;
}

/** Rescale Slope/Intercept of C.11.1.1.2 (1 and 0 when absent or zero slope). */
export function modality(info: Pick<ImageInfo, 'rescaleSlope' | 'rescaleIntercept'>): {
  slope: number;
  intercept: number;
} {
  const slope =
    Number.isFinite(info.rescaleSlope) && info.rescaleSlope !== 0 ? info.rescaleSlope : 1;
  const intercept = Number.isFinite(info.rescaleIntercept) ? info.rescaleIntercept : 0;
  return { slope, intercept };
}

/** Stored → modality value (e.g. Hounsfield units). */
export function rescale(
  stored: number,
  info: Pick<ImageInfo, 'rescaleSlope' | 'rescaleIntercept'>,
): number {
  const { slope, intercept } = modality(info);
  return stored * slope + intercept;
}

/**
 * The window to start with: the header's first (C.11.2.1.2: "the first is the default"),
 * else one that spans the frame's rescaled range, as OHIF and Cornerstone do.
 */
export function initialWindow(info: ImageInfo, frame: DecodedFrame): WindowPreset {
  if (isColor(frame)) {
    const full = 2 ** Math.min(frame.bitsStored, 32);
    return { center: full / 2, width: full, explanation: 'Full range' };
  }
  const header = info.windows.find(
    (w) => Number.isFinite(w.center) && Number.isFinite(w.width) && w.width >= 1,
  );
  if (header) return header;
  return rangeWindow(info, frame);
}

/** A window spanning the frame's rescaled min…max ("Min/Max" preset). */
export function rangeWindow(info: ImageInfo, frame: DecodedFrame): WindowPreset {
  const a = rescale(frame.min, info);
  const b = rescale(frame.max, info);
  const low = Math.min(a, b);
  const high = Math.max(a, b);
  return { center: (low + high) / 2, width: Math.max(1, high - low + 1), explanation: 'Min/Max' };
}

export function isColor(
  frame: Pick<DecodedFrame, 'photometricInterpretation' | 'samplesPerPixel'>,
): boolean {
  return frame.samplesPerPixel >= 3 || frame.photometricInterpretation === 'PALETTE COLOR';
}

/**
 * VOI function: maps a modality value to 0…1. LINEAR is C.11.2.1.2.1 (with its −0.5 and
 * width − 1), LINEAR_EXACT C.11.2.1.3.2, SIGMOID C.11.2.1.3.1.
 */
export function voiFunction(center: number, width: number, kind = 'LINEAR'): (x: number) => number {
  if (kind === 'LINEAR_EXACT') {
    const w = Math.max(width, Number.MIN_VALUE);
    return (x) => clamp01((x - center) / w + 0.5);
  }
  if (kind === 'SIGMOID') {
    const w = Math.max(width, Number.MIN_VALUE);
    return (x) => 1 / (1 + Math.exp((-4 * (x - center)) / w));
  }
  const w = Math.max(width, 1);
  const c = center - 0.5;
  const half = (w - 1) / 2;
  if (w === 1) return (x) => (x <= c ? 0 : 1);
  return (x) => (x <= c - half ? 0 : x > c + half ? 1 : (x - c) / (w - 1) + 0.5);
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Largest stored-value range for which a lookup table is built instead of computing each pixel. */
const MAX_LUT_ENTRIES = 1 << 20;

const littleEndianHost = new Uint8Array(new Uint32Array([0x01020304]).buffer)[0] === 0x04;

function packRgba(r: number, g: number, b: number): number {
  // Canvas ImageData is RGBA in memory; a Uint32 view writes it in host byte order.
  return littleEndianHost
    ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
}

/**
 * Draws a frame into `out` (rows × columns × 4 bytes, RGBA) for the given view.
 * Grayscale frames go through a lookup table over the frame's stored range, so a 512×512
 * 16-bit frame is one table build plus one pass.
 */
export function renderToRgba(
  frame: DecodedFrame,
  info: ImageInfo,
  view: ViewState,
  out: Uint8ClampedArray,
): void {
  const count = frame.rows * frame.columns;
  if (out.length < count * 4)
    throw new Error(`RGBA buffer holds ${out.length} bytes; ${count * 4} needed.`);
  const out32 = new Uint32Array(out.buffer, out.byteOffset, count);
  if (frame.photometricInterpretation === 'PALETTE COLOR' && info.palette && !frame.rendered) {
    renderPalette(frame, info, out32);
    return;
  }
  if (frame.samplesPerPixel >= 3) {
    renderColor(frame, view, out32);
    return;
  }
  renderGray(frame, info, view, out32);
}

function renderGray(
  frame: DecodedFrame,
  info: ImageInfo,
  view: ViewState,
  out32: Uint32Array,
): void {
  const { slope, intercept } = modality(info);
  const voi = voiFunction(view.windowCenter, view.windowWidth, info.voiLutFunction);
  // MONOCHROME1: the minimum displays white (C.7.6.3.1.2); the user's invert toggles on top.
  const invert = (frame.photometricInterpretation === 'MONOCHROME1') !== view.invert;
  const pixels = frame.pixels;
  const n = frame.rows * frame.columns;
  const span = frame.max - frame.min + 1;
  const integer = !(pixels instanceof Float32Array);
  if (integer && span > 0 && span <= MAX_LUT_ENTRIES) {
    const lut = new Uint32Array(span);
    const min = frame.min;
    for (let i = 0; i < span; i++) {
      let g = Math.round(voi((min + i) * slope + intercept) * 255);
      if (invert) g = 255 - g;
      lut[i] = packRgba(g, g, g);
    }
    const padding = info.pixelPaddingValue;
    for (let i = 0; i < n; i++) out32[i] = lut[pixels[i] - min];
    if (padding !== undefined && padding >= min && padding < min + span) {
      // Pixel Padding Value (C.7.5.1.1.2) is not part of the image: draw it black.
      const black = packRgba(0, 0, 0);
      for (let i = 0; i < n; i++) if (pixels[i] === padding) out32[i] = black;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    let g = Math.round(voi(pixels[i] * slope + intercept) * 255);
    if (invert) g = 255 - g;
    out32[i] = packRgba(g, g, g);
  }
}

function renderColor(frame: DecodedFrame, view: ViewState, out32: Uint32Array): void {
  const pixels = frame.pixels;
  const spp = frame.samplesPerPixel;
  const n = frame.rows * frame.columns;
  const full = 2 ** Math.min(frame.bitsStored, 32);
  const identity8 =
    frame.bitsStored <= 8 &&
    !view.invert &&
    Math.abs(view.windowWidth - 256) < 1e-9 &&
    Math.abs(view.windowCenter - 128) < 1e-9;
  if (identity8) {
    for (let i = 0, j = 0; i < n; i++, j += spp)
      out32[i] = packRgba(pixels[j], pixels[j + 1], pixels[j + 2]);
    return;
  }
  // The window applies to each channel alike, as OHIF does for colour images.
  const voi = voiFunction(view.windowCenter, view.windowWidth, 'LINEAR');
  const map = (v: number) => {
    const g = Math.round(voi(v) * 255);
    return view.invert ? 255 - g : g;
  };
  if (full <= MAX_LUT_ENTRIES) {
    const lut = new Uint8Array(full);
    for (let v = 0; v < full; v++) lut[v] = map(v);
    for (let i = 0, j = 0; i < n; i++, j += spp)
      out32[i] = packRgba(lut[pixels[j]], lut[pixels[j + 1]], lut[pixels[j + 2]]);
    return;
  }
  for (let i = 0, j = 0; i < n; i++, j += spp)
    out32[i] = packRgba(map(pixels[j]), map(pixels[j + 1]), map(pixels[j + 2]));
}

/** PALETTE COLOR (C.7.6.3.1.5): each stored value indexes the red, green and blue tables. */
function renderPalette(frame: DecodedFrame, info: ImageInfo, out32: Uint32Array): void {
  const palette = info.palette!;
  const red = channelTable(palette.red);
  const green = channelTable(palette.green);
  const blue = channelTable(palette.blue);
  const pixels = frame.pixels;
  const n = frame.rows * frame.columns;
  for (let i = 0; i < n; i++) {
    const v = pixels[i];
    out32[i] = packRgba(
      lookup(red, palette.red, v),
      lookup(green, palette.green, v),
      lookup(blue, palette.blue, v),
    );
  }
}

function channelTable(channel: PaletteChannel): Uint8Array {
  // 16-bit entries keep their high byte (C.7.6.3.1.6: entries span the full bit range).
  const shift = channel.bitsPerEntry > 8 ? 8 : 0;
  let max = 0;
  for (const v of channel.data) if (v > max) max = v;
  // Some writers declare 16 bits but store 8-bit values: do not darken those to black.
  const effectiveShift = shift && max <= 255 ? 0 : shift;
  return Uint8Array.from(channel.data, (v) => (v >> effectiveShift) & 0xff);
}

function lookup(table: Uint8Array, channel: PaletteChannel, value: number): number {
  // Values below the first mapped one take the first entry, above the last the last (C.7.6.3.1.5).
  let index = value - channel.firstMapped;
  if (index < 0) index = 0;
  else if (index >= table.length) index = table.length - 1;
  return table[index];
}

/** What the cursor shows: stored and rescaled value of the pixel, or its RGB triple. */
export function pixelValueAt(
  frame: DecodedFrame,
  info: ImageInfo,
  x: number,
  y: number,
): { stored: number[]; rescaled?: number } | undefined {
  if (x < 0 || y < 0 || x >= frame.columns || y >= frame.rows) return undefined;
  const index = (Math.floor(y) * frame.columns + Math.floor(x)) * frame.samplesPerPixel;
  const stored = Array.from(frame.pixels.subarray(index, index + frame.samplesPerPixel));
  if (frame.samplesPerPixel === 1 && frame.photometricInterpretation !== 'PALETTE COLOR') {
    return { stored, rescaled: rescale(stored[0], info) };
  }
  return { stored };
}
