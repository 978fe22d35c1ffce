/**
 * The WebAssembly codecs in plain Node for tests and benchmarks: the local server's own
 * loader (src/imaging/node/codecLoader.ts), so a test decodes with exactly what the server and the
 * preview use. The webview loads them with `<script nonce>` and wasm bytes by message.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CODEC_FILES } from '../../src/imaging/decode/codecs';
import type { ImageInfo } from '../../src/imaging/types';
import { loadNodeCodec } from '../../src/imaging/node/codecLoader';

export { codecPaths, loadNodeCodec, nodeDecoderDeps } from '../../src/imaging/node/codecLoader';

/** What an encoder needs of a native grayscale frame. */
export interface NativeFrameShape {
  columns: number;
  rows: number;
  bitsStored: number;
  signed: boolean;
}

interface WasmEncoder {
  getDecodedBuffer(frameInfo: object): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
  setQuality?(lossless: boolean, quality: number): void;
  setNearLossless?(near: number): void;
}

/**
 * The lossless encoders of the codec packages, for tests and benchmarks that need compressed
 * frames no sample file has: JPEG 2000 (OpenJPEG, reversible), JPEG-LS (CharLS, near 0) and
 * HTJ2K (OpenJPH, reversible 5/3). OpenJPEG's and CharLS's encoders are in the packages' full
 * builds (node_modules), which the VSIX does not ship; OpenJPH's is in the build the product
 * loads.
 */
const ENCODERS: Record<
  'openjpeg' | 'charls' | 'openjph',
  { script?: string; encoder: string; lossless: (encoder: WasmEncoder) => void }
> = {
  openjpeg: {
    script: 'openjpegwasm.js',
    encoder: 'J2KEncoder',
    lossless: (encoder) => encoder.setQuality!(true, 0),
  },
  charls: {
    script: 'charlswasm.js',
    encoder: 'JpegLSEncoder',
    lossless: (encoder) => encoder.setNearLossless!(0),
  },
  // Reversible 5/3 is its default.
  openjph: { encoder: 'HTJ2KEncoder', lossless: () => undefined },
};

export type LosslessCodec = keyof typeof ENCODERS;

const encoderModules = new Map<LosslessCodec, Promise<Record<string, new () => WasmEncoder>>>();

function encoderModule(codec: LosslessCodec): Promise<Record<string, new () => WasmEncoder>> {
  let module = encoderModules.get(codec);
  if (!module) {
    const { script } = ENCODERS[codec];
    if (script === undefined) {
      module = loadNodeCodec(codec as 'openjph') as unknown as Promise<
        Record<string, new () => WasmEncoder>
      >;
    } else {
      const path = join(
        process.cwd(),
        'node_modules',
        CODEC_FILES[codec as 'openjpeg' | 'charls'].packageDir,
        script,
      );
      const factory = createRequire(__filename)(path) as (
        options: object,
      ) => Promise<Record<string, new () => WasmEncoder>>;
      module = factory({ wasmBinary: readFileSync(path.replace(/\.js$/, '.wasm')) });
    }
    encoderModules.set(codec, module);
  }
  return module;
}

/** A native grayscale frame encoded losslessly with `codec`'s own encoder. */
export async function encodeLossless(
  codec: LosslessCodec,
  native: Uint8Array,
  frame: NativeFrameShape,
): Promise<Uint8Array> {
  const module = await encoderModule(codec);
  const encoder = new module[ENCODERS[codec].encoder]!();
  try {
    encoder
      .getDecodedBuffer({
        width: frame.columns,
        height: frame.rows,
        bitsPerSample: frame.bitsStored,
        componentCount: 1,
        isSigned: frame.signed,
        ...(codec === 'openjph' ? { isUsingColorTransform: false } : {}),
      })
      .set(native);
    ENCODERS[codec].lossless(encoder);
    encoder.encode();
    return encoder.getEncodedBuffer().slice();
  } finally {
    encoder.delete();
  }
}

/**
 * A native grayscale frame encoded as HTJ2K with OpenJPH's own encoder (reversible 5/3, so
 * lossless): no HTJ2K file ships in the sample packages.
 */
export function encodeHtj2k(native: Uint8Array, info: ImageInfo): Promise<Uint8Array> {
  return encodeLossless('openjph', native, {
    columns: info.columns,
    rows: info.rows,
    bitsStored: info.bitsStored,
    signed: info.pixelRepresentation === 1,
  });
}
