/**
 * Shrinks an RGBA image to fit a square of `size` pixels, keeping its aspect ratio, each
 * output pixel the mean of the source pixels it covers (a box filter: no aliasing stripes
 * on a CT's fine structures, and one pass over the source). No `vscode`, no DOM.
 */

export interface RgbaImage {
  width: number;
  height: number;
  /** width × height × 4 bytes. */
  rgba: Uint8Array | Uint8ClampedArray;
}

/** The size an image of `width` × `height` gets inside a `size` square (never enlarged). */
export function fitWithin(
  width: number,
  height: number,
  size: number,
): { width: number; height: number } {
  const scale = Math.min(1, size / Math.max(width, height));
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

export function shrinkRgba(image: RgbaImage, size: number): RgbaImage {
  const { width, height } = fitWithin(image.width, image.height, size);
  if (width === image.width && height === image.height) return image;
  const sums = new Float64Array(width * height * 4);
  const counts = new Uint32Array(width * height);
  const xScale = width / image.width;
  const yScale = height / image.height;
  const src = image.rgba;
  for (let y = 0; y < image.height; y++) {
    const row = Math.min(height - 1, Math.floor(y * yScale)) * width;
    for (let x = 0; x < image.width; x++) {
      const target = row + Math.min(width - 1, Math.floor(x * xScale));
      const from = (y * image.width + x) * 4;
      const to = target * 4;
      sums[to] += src[from];
      sums[to + 1] += src[from + 1];
      sums[to + 2] += src[from + 2];
      sums[to + 3] += src[from + 3];
      counts[target]++;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] || 1;
    for (let c = 0; c < 4; c++) rgba[i * 4 + c] = Math.round(sums[i * 4 + c] / n);
  }
  return { width, height, rgba };
}
