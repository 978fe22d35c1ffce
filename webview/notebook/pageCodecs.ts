/**
 * The decoders' dependencies in the notebook's output webview: each WebAssembly codec loaded
 * once, on first use, by the preview's own loader (webview/preview/codecLoader.ts) from the
 * URLs webview/notebook/codecs.ts gives, its wasm fetched from the same place.
 */
import { Decoder as JpegLosslessDecoderClass } from 'jpeg-lossless-decoder-js';
import { cachingProvider } from '../../src/imaging/decode/codecs';
import type { DecoderDeps, JpegLosslessDecoder } from '../../src/imaging/decode/decodeFrame';
import { loadBrowserCodec } from '../preview/codecLoader';
import { codecUrls } from './codecs';

export function pageDecoderDeps(rendererUrl: string): DecoderDeps {
  return {
    codecs: cachingProvider((name) => {
      const urls = codecUrls(name, rendererUrl);
      return loadBrowserCodec(name, {
        // The output webview has no nonce-based policy (codecs.ts): the attribute is empty.
        nonce: '',
        scriptUrl: () => urls.script,
        requestWasm: async () => {
          const response = await fetch(urls.wasm);
          if (!response.ok) throw new Error(`${urls.wasm}: ${response.status}`);
          return new Uint8Array(await response.arrayBuffer());
        },
      });
    }),
    jpegLossless: async () => JpegLosslessDecoderClass as unknown as new () => JpegLosslessDecoder,
  };
}
