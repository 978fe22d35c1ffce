/**
 * The one typed message protocol between the preview panel's extension side
 * (src/preview/) and its webview (webview/preview/). Both sides import this file; nothing
 * else crosses the boundary. No DOM and no Node types here.
 *
 * Handshake (as vscode-pull-request-github does): the webview posts `ready` once its
 * script has loaded and its listener is in place; only then does the extension post
 * `init`. Every network request is made by the extension host (no CORS, no remote origin
 * in the CSP): the webview asks for frames and codec binaries by message and receives
 * bytes.
 */

/** Version of this protocol; both sides are built together, the check guards stale webviews. */
export const PROTOCOL_VERSION = 1;

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

/** Key attributes drawn in the overlay corners. Strings already formatted for display. */
export interface OverlayAttributes {
  patientName?: string;
  patientId?: string;
  studyDate?: string;
  studyDescription?: string;
  seriesDescription?: string;
  seriesNumber?: string;
  instanceNumber?: string;
  modality?: string;
  sopClassName?: string;
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

// ---------------------------------------------------------------------------------------
// extension → webview

export interface InitMessage {
  type: 'init';
  protocolVersion: number;
  title: string;
  /** Where the bytes come from, shown in the status bar ("Orthanc at …", a file path). */
  sourceLabel: string;
  info: ImageInfo;
  attributes: OverlayAttributes;
  /** URIs (asWebviewUri) of the codecs' JavaScript glue, by codec. */
  codecScripts: Record<CodecName, string>;
}

export interface FrameMessage {
  type: 'frame';
  requestId: number;
  frameNumber: number;
  path: FramePath;
  /** Media type of the bytes (`application/octet-stream`, `image/jp2`, `image/png` …). */
  mediaType: string;
  /** Transfer syntax of the bytes when known (`stored` path: the part's or the instance's). */
  transferSyntaxUid?: string;
  bytes: Uint8Array;
}

export interface FrameErrorMessage {
  type: 'frameError';
  requestId: number;
  frameNumber: number;
  message: string;
}

export interface CodecMessage {
  type: 'codec';
  name: CodecName;
  wasm: Uint8Array;
}

/** Nothing can be shown at all (no pixel data, metadata failed …): one clear sentence. */
export interface FatalMessage {
  type: 'fatal';
  message: string;
  detail?: string;
}

export interface ExportDoneMessage {
  type: 'exportDone';
  /** Where it was saved, or undefined when the user cancelled. */
  path?: string;
  error?: string;
}

/**
 * Starts or stops cine from the extension side (the Play button and Space do the same in
 * the panel); `fps` sets the rate first (0 < fps ≤ 120, else ignored).
 */
export interface CineMessage {
  type: 'cine';
  play: boolean;
  fps?: number;
}

export type ToWebview = InitMessage | FrameMessage | FrameErrorMessage | CodecMessage | FatalMessage | ExportDoneMessage | CineMessage;

// ---------------------------------------------------------------------------------------
// webview → extension

export interface ReadyMessage {
  type: 'ready';
  protocolVersion: number;
}

export interface RequestFrameMessage {
  type: 'requestFrame';
  requestId: number;
  /** 1-based (PS3.18 §10.4.1.1.3). */
  frameNumber: number;
  /**
   * The first path to try. The webview asks for `transcoded` after it failed to decode a
   * stored frame (a syntax it has no codec for), `rendered` after that failed too.
   */
  from?: FramePath;
}

export interface RequestCodecMessage {
  type: 'requestCodec';
  name: CodecName;
}

export interface ExportPngMessage {
  type: 'exportPng';
  suggestedName: string;
  png: Uint8Array;
}

export interface LogMessage {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}

/**
 * The first frame is on the canvas (posted once per panel, on the animation frame after it
 * was drawn): the extension logs how long the preview took and tells its listeners.
 */
export interface RenderedMessage {
  type: 'rendered';
  frameNumber: number;
  path: FramePath;
}

/**
 * What cine drew: posted while playing after every `numberOfFrames` frames drawn (one loop),
 * and when cine stops with the frames drawn since the last report. `elapsedMs` runs from the
 * draw before the first counted frame (or the first draw after play) to the draw of the
 * last one, on the webview's clock; `fps` is the rate asked for.
 */
export interface CineStatsMessage {
  type: 'cineStats';
  framesDrawn: number;
  elapsedMs: number;
  fps: number;
  /** True when posted because cine stopped (a partial loop). */
  stopped: boolean;
}

export type FromWebview = ReadyMessage | RequestFrameMessage | RequestCodecMessage | ExportPngMessage | LogMessage | RenderedMessage | CineStatsMessage;

/** Narrowing guard for messages received by the extension (the webview is not trusted blindly). */
export function isFromWebview(value: unknown): value is FromWebview {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as { type?: unknown };
  switch (message.type) {
    case 'ready':
      return typeof (value as ReadyMessage).protocolVersion === 'number';
    case 'requestFrame': {
      const m = value as RequestFrameMessage;
      return Number.isInteger(m.frameNumber) && m.frameNumber >= 1 && typeof m.requestId === 'number';
    }
    case 'requestCodec':
      return ['libjpeg-turbo', 'charls', 'openjpeg', 'openjph'].includes((value as RequestCodecMessage).name);
    case 'exportPng': {
      const m = value as ExportPngMessage;
      return typeof m.suggestedName === 'string' && m.png instanceof Uint8Array;
    }
    case 'log':
      return typeof (value as LogMessage).message === 'string';
    case 'rendered': {
      const m = value as RenderedMessage;
      return Number.isInteger(m.frameNumber) && ['stored', 'transcoded', 'rendered'].includes(m.path);
    }
    case 'cineStats': {
      const m = value as CineStatsMessage;
      return Number.isInteger(m.framesDrawn) && m.framesDrawn >= 0 && Number.isFinite(m.elapsedMs) && Number.isFinite(m.fps) && typeof m.stopped === 'boolean';
    }
    default:
      return false;
  }
}

/** Narrowing guard for messages received by the webview. */
export function isToWebview(value: unknown): value is ToWebview {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'init' || type === 'frame' || type === 'frameError' || type === 'codec' || type === 'fatal' || type === 'exportDone' || (type === 'cine' && typeof (value as CineMessage).play === 'boolean');
}
