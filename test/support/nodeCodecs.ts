/**
 * Loads the WebAssembly codecs in plain Node (tests, benchmarks): the same emscripten
 * scripts and wasm files the webview loads, taken from dist/codecs/ when built, else from
 * node_modules. The webview loads them with `<script nonce>` and wasm bytes by message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { CodecName, ImageInfo } from '../../webview/protocol';
import {
  CODEC_FILES,
  cachingProvider,
  type CodecModule,
  type CodecProvider,
  type EmscriptenFactory,
} from '../../src/imaging/decode/codecs';
import type { DecoderDeps, JpegLosslessDecoder } from '../../src/imaging/decode/decodeFrame';

const requireHere = createRequire(__filename);

/** Where a codec's script and wasm are: `dist/codecs/` when present, else the package. */
export function codecPaths(
  name: CodecName,
  root = process.cwd(),
): { script: string; wasm: string } {
  const files = CODEC_FILES[name];
  const shipped = join(root, 'dist', 'codecs');
  if (existsSync(join(shipped, files.wasm)) && existsSync(join(shipped, files.script))) {
    return { script: join(shipped, files.script), wasm: join(shipped, files.wasm) };
  }
  const packageDir = join(root, 'node_modules', files.packageDir);
  return { script: join(packageDir, files.script), wasm: join(packageDir, files.wasm) };
}

/** Loads one codec module in Node from its script, handing it the wasm bytes. */
export async function loadNodeCodec(name: CodecName, root = process.cwd()): Promise<CodecModule> {
  const paths = codecPaths(name, root);
  const factory = requireHere(paths.script) as EmscriptenFactory;
  return factory({
    wasmBinary: readFileSync(paths.wasm),
    print: () => undefined,
    printErr: () => undefined,
  });
}

/**
 * Decoder dependencies for Node: the codecs of {@link loadNodeCodec} and jpeg-lossless-decoder-js.
 */
export function nodeDecoderDeps(root = process.cwd()): DecoderDeps {
  const codecs: CodecProvider = cachingProvider((name) => loadNodeCodec(name, root));
  return {
    codecs,
    jpegLossless: async () => {
      const lossless = requireHere(join(root, 'node_modules', 'jpeg-lossless-decoder-js')) as {
        Decoder: new () => JpegLosslessDecoder;
      };
      return lossless.Decoder;
    },
  };
}

/**
 * A native grayscale frame encoded as HTJ2K with OpenJPH's own encoder (reversible 5/3, so
 * lossless): no HTJ2K file ships in the sample packages.
 */
export async function encodeHtj2k(native: Uint8Array, info: ImageInfo): Promise<Uint8Array> {
  const module = (await loadNodeCodec('openjph')) as unknown as {
    HTJ2KEncoder: new () => {
      getDecodedBuffer(frameInfo: object): Uint8Array;
      encode(): void;
      getEncodedBuffer(): Uint8Array;
      delete(): void;
    };
  };
  const encoder = new module.HTJ2KEncoder();
  try {
    encoder
      .getDecodedBuffer({
        width: info.columns,
        height: info.rows,
        bitsPerSample: info.bitsStored,
        componentCount: 1,
        isSigned: info.pixelRepresentation === 1,
        isUsingColorTransform: false,
      })
      .set(native);
    encoder.encode();
    return encoder.getEncodedBuffer().slice();
  } finally {
    encoder.delete();
  }
}
