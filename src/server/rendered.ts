/**
 * Rendered resources of the local server (PS3.18 §10.4.1.1.3-4, the Retrieve Rendered and
 * Thumbnail transactions, query parameters of §8.3.5): `…/instances/{i}/rendered`,
 * `…/frames/{n}/rendered` and the same with `/thumbnail`, plus `/thumbnail` of a series and a
 * study (a representative instance: its first one with an image, PS3.18 §10.4.3.3.4 lets the
 * origin server choose). Pixels come from src/server/renderFrame.ts, i.e. the preview's own
 * decoders and display pipeline.
 *
 * As the Azure DICOM service answers it (v2 conformance statement, "Retrieve rendered image
 * (for instance or frame)"; dicom-server RetrieveRenderedService.cs): `image/jpeg` by default
 * and for `*\/*`, `image/png` on request, `quality` 1-100 (default 100, JPEG only; outside it
 * 400), multi-frame instances render frame 1; 404 when the instance has no pixel data; 406 for
 * an Accept it cannot serve, a file over the size limit or pixels it cannot decode (its
 * DicomImageException is 406). Beyond Azure, as PS3.18 §8.3.5.1 defines them: `viewport`
 * (vw,vh: scaled to fit, aspect kept) and `window` (center,width[,linear|linear-exact|sigmoid]);
 * unknown parameters are ignored (PS3.18 §8.3.5.1: "shall ignore").
 *
 * Nothing is cached: every answer is decoded from the stored file.
 */
import type { ServerResponse } from 'node:http';
import { setImmediate } from 'node:timers/promises';
import { readDataSet } from '../dicom/part10';
import type { InstanceNode } from './catalog';
import { forgetJpegEncoder, loadJpegEncoder, serverDecoderDeps } from '../imaging/node/codecLoader';
import { PIXEL_DATA_TAG, frameGeometry, readInstanceBytes, readInstanceHeader } from './dicomFiles';
import { HttpError, parseAccept, parseQuery } from './httpUtil';
import { storedFile } from './jail';
import { decodeGate } from './decodeGate';
import { encodePngAsync, type Image8 } from './png';
import {
  fitInto,
  renderInfo,
  renderStoredFrame,
  RenderError,
  scaleImage,
  type RenderOptions,
  type RenderWindow,
} from './renderFrame';

/**
 * Largest viewport side: 4096 pixels. A viewport is the size of the answer: 4096 × 4096 RGB
 * is 48 MiB before encoding, the most one request may make the server hold beyond the decoded
 * frame (whose own limit is src/imaging/decode/budget.ts). Larger than any screen a viewer
 * shows one image on.
 */
export const MAX_VIEWPORT = 4096;

/**
 * A thumbnail's box when the request gives no viewport: 128 × 128, the size OHIF and the
 * extension's tree ask for; PS3.18 §10.4.3.3.4 leaves it to the origin server.
 */
export const THUMBNAIL_SIZE = 128;

/**
 * Most instances a study or series thumbnail reads to find one with an image: 64. A study of
 * reports and one image still finds it; a series of 10,000 documents is not read whole.
 */
export const MAX_REPRESENTATIVE_PROBES = 64;

/** Azure's default quality (conformance statement: "If not specified … defaults to 100"). */
const DEFAULT_QUALITY = 100;

type RenderedType = 'image/jpeg' | 'image/png';

/** What the request asks for, after its parameters are checked. */
export interface RenderedRequest {
  type: RenderedType;
  quality: number;
  window?: RenderWindow;
  viewport?: { width: number; height: number };
}

/** The rendered media type of an Accept header (PS3.18 §8.7.4, Table 8.7.4-1); 406 else. */
export function renderedTypeOf(accept: string | undefined): RenderedType {
  for (const range of parseAccept(accept)) {
    if (range.mediaType === 'image/png') return 'image/png';
    // image/jpeg is the default rendered type (PS3.18 Table 8.7.4-1; Azure renders it when no
    // Accept is given).
    if (['image/jpeg', 'image/*', '*/*'].includes(range.mediaType)) return 'image/jpeg';
  }
  throw new HttpError(
    406,
    `cannot render as "${(accept ?? '').slice(0, 100)}": the local server renders image/jpeg (the default) and image/png`,
  );
}

function positiveInteger(text: string): number | undefined {
  return /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

function parseViewport(value: string): { width: number; height: number } {
  const parts = value.split(',');
  if (parts.length !== 2)
    throw new HttpError(
      400,
      `viewport "${value.slice(0, 60)}" must be vw,vh (PS3.18 §8.3.5.1.3); the local server does not crop (sx,sy,sw,sh)`,
    );
  const [width, height] = parts.map(positiveInteger);
  if (!width || !height || width > MAX_VIEWPORT || height > MAX_VIEWPORT)
    throw new HttpError(
      400,
      `viewport "${value.slice(0, 60)}": width and height are whole numbers from 1 to ${MAX_VIEWPORT}`,
    );
  return { width, height };
}

/** PS3.18 §8.3.5.1.4: the shapes and the VOI LUT Functions of PS3.3 C.11.2.1.3 they name. */
const WINDOW_SHAPES: Readonly<Record<string, string>> = {
  linear: 'LINEAR',
  'linear-exact': 'LINEAR_EXACT',
  sigmoid: 'SIGMOID',
};

function parseWindow(value: string): RenderWindow {
  const [centerText, widthText, shape, ...more] = value.split(',').map((s) => s.trim());
  const center = Number(centerText);
  const width = Number(widthText);
  const voiLutFunction = shape ? WINDOW_SHAPES[shape.toLowerCase()] : undefined;
  if (
    more.length ||
    !centerText ||
    !widthText ||
    !Number.isFinite(center) ||
    !Number.isFinite(width) ||
    width <= 0 ||
    (shape && !voiLutFunction)
  ) {
    throw new HttpError(
      400,
      `window "${value.slice(0, 60)}" must be center,width[,linear|linear-exact|sigmoid] with a width above 0 (PS3.18 §8.3.5.1.4)`,
    );
  }
  return voiLutFunction ? { center, width, voiLutFunction } : { center, width };
}

/** Checks the query and the Accept; 400 / 406 with a sentence naming the parameter. */
export function parseRenderedRequest(
  search: string,
  accept: string | undefined,
  thumbnail: boolean,
): RenderedRequest {
  const request: RenderedRequest = { type: renderedTypeOf(accept), quality: DEFAULT_QUALITY };
  for (const [key, value] of parseQuery(search)) {
    if (key === 'quality') {
      const quality = positiveInteger(value);
      if (!quality || quality > 100)
        throw new HttpError(
          400,
          `quality "${value.slice(0, 20)}" must be a whole number from 1 to 100`,
        );
      request.quality = quality;
    } else if (key === 'viewport') {
      request.viewport = parseViewport(value);
    } else if (key === 'window') {
      request.window = parseWindow(value);
    }
  }
  if (thumbnail && !request.viewport)
    request.viewport = { width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE };
  return request;
}

/** The 1-based frame of `frames/{n}/rendered`: one positive number (Azure renders one frame). */
export function parseRenderedFrame(text: string): number {
  const frame = positiveInteger(text);
  if (!frame)
    throw new HttpError(
      400,
      `"${text.slice(0, 40)}" is not one frame number: a rendered frame is one number from 1 (PS3.18 §10.4.1.1.3)`,
    );
  return frame;
}

/**
 * Worst-case JPEG size of libjpeg-turbo's `tjBufSize()` (turbojpeg.c): the padded image
 * times 2 bytes a pixel for grey, 6 for 4:4:4 colour, plus 2048 for headers and tables.
 */
export function jpegBufferBound(width: number, height: number, channels: 1 | 3): number {
  const pad8 = (n: number) => Math.ceil(n / 8) * 8;
  return pad8(width) * pad8(height) * (channels === 1 ? 2 : 6) + 2048;
}

/** What the encoder is told, so that its output buffer holds {@link jpegBufferBound}. */
interface EncoderInput {
  componentCount: number;
  bitsPerSample: number;
  data: Uint8Array;
}

/**
 * The package's `JPEGEncoder::encode()` (cornerstonejs/codecs,
 * packages/libjpeg-turbo-8bit/src/JPEGEncoder.hpp) gives tjCompress2 an output buffer only as
 * large as its input, with TJFLAG_NOREALLOC: a JPEG larger than its pixels (a small image, or
 * quality 100 on noise: 512×512 grey noise makes 414 KB from 262 KB) writes past it and
 * corrupts the wasm heap (found here: a 16×16 grey image trapped). The input buffer holds
 * `width × height × componentCount × ceil(bitsPerSample / 8)` bytes and tjCompress2 reads only
 * the 8-bit samples (grey when componentCount is 1, RGB otherwise), so both are declared large
 * enough (each is a byte in the package's FrameInfo: at most 255 and 248) that the buffer holds
 * libjpeg-turbo's own worst case. A grey image too small for that is sent as RGB with three
 * equal channels: the same picture.
 */
export function encoderInput(image: Image8): EncoderInput {
  const pixels = image.width * image.height;
  if (image.channels === 1) {
    const factor = Math.ceil(jpegBufferBound(image.width, image.height, 1) / pixels);
    if (factor <= 31) return { componentCount: 1, bitsPerSample: 8 * factor, data: image.data };
  }
  let data = image.data;
  if (image.channels === 1) {
    data = new Uint8Array(pixels * 3);
    for (let i = 0; i < pixels; i++)
      data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = image.data[i]!;
  }
  const perPixel = Math.ceil(jpegBufferBound(image.width, image.height, 3) / pixels);
  const bytes = Math.min(31, Math.max(1, Math.ceil(perPixel / 3)));
  const componentCount = Math.max(3, Math.ceil(perPixel / bytes));
  return { componentCount, bitsPerSample: 8 * bytes, data };
}

/** Encodes with libjpeg-turbo's own encoder: baseline (every browser reads it), 4:4:4. */
export async function encodeJpeg(image: Image8, quality: number): Promise<Uint8Array> {
  const module = await loadJpegEncoder();
  const input = encoderInput(image);
  const encoder = new module.JPEGEncoder();
  try {
    encoder
      .getDecodedBuffer({
        width: image.width,
        height: image.height,
        bitsPerSample: input.bitsPerSample,
        componentCount: input.componentCount,
        isSigned: false,
      })
      .set(input.data);
    encoder.setQuality(quality);
    encoder.setProgressive(0);
    encoder.encode();
    // A Uint8ClampedArray (the package makes a JS copy of its heap view): as plain bytes.
    const encoded = encoder.getEncodedBuffer();
    return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  } catch (error) {
    // A wasm trap may leave the module's heap inconsistent: the next request loads a new one.
    forgetJpegEncoder();
    throw error;
  } finally {
    try {
      encoder.delete();
    } catch {
      forgetJpegEncoder();
    }
  }
}

function statusOf(error: RenderError): number {
  switch (error.kind) {
    case 'no-image':
      return 404; // Azure: "for rendered request the instance didn't contain pixel data"
    case 'no-frame':
      return 400; // PS3.18 §9.5.2.2: a frame number beyond the instance's is 400
    case 'too-large':
    case 'undecodable':
      return 406; // Azure: too large to render, or DicomImageException
  }
}

/** Reads, decodes, windows, scales and encodes one frame: the answer's bytes. */
async function renderBody(
  dir: string,
  node: InstanceNode,
  frame: number,
  request: RenderedRequest,
): Promise<Uint8Array> {
  const bytes = await readInstanceBytes(storedFile(dir, node.file));
  const options: RenderOptions = { frame };
  if (request.window) options.window = request.window;
  let image: Image8;
  try {
    const dataSet = readDataSet(bytes);
    image = await renderStoredFrame(dataSet, renderInfo(dataSet), options, serverDecoderDeps());
  } catch (error) {
    if (error instanceof RenderError) throw new HttpError(statusOf(error), error.message);
    throw error;
  }
  // Each stage is synchronous work: between them the loop answers other requests.
  await setImmediate();
  if (request.viewport) {
    const size = fitInto(image.width, image.height, request.viewport);
    image = scaleImage(image, size.width, size.height);
    await setImmediate();
  }
  return request.type === 'image/png' ? encodePngAsync(image) : encodeJpeg(image, request.quality);
}

/** Renders one frame of one stored instance and writes the answer. */
export async function sendRendered(
  res: ServerResponse,
  dir: string,
  node: InstanceNode,
  frame: number,
  request: RenderedRequest,
  maxFileBytes: number,
): Promise<void> {
  if (node.size > maxFileBytes)
    throw new HttpError(
      406,
      `instance ${node.uid} is ${node.size} bytes; the local server renders files up to ${maxFileBytes} bytes`,
    );
  // Decoding, scaling and encoding take their turn (decodeGate.ts): few at once, few waiting.
  const body = await decodeGate.run(() => renderBody(dir, node, frame, request));
  res.writeHead(200, { 'content-type': request.type, 'content-length': body.byteLength });
  res.end(body);
}

/**
 * The representative instance of a series or study thumbnail: the first (in the catalog's
 * order) whose header has an image, reading at most {@link MAX_REPRESENTATIVE_PROBES} headers.
 */
export async function representativeInstance(
  dir: string,
  nodes: InstanceNode[],
): Promise<InstanceNode> {
  for (const node of nodes.slice(0, MAX_REPRESENTATIVE_PROBES)) {
    const header = await readInstanceHeader(storedFile(dir, node.file));
    if (frameGeometry(header.dataSet) && header.dataSet.elements[PIXEL_DATA_TAG]) return node;
  }
  throw new HttpError(
    404,
    `no instance with an image among the first ${Math.min(nodes.length, MAX_REPRESENTATIVE_PROBES)} of this resource, so no thumbnail`,
  );
}

/** Where a rendered request points: one instance (and frame), or a series or study. */
export interface RenderedTarget {
  nodes: InstanceNode[];
  /** `frames/{n}/…` text; instance level renders frame 1 (Azure, PS3.18 §10.4.1.1.3). */
  frameText?: string;
  thumbnail: boolean;
  /** A series or study: a representative instance is rendered (thumbnail only). */
  representative: boolean;
}

/** `GET …/rendered` and `GET …/thumbnail` at every level the router offers. */
export async function retrieveRendered(
  res: ServerResponse,
  dir: string,
  target: RenderedTarget,
  search: string,
  accept: string | undefined,
  maxFileBytes: number,
): Promise<void> {
  const request = parseRenderedRequest(search, accept, target.thumbnail);
  const frame = target.frameText === undefined ? 1 : parseRenderedFrame(target.frameText);
  const node = target.representative
    ? await representativeInstance(dir, target.nodes)
    : target.nodes[0]!;
  await sendRendered(res, dir, node, frame, request, maxFileBytes);
}
