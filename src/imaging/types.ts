/**
 * The image model every decoder and renderer shares: what one instance's pixels are (the
 * Image Pixel module, PS3.3 C.7.6.3, with the Modality and VOI LUT attributes, C.11.1 and
 * C.11.2), how its frames were obtained and which WebAssembly codecs exist. Used by the
 * preview and notebook webviews, the extension host and the local server (`/rendered`,
 * transcoding), so it imports nothing: no DOM, no Node, no `vscode`.
 */

/** One VOI window from the header (PS3.3 C.11.2.1.2): (0028,1050)/(0028,1051)/(0028,1055). */
export interface WindowPreset {
  center: number;
  width: number;
  explanation?: string;
}

/** A Palette Color Lookup Table (PS3.3 C.7.6.3.1.5–6): descriptor and data of one channel. */
export interface PaletteChannel {
  /** Number of entries; a descriptor value of 0 means 65536 (C.7.6.3.1.5). */
  entries: number;
  /** First stored pixel value mapped. */
  firstMapped: number;
  /** 8 or 16. */
  bitsPerEntry: number;
  data: number[];
}

/**
 * What the webview needs to decode and display every frame of one instance: the Image
 * Pixel module (PS3.3 C.7.6.3), Modality LUT (C.11.1) and VOI LUT (C.11.2) attributes.
 */
export interface ImageInfo {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  /** (0028,0100): 1, 8, 16 or 32. */
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** (0028,0103): 0 unsigned, 1 two's complement. */
  pixelRepresentation: 0 | 1;
  /** (0028,0006): 0 interleaved (R1G1B1R2…), 1 planar (R…G…B…). */
  planarConfiguration: 0 | 1;
  /** (0028,0004) as stored, e.g. MONOCHROME2, RGB, YBR_FULL_422, PALETTE COLOR. */
  photometricInterpretation: string;
  numberOfFrames: number;
  /** (0028,1053)/(0028,1052), 1 and 0 when absent (C.11.1.1.2). */
  rescaleSlope: number;
  rescaleIntercept: number;
  rescaleType?: string;
  /** Header windows, all of them (the user picks among them as presets). */
  windows: WindowPreset[];
  /** (0028,1056) LINEAR (default), LINEAR_EXACT or SIGMOID. */
  voiLutFunction?: string;
  /** (0028,0120) Pixel Padding Value, when present. */
  pixelPaddingValue?: number;
  palette?: { red: PaletteChannel; green: PaletteChannel; blue: PaletteChannel };
  /** The instance's stored transfer syntax, when known. */
  transferSyntaxUid?: string;
  /** (0018,1063) Frame Time in ms, or derived from (0018,0040) Cine Rate. */
  frameTimeMs?: number;
  /** True when the native bytes of a local file are big endian (PS3.5 §A.3). */
  bigEndian?: boolean;
  /** VR of Pixel Data in a local file (OB or OW); matters for 8-bit big endian data. */
  pixelDataVr?: string;
}

/**
 * How a frame's bytes were obtained (the fallback chain of the panel):
 * - `stored`: `transfer-syntax=*`, the frame as stored (PS3.18 §8.7.3.5.2), or a local file;
 * - `transcoded`: the server transcoded to Explicit VR Little Endian (1.2.840.10008.1.2.1);
 * - `rendered`: the server's `/rendered` PNG (PS3.18 §10.4.1.1.3), no pixel values.
 */
export type FramePath = 'stored' | 'transcoded' | 'rendered';

/** Codec binaries the webview may ask for (each a WebAssembly module shipped in dist/codecs/). */
export type CodecName = 'libjpeg-turbo' | 'charls' | 'openjpeg' | 'openjph';
