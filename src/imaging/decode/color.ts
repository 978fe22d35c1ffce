/**
 * Colour conversions of PS3.3 C.7.6.3.1.2: YBR_FULL (ITU-R BT.601 full range, as JFIF)
 * and YBR_FULL_422 (the same, with Cb/Cr shared by pairs of pixels in a row).
 */

/**
 * YBR_FULL_422 native layout (C.7.6.3.1.2): for every two pixels of a row, Y1 Y2 Cb Cr.
 * Returns YBR_FULL interleaved (Y Cb Cr per pixel), the chroma repeated.
 */
export function ybrFull422ToYbrFull(bytes: Uint8Array, rows: number, columns: number): Uint8Array {
  const out = new Uint8Array(rows * columns * 3);
  let src = 0;
  let dst = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c += 2) {
      const y1 = bytes[src];
      const y2 = bytes[src + 1];
      const cb = bytes[src + 2];
      const cr = bytes[src + 3];
      src += 4;
      out[dst++] = y1;
      out[dst++] = cb;
      out[dst++] = cr;
      if (c + 1 < columns) {
        out[dst++] = y2;
        out[dst++] = cb;
        out[dst++] = cr;
      }
    }
  }
  return out;
}

/** YBR_FULL → RGB in place, 8-bit (C.7.6.3.1.2 gives the forward equations; these invert them). */
export function ybrFullToRgbInPlace(pixels: Uint8Array): void {
  for (let i = 0; i + 2 < pixels.length; i += 3) {
    const y = pixels[i];
    const cb = pixels[i + 1] - 128;
    const cr = pixels[i + 2] - 128;
    pixels[i] = clamp8(y + 1.402 * cr);
    pixels[i + 1] = clamp8(y - 0.344136 * cb - 0.714136 * cr);
    pixels[i + 2] = clamp8(y + 1.772 * cb);
  }
}

function clamp8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
