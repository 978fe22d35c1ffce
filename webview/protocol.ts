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

// The image model is shared with the local server's /rendered and the notebook renderer.
import type {
  CodecName,
  FramePath,
  ImageInfo,
  PaletteChannel,
  WindowPreset,
} from '../src/imaging/types';
export type { CodecName, FramePath, ImageInfo, PaletteChannel, WindowPreset };

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

// ---------------------------------------------------------------------------------------
// The DICOM file editor (src/editor/, webview/editor/): the viewer above, and a tag table.

/** One row of the tag table, as src/dicom/tagTable.ts built it. */
export interface TagRow {
  /** Child indexes from the root ("4.0.2"): what the webview asks children and copies by. */
  id: string;
  depth: number;
  kind: 'element' | 'sequence' | 'item' | 'pixelData' | 'note';
  /** "(0008,0016)"; "(FFFE,E000)" for an item. */
  tag: string;
  /** Keyword, "[Creator] (gggg,xxee)", "Item 1". */
  name: string;
  vr: string;
  vm: string;
  /** Bytes as stored, "undefined" for an undefined length, "" for notes. */
  length: string;
  /** The value as shown (capped; "Copy Value" gives it whole). */
  value: string;
  /** Rows under this one (items of a sequence, elements of an item). */
  childCount: number;
  /** In a filtered list: false for an ancestor shown for a match below it. */
  match?: boolean;
}

/** The table's top-level rows and what is wrong with the file (first thing shown). */
export interface TagTableMessage {
  type: 'tagTable';
  /** "CT_small.dcm · 39,206 bytes · 271 elements · Explicit VR Little Endian" */
  summary: string;
  /** One sentence each: truncated, malformed, not DICOM, a limit hit. */
  problems: string[];
  rows: TagRow[];
  /** Whether the viewer has an image to show beside the table. */
  hasImage: boolean;
}

/**
 * Rows rewritten after the table was shown (the Pixel Data row once its fragments are
 * located), matched by id, and the problems as they now stand.
 */
export interface TagTableUpdateMessage {
  type: 'tagTableUpdate';
  rows: TagRow[];
  problems: string[];
}

/** The rows under row `id`, in answer to a {@link RequestTagChildrenMessage}. */
export interface TagChildrenMessage {
  type: 'tagChildren';
  requestId: number;
  id: string;
  rows: TagRow[];
}

/** The rows matching a filter, each after its ancestors, in table order. */
export interface TagFilterResultMessage {
  type: 'tagFilterResult';
  requestId: number;
  query: string;
  rows: TagRow[];
  matches: number;
  /** More rows matched than {@link MAX_FILTER_ROWS}. */
  truncated: boolean;
}

// ---------------------------------------------------------------------------------------
// The thumbnail grid of a series (src/thumbnailsHost/, webview/thumbnails/): one tile per
// instance; the page asks for the tiles it shows and cancels those scrolled away.

/** One tile's caption. */
export interface ThumbnailTile {
  label: string;
}

export interface ThumbnailsInitMessage {
  type: 'thumbnailsInit';
  protocolVersion: number;
  title: string;
  sourceLabel: string;
  tiles: ThumbnailTile[];
  /** The series has more instances than the grid lists (MAX_GRID_INSTANCES). */
  truncated: boolean;
  /** URIs (asWebviewUri) of the codecs' JavaScript glue, by codec. */
  codecScripts: Record<CodecName, string>;
}

/**
 * A tile's picture: the server's image (`/thumbnail`, `/rendered`, or a PNG the host drew),
 * or a frame for the page to decode with the preview's decoders.
 */
export type ThumbnailMessage = {
  type: 'thumbnail';
  requestId: number;
  index: number;
} & (
  | {
      kind: 'image';
      mediaType: string;
      source: 'thumbnail' | 'rendered' | 'decoded';
      bytes: Uint8Array;
    }
  | {
      kind: 'frame';
      info: ImageInfo;
      path: FramePath;
      mediaType: string;
      transferSyntaxUid?: string;
      bytes: Uint8Array;
    }
);

export interface ThumbnailErrorMessage {
  type: 'thumbnailError';
  requestId: number;
  index: number;
  message: string;
}

/** Scrolls the grid to a tile (the benchmark and the tests drive the page this way). */
export interface ScrollToTileMessage {
  type: 'scrollToTile';
  index: number;
}

export type ToWebview =
  | InitMessage
  | FrameMessage
  | FrameErrorMessage
  | CodecMessage
  | FatalMessage
  | ExportDoneMessage
  | CineMessage
  | TagTableMessage
  | TagTableUpdateMessage
  | TagChildrenMessage
  | TagFilterResultMessage
  | ThumbnailsInitMessage
  | ThumbnailMessage
  | ThumbnailErrorMessage
  | ScrollToTileMessage;

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

export type FromWebview =
  | ReadyMessage
  | RequestFrameMessage
  | RequestCodecMessage
  | ExportPngMessage
  | LogMessage
  | RenderedMessage
  | CineStatsMessage
  | RequestTagChildrenMessage
  | FilterTagsMessage
  | CopyTagMessage
  | TagTableShownMessage
  | RequestThumbnailMessage
  | CancelThumbnailMessage
  | OpenTileMessage
  | TileShownMessage;

/** A tile came into view: its picture, from path `from` of the chain when set. */
export interface RequestThumbnailMessage {
  type: 'requestThumbnail';
  requestId: number;
  index: number;
  from?: FramePath;
}

/** The tile left the view before its picture came: the extension aborts its request. */
export interface CancelThumbnailMessage {
  type: 'cancelThumbnail';
  requestId: number;
}

/** A tile was clicked: the extension opens the instance's preview. */
export interface OpenTileMessage {
  type: 'openTile';
  index: number;
}

/** A tile's picture is drawn (for the tests and the benchmark). */
export interface TileShownMessage {
  type: 'tileShown';
  index: number;
  /** Where its pixels came from. */
  source: TileSource;
}

export type TileSource = 'thumbnail' | 'rendered' | 'decoded' | 'webview';
export const TILE_SOURCES: readonly TileSource[] = ['thumbnail', 'rendered', 'decoded', 'webview'];
/** Largest tile index (the grid lists at most 10,000 instances; room to spare). */
export const MAX_TILE_INDEX = 1_000_000;

export interface RequestTagChildrenMessage {
  type: 'requestTagChildren';
  requestId: number;
  id: string;
}

export interface FilterTagsMessage {
  type: 'filterTags';
  requestId: number;
  /** Keyword, tag or value text; "" shows the tree again. */
  query: string;
}

/** What "Copy" puts on the clipboard (the extension writes it: the webview has no clipboard). */
export type CopyWhat = 'value' | 'tagPath' | 'keywordPath';

export interface CopyTagMessage {
  type: 'copyTag';
  id: string;
  what: CopyWhat;
}

/** The table's first rows are on the page (posted once): the editor logs how long it took. */
export interface TagTableShownMessage {
  type: 'tagTableShown';
  rows: number;
}

// ---------------------------------------------------------------------------------------
// Validation of what the webview sends. The webview runs page code that decodes files and
// server answers; the extension treats its messages as untrusted input (issue 10, 6): a
// message is used only when its type is known and every field has the right type and
// range. Nothing in a message ever names a method to call.

/** Longest `log` text kept (characters); a decoder's error sentence is far shorter. */
export const MAX_LOG_MESSAGE_LENGTH = 4096;
/** Longest suggested file name of an export (a file name on every platform stays under 255). */
export const MAX_SUGGESTED_NAME_LENGTH = 255;
/**
 * Largest PNG an export may carry: 1 GiB, the preview's decoded-frame budget
 * (MAX_FRAME_BYTES in src/imaging/decode/budget.ts); a PNG of a frame is smaller.
 */
export const MAX_EXPORT_PNG_BYTES = 2 ** 30;
/** Longest filter text (characters). */
export const MAX_FILTER_QUERY_LENGTH = 256;
/** Longest row id ("4.0.2": one index per nesting level, 64 levels deep at most). */
export const MAX_ROW_ID_LENGTH = 1024;
/** Most rows one filter answer carries (the webview renders them virtually). */
export const MAX_FILTER_ROWS = 20_000;
export const COPY_WHATS: readonly CopyWhat[] = ['value', 'tagPath', 'keywordPath'];
/** Largest request id, frame number or frame count (JavaScript's exact integers). */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

export const LOG_LEVELS = ['info', 'warn', 'error'] as const;
export const FRAME_PATHS: readonly FramePath[] = ['stored', 'transcoded', 'rendered'];
export const CODEC_NAMES: readonly CodecName[] = ['libjpeg-turbo', 'charls', 'openjpeg', 'openjph'];

/** A validated message, or why the message was refused and under which type to report it. */
export type FromWebviewCheck =
  { ok: true; message: FromWebview } | { ok: false; type: string; reason: string };

type Fields = Record<string, unknown>;
/** One validator per message type: undefined when valid, else the reason. */
const VALIDATORS: Readonly<Record<FromWebview['type'], (m: Fields) => string | undefined>> = {
  ready: (m) => integerIn(m.protocolVersion, 0, MAX_COUNT, 'protocolVersion'),
  requestFrame: (m) =>
    integerIn(m.requestId, 0, MAX_COUNT, 'requestId') ??
    integerIn(m.frameNumber, 1, MAX_COUNT, 'frameNumber') ??
    (m.from === undefined ? undefined : oneOf(m.from, FRAME_PATHS, 'from')),
  requestCodec: (m) => oneOf(m.name, CODEC_NAMES, 'name'),
  exportPng: (m) =>
    stringUpTo(m.suggestedName, MAX_SUGGESTED_NAME_LENGTH, 'suggestedName') ??
    (m.png instanceof Uint8Array && m.png.byteLength <= MAX_EXPORT_PNG_BYTES
      ? undefined
      : 'png is not a Uint8Array within the size limit'),
  log: (m) =>
    oneOf(m.level, LOG_LEVELS, 'level') ?? stringUpTo(m.message, MAX_LOG_MESSAGE_LENGTH, 'message'),
  rendered: (m) =>
    integerIn(m.frameNumber, 1, MAX_COUNT, 'frameNumber') ?? oneOf(m.path, FRAME_PATHS, 'path'),
  cineStats: (m) =>
    integerIn(m.framesDrawn, 0, MAX_COUNT, 'framesDrawn') ??
    (isFiniteIn(m.elapsedMs, 0, Number.MAX_VALUE)
      ? undefined
      : 'elapsedMs is not a finite number >= 0') ??
    (isFiniteIn(m.fps, 0, 1000) ? undefined : 'fps is not a finite number in [0, 1000]') ??
    (typeof m.stopped === 'boolean' ? undefined : 'stopped is not a boolean'),
  requestTagChildren: (m) => integerIn(m.requestId, 0, MAX_COUNT, 'requestId') ?? rowId(m.id),
  filterTags: (m) =>
    integerIn(m.requestId, 0, MAX_COUNT, 'requestId') ??
    stringUpTo(m.query, MAX_FILTER_QUERY_LENGTH, 'query'),
  copyTag: (m) => rowId(m.id) ?? oneOf(m.what, COPY_WHATS, 'what'),
  tagTableShown: (m) => integerIn(m.rows, 0, MAX_COUNT, 'rows'),
  requestThumbnail: (m) =>
    integerIn(m.requestId, 0, MAX_COUNT, 'requestId') ??
    integerIn(m.index, 0, MAX_TILE_INDEX, 'index') ??
    (m.from === undefined ? undefined : oneOf(m.from, FRAME_PATHS, 'from')),
  cancelThumbnail: (m) => integerIn(m.requestId, 0, MAX_COUNT, 'requestId'),
  openTile: (m) => integerIn(m.index, 0, MAX_TILE_INDEX, 'index'),
  tileShown: (m) =>
    integerIn(m.index, 0, MAX_TILE_INDEX, 'index') ?? oneOf(m.source, TILE_SOURCES, 'source'),
};

function rowId(value: unknown): string | undefined {
  return typeof value === 'string' &&
    value.length <= MAX_ROW_ID_LENGTH &&
    /^\d+(\.\d+)*$/.test(value)
    ? undefined
    : 'id is not a row id (indexes joined with dots)';
}

/**
 * Validates a message received from the webview against this protocol: an object with an
 * own, known `type` whose fields have the declared types and ranges.
 */
export function checkFromWebview(value: unknown): FromWebviewCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return {
      ok: false,
      type: `(${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`,
      reason: 'not an object',
    };
  const fields = value as Fields;
  const type = Object.prototype.hasOwnProperty.call(fields, 'type') ? fields.type : undefined;
  if (typeof type !== 'string')
    return { ok: false, type: `(type ${typeof type})`, reason: 'no string type' };
  if (!Object.prototype.hasOwnProperty.call(VALIDATORS, type))
    return { ok: false, type: printable(type), reason: 'unknown message type' };
  const reason = VALIDATORS[type as FromWebview['type']](fields);
  return reason === undefined
    ? { ok: true, message: value as FromWebview }
    : { ok: false, type, reason };
}

/** Narrowing guard for messages received by the extension (see {@link checkFromWebview}). */
export function isFromWebview(value: unknown): value is FromWebview {
  return checkFromWebview(value).ok;
}

/**
 * Writes a validated `log` message at its level: a fixed mapping to the sink's three
 * methods, never a method looked up by the name the webview sent.
 */
export function logAt(
  sink: { info(text: string): void; warn(text: string): void; error(text: string): void },
  level: LogMessage['level'],
  text: string,
): void {
  switch (level) {
    case 'warn':
      sink.warn(text);
      return;
    case 'error':
      sink.error(text);
      return;
    default:
      sink.info(text);
  }
}

function integerIn(value: unknown, min: number, max: number, name: string): string | undefined {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
    ? undefined
    : `${name} is not an integer in [${min}, ${max}]`;
}

function isFiniteIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

function oneOf(value: unknown, allowed: readonly string[], name: string): string | undefined {
  return typeof value === 'string' && allowed.includes(value)
    ? undefined
    : `${name} is not one of ${allowed.join(', ')}`;
}

function stringUpTo(value: unknown, maxLength: number, name: string): string | undefined {
  return typeof value === 'string' && value.length <= maxLength
    ? undefined
    : `${name} is not a string of at most ${maxLength} characters`;
}

/** A type name safe to log: short, printable ASCII only. */
function printable(type: string): string {
  const shown = type.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
  return type.length > 40 ? `${shown}…` : shown;
}

/** Narrowing guard for messages received by the webview. */
export function isToWebview(value: unknown): value is ToWebview {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return (
    type === 'init' ||
    type === 'frame' ||
    type === 'frameError' ||
    type === 'codec' ||
    type === 'fatal' ||
    type === 'exportDone' ||
    type === 'tagTable' ||
    type === 'tagTableUpdate' ||
    type === 'tagChildren' ||
    type === 'tagFilterResult' ||
    type === 'thumbnailsInit' ||
    type === 'thumbnail' ||
    type === 'thumbnailError' ||
    type === 'scrollToTile' ||
    (type === 'cine' && typeof (value as CineMessage).play === 'boolean')
  );
}
