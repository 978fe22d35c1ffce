/**
 * The preview's WebAssembly codecs (src/imaging/decode/codecs.ts) loaded in Node, for the
 * local server's `/rendered`, `/thumbnail` and transcoding of compressed instances, for the
 * extension host's thumbnail thread (src/thumbnails/decodeWorkerMain.ts), and for the tests
 * and benchmarks (test/support/nodeCodecs.ts). The same emscripten scripts and wasm files
 * the webview loads, found in `dist/codecs/` (what the VSIX ships: the server runs as
 * dist/server/cli.js, the thumbnail thread as dist/thumbnailWorker.js, .vscodeignore keeps
 * dist/codecs/**) or, in a development checkout, in node_modules. Each module is loaded on
 * first use only: a process or thread that never decodes a compressed frame never reads a
 * wasm file.
 *
 * The JPEG encoder of `/rendered` is libjpeg-turbo's own (`JPEGEncoder` of the full
 * `libjpegturbowasm` build of @cornerstonejs/codec-libjpeg-turbo-8bit, the package the
 * preview already decodes JPEG with): no second JPEG library.
 */
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- jpeg-lossless-decoder-js ships no types; the root tsconfig does not include webview/, where its one declaration is
/// <reference path="../../../webview/preview/jpegLossless.d.ts" />
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  CODEC_FILES,
  cachingProvider,
  type CodecModule,
  type CodecProvider,
} from '../decode/codecs';
import { Decoder as JpegLosslessDecoderClass } from 'jpeg-lossless-decoder-js';
import type { DecoderDeps } from '../decode/decodeFrame';
import type { CodecName } from '../types';

const requireHere = createRequire(__filename);

/** The full libjpeg-turbo build (decoder and encoder), shipped beside the decode-only one. */
export const JPEG_ENCODER_FILES = {
  packageDir: '@cornerstonejs/codec-libjpeg-turbo-8bit/dist',
  script: 'libjpegturbowasm.js',
  wasm: 'libjpegturbowasm.wasm',
} as const;

interface CodecFileSet {
  packageDir: string;
  script: string;
  wasm: string;
}

/**
 * Folders that may hold a codec, nearest first: `root/dist/codecs` and
 * `root/node_modules/<package>` for `root` given, then the same two for each folder from this
 * file's own up to the file system's root (the bundles live in dist/ and dist/server/, the
 * compiled tests in .outp/src/imaging/node/, the benchmark in out/bench/).
 */
function candidateDirs(files: CodecFileSet, root?: string): string[] {
  const roots: string[] = root ? [root] : [];
  for (let dir = __dirname; ; dir = dirname(dir)) {
    roots.push(dir);
    if (dirname(dir) === dir) break;
  }
  return roots.flatMap((r) => [
    join(r, 'dist', 'codecs'),
    join(r, 'node_modules', files.packageDir),
  ]);
}

/** A codec could not be found or loaded: the server answers it as a 500 with this sentence. */
export class CodecUnavailableError extends Error {
  override readonly name = 'CodecUnavailableError';
}

function locate(files: CodecFileSet, root?: string): { script: string; wasm: string } {
  for (const dir of candidateDirs(files, root)) {
    const script = join(dir, files.script);
    const wasm = join(dir, files.wasm);
    if (existsSync(script) && existsSync(wasm)) return { script, wasm };
  }
  throw new CodecUnavailableError(
    `the codec ${files.script} is not installed (looked in dist/codecs/ and node_modules/${files.packageDir})`,
  );
}

/** Where a codec's script and wasm are: `dist/codecs/` when present, else the package. */
export function codecPaths(name: CodecName, root?: string): { script: string; wasm: string } {
  return locate(CODEC_FILES[name], root);
}

async function instantiate<T>(paths: { script: string; wasm: string }): Promise<T> {
  const factory = requireHere(paths.script) as (options: object) => Promise<T>;
  return factory({
    wasmBinary: readFileSync(paths.wasm),
    // The codecs print nothing useful; the server's log is for requests.
    print: () => undefined,
    printErr: () => undefined,
  });
}

/** Loads one codec module in Node from its script, handing it the wasm bytes. */
export function loadNodeCodec(name: CodecName, root?: string): Promise<CodecModule> {
  return instantiate<CodecModule>(codecPaths(name, root));
}

/** Decoder dependencies for Node: {@link loadNodeCodec}'s modules, each loaded once. */
export function nodeDecoderDeps(root?: string): DecoderDeps {
  const codecs: CodecProvider = cachingProvider((name) => loadNodeCodec(name, root));
  // jpeg-lossless-decoder-js (JPEG Process 14, PS3.5 §A.4.1), as the preview: plain JS,
  // bundled into each Node bundle that decodes (dist/server/cli.js,
  // dist/thumbnailWorker.js): the VSIX has no node_modules.
  return { codecs, jpegLossless: async () => JpegLosslessDecoderClass };
}

let serverDeps: DecoderDeps | undefined;

/** The local server's decoders, made on first use (no wasm is read before a frame needs it). */
export function serverDecoderDeps(): DecoderDeps {
  return (serverDeps ??= nodeDecoderDeps());
}

/** libjpeg-turbo's embind encoder (cornerstonejs/codecs, libjpeg-turbo/src/JPEGEncoder.hpp). */
export interface JpegEncoderModule {
  JPEGEncoder: new () => {
    getDecodedBuffer(frameInfo: {
      width: number;
      height: number;
      bitsPerSample: number;
      componentCount: number;
      isSigned: boolean;
    }): Uint8Array;
    /** A copy, as a Uint8ClampedArray (JPEGEncoder.hpp: `Uint8ClampedArray.new_(…)`). */
    getEncodedBuffer(): Uint8ClampedArray;
    encode(): void;
    setQuality(quality: number): void;
    setProgressive(progressive: number): void;
    delete(): void;
  };
}

let encoderModule: Promise<JpegEncoderModule> | undefined;

/** The JPEG encoder module, loaded once (a failed load may be retried). */
export function loadJpegEncoder(root?: string): Promise<JpegEncoderModule> {
  if (!encoderModule) {
    const pending = (async () =>
      instantiate<JpegEncoderModule>(locate(JPEG_ENCODER_FILES, root)))();
    pending.catch(() => {
      if (encoderModule === pending) encoderModule = undefined;
    });
    encoderModule = pending;
  }
  return encoderModule;
}

/** Drops the loaded encoder module (after a wasm trap): the next use loads a fresh one. */
export function forgetJpegEncoder(): void {
  encoderModule = undefined;
}
