/**
 * The preview's pixel budget: checked from the header, before any frame buffer is
 * allocated, on both sides of the panel (the extension host's file reader and the
 * webview's decoders). A header is the sender's word: a 652-byte file may declare a 1-bit
 * 65535×65535 image (4.3 G pixels), and building that frame blocked the extension host for
 * 31 s (issue 10, finding 5). Plain TypeScript: no DOM, no Node.
 */
import type { ImageInfo } from '../types';

/**
 * Most samples (rows × columns × samples per pixel) one frame may have: 2^28 = 268,435,456,
 * i.e. a 16384 × 16384 monochrome frame. Why: the webview draws a frame on a canvas, and
 * Chromium (VS Code's webview engine) caps a canvas at 2^28 pixels of area; a frame beyond
 * it could not be shown anyway. Real images stay far below: whole-slide microscopy is
 * tiled into frames of a few thousand pixels a side (PS3.3 C.8.12.4), a large digital
 * mammogram is about 4096 × 5200.
 */
export const MAX_FRAME_SAMPLES = 2 ** 28;

/**
 * Most bytes one decoded frame may take: 1 GiB (2^28 samples at 32 bits). A typed array
 * this size is still allocatable in V8 (its limit is 2^32 elements in Node ≥ 22); beyond it
 * the extension host or the webview would stall or die on one message.
 */
export const MAX_FRAME_BYTES = 2 ** 30;

/** Most frames an instance may declare (Number of Frames is IS, at most 2^31 − 1; PS3.5 §6.2). */
export const MAX_FRAMES = 2 ** 31 - 1;

/** The header declares more than the preview can or will hold. */
export class PixelBudgetError extends Error {
  override readonly name = 'PixelBudgetError';
}

type Geometry = Pick<
  ImageInfo,
  'rows' | 'columns' | 'samplesPerPixel' | 'bitsAllocated' | 'numberOfFrames'
>;

/**
 * Throws {@link PixelBudgetError} when one frame of the declared geometry exceeds
 * {@link MAX_FRAME_SAMPLES} or {@link MAX_FRAME_BYTES}, or the values are not sane
 * (PS3.3 C.7.6.3: Rows and Columns are US, Samples per Pixel 1, 3 or 4, Bits Allocated
 * 1 or a multiple of 8 up to 64).
 */
export function checkPixelBudget(info: Geometry): void {
  const { rows, columns, samplesPerPixel, bitsAllocated, numberOfFrames } = info;
  if (
    ![rows, columns, samplesPerPixel, bitsAllocated, numberOfFrames].every(
      (v) => Number.isSafeInteger(v) && v > 0,
    )
  ) {
    throw new PixelBudgetError(
      `The header's image geometry is not valid (Rows ${rows}, Columns ${columns}, Samples per Pixel ${samplesPerPixel}, Bits Allocated ${bitsAllocated}, Number of Frames ${numberOfFrames}).`,
    );
  }
  if (samplesPerPixel > 4 || bitsAllocated > 64 || numberOfFrames > MAX_FRAMES) {
    throw new PixelBudgetError(
      `The header's image geometry is out of range (Samples per Pixel ${samplesPerPixel}, Bits Allocated ${bitsAllocated}, Number of Frames ${numberOfFrames}; PS3.3 C.7.6.3).`,
    );
  }
  const samples = rows * columns * samplesPerPixel;
  if (samples > MAX_FRAME_SAMPLES) {
    throw new PixelBudgetError(
      `The image is too large to preview: ${columns} × ${rows}${samplesPerPixel > 1 ? ` × ${samplesPerPixel} samples` : ''} is ${samples.toLocaleString('en-US')} samples a frame; the preview shows at most ${MAX_FRAME_SAMPLES.toLocaleString('en-US')}.`,
    );
  }
  const bytes = (samples * Math.max(8, bitsAllocated)) / 8;
  if (bytes > MAX_FRAME_BYTES) {
    throw new PixelBudgetError(
      `The image is too large to preview: a decoded frame would take ${bytes.toLocaleString('en-US')} bytes; the preview holds at most ${MAX_FRAME_BYTES.toLocaleString('en-US')}.`,
    );
  }
}

/**
 * For native (uncompressed) Pixel Data, whose length the header fixes (PS3.5 §8.1.1,
 * §A.4 does not apply): throws {@link PixelBudgetError} when `frames` frames of
 * `frameBits` bits each do not fit in the `available` bytes of Pixel Data. A 652-byte file
 * cannot hold a 65535×65535 frame, so nothing is allocated for it.
 */
export function checkNativeLength(frameBits: number, frames: number, available: number): void {
  const needed = Math.ceil((frameBits * frames) / 8);
  if (!(needed <= available)) {
    throw new PixelBudgetError(
      `Pixel Data holds ${available.toLocaleString('en-US')} bytes; the header declares ${frames} frame${frames === 1 ? '' : 's'} that need ${needed.toLocaleString('en-US')}.`,
    );
  }
}
