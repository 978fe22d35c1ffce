/**
 * The WebAssembly codecs from npm (the `@cornerstonejs/codec-*` packages) behind one small
 * interface, and which one handles which transfer syntax. Loading is left to the caller
 * (a `<script nonce>` plus wasm bytes from the extension in the webview, `require` in Node
 * tests): this file only drives the loaded modules, so both use the same code.
 */
import type { CodecName } from '../types';

/** What each codec package ships into dist/codecs/ and the global its script defines. */
export const CODEC_FILES: Record<
  CodecName,
  { packageDir: string; script: string; wasm: string; globalName: string; label: string }
> = {
  'libjpeg-turbo': {
    packageDir: '@cornerstonejs/codec-libjpeg-turbo-8bit/dist',
    script: 'libjpegturbowasm_decode.js',
    wasm: 'libjpegturbowasm_decode.wasm',
    globalName: 'libjpegturbowasm_decode',
    label: 'libjpeg-turbo',
  },
  charls: {
    packageDir: '@cornerstonejs/codec-charls/dist',
    script: 'charlswasm_decode.js',
    wasm: 'charlswasm_decode.wasm',
    globalName: 'CharLSWASM',
    label: 'CharLS',
  },
  openjpeg: {
    packageDir: '@cornerstonejs/codec-openjpeg/dist',
    script: 'openjpegwasm_decode.js',
    wasm: 'openjpegwasm_decode.wasm',
    globalName: 'OpenJPEGWASM',
    label: 'OpenJPEG',
  },
  openjph: {
    packageDir: '@cornerstonejs/codec-openjph/dist',
    script: 'openjphjs.js',
    wasm: 'openjphjs.wasm',
    // OpenJPH's emscripten build names its factory `Module`.
    globalName: 'Module',
    label: 'OpenJPH',
  },
};

/** Options every emscripten factory accepts; `wasmBinary` keeps it from fetching anything. */
export interface EmscriptenOptions {
  wasmBinary: ArrayBuffer | Uint8Array;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

/** The emscripten factory a codec script defines. */
export type EmscriptenFactory = (options: EmscriptenOptions) => Promise<CodecModule>;

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

/** The shape shared by the embind decoder classes of the four packages. */
interface EmbindDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getInterleaveMode?(): number;
  delete(): void;
}

/** A loaded codec module: one or more decoder classes. */
export interface CodecModule {
  JPEGDecoder?: new () => EmbindDecoder;
  JpegLSDecoder?: new () => EmbindDecoder;
  J2KDecoder?: new () => EmbindDecoder;
  HTJ2KDecoder?: new () => EmbindDecoder;
}

const DECODER_CLASS: Record<CodecName, keyof CodecModule> = {
  'libjpeg-turbo': 'JPEGDecoder',
  charls: 'JpegLSDecoder',
  openjpeg: 'J2KDecoder',
  openjph: 'HTJ2KDecoder',
};

/** What a codec returns: raw samples and what it says they are. */
export interface CodecOutput {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  /** Undefined when the codec does not say (then Pixel Representation decides). */
  isSigned?: boolean;
  /** Samples as little-endian bytes: 1 byte each up to 8 bits, 2 bytes up to 16. */
  bytes: Uint8Array;
  /** True when multi-component output is planar (CharLS interleave mode "none"). */
  planar: boolean;
}

/**
 * Runs one decode on a loaded module. The decoded buffer lives in the module's heap and is
 * copied out before the decoder is deleted (embind objects are not garbage collected).
 */
export function runCodec(name: CodecName, module: CodecModule, encoded: Uint8Array): CodecOutput {
  const Decoder = module[DECODER_CLASS[name]];
  if (!Decoder) throw new Error(`${CODEC_FILES[name].label} module has no ${DECODER_CLASS[name]}.`);
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const frameInfo = decoder.getFrameInfo();
    const bytes = decoder.getDecodedBuffer().slice();
    const planar =
      name === 'charls' && frameInfo.componentCount > 1 && decoder.getInterleaveMode?.() === 0;
    return {
      width: frameInfo.width,
      height: frameInfo.height,
      bitsPerSample: frameInfo.bitsPerSample,
      componentCount: frameInfo.componentCount,
      isSigned: frameInfo.isSigned,
      bytes,
      planar,
    };
  } finally {
    decoder.delete();
  }
}

/** Supplies loaded codec modules, loading each once. */
export interface CodecProvider {
  get(name: CodecName): Promise<CodecModule>;
}

/** Caches module promises of a loader; a failed load may be retried. */
export function cachingProvider(load: (name: CodecName) => Promise<CodecModule>): CodecProvider {
  const modules = new Map<CodecName, Promise<CodecModule>>();
  return {
    get(name) {
      let pending = modules.get(name);
      if (!pending) {
        pending = load(name);
        pending.catch(() => modules.delete(name));
        modules.set(name, pending);
      }
      return pending;
    },
  };
}
