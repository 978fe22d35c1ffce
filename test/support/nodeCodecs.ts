/**
 * The WebAssembly codecs in plain Node for tests and benchmarks: the local server's own
 * loader (src/imaging/node/codecLoader.ts), so a test decodes with exactly what the server and the
 * preview use. The webview loads them with `<script nonce>` and wasm bytes by message.
 */
import type { ImageInfo } from '../../src/imaging/types';
import { loadNodeCodec } from '../../src/imaging/node/codecLoader';

export { codecPaths, loadNodeCodec, nodeDecoderDeps } from '../../src/imaging/node/codecLoader';

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
