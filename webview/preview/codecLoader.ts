/**
 * Loads a WebAssembly codec in the webview under the strict CSP: its emscripten script by
 * a `<script nonce>` element (from dist/codecs/ via asWebviewUri), its wasm bytes by
 * message from the extension (so the page needs no `connect-src`), compiled by the
 * factory with `wasmBinary` (allowed by `'wasm-unsafe-eval'` only). {@link BrowserCodecs}
 * is what the decoders get in this page: codec scripts from `init`, wasm from `codec`.
 */
import { Decoder as JpegLosslessDecoderClass } from 'jpeg-lossless-decoder-js';
import type { CodecMessage, CodecName } from '../protocol';
import {
  cachingProvider,
  CODEC_FILES,
  type CodecModule,
  type EmscriptenFactory,
} from '../../src/imaging/decode/codecs';
import type { DecoderDeps, JpegLosslessDecoder } from '../../src/imaging/decode/decodeFrame';
import type { Post } from './vscodeApi';

export interface BrowserCodecEnvironment {
  nonce: string;
  scriptUrl(name: CodecName): string;
  /** Asks the extension for the wasm bytes and resolves with them. */
  requestWasm(name: CodecName): Promise<Uint8Array>;
}

/** Scripts load one at a time: OpenJPH's defines the generic global `Module`. */
let scriptQueue: Promise<unknown> = Promise.resolve();

export function loadBrowserCodec(
  name: CodecName,
  env: BrowserCodecEnvironment,
): Promise<CodecModule> {
  const files = CODEC_FILES[name];
  const factoryPromise = (scriptQueue = scriptQueue
    .catch(() => undefined)
    .then(
      () =>
        new Promise<EmscriptenFactory>((resolve, reject) => {
          const script = document.createElement('script');
          script.nonce = env.nonce;
          script.src = env.scriptUrl(name);
          script.addEventListener('load', () => {
            const scope = globalThis as unknown as Record<string, unknown>;
            const factory = scope[files.globalName];
            if (typeof factory !== 'function') {
              reject(new Error(`${files.label}: its script did not define ${files.globalName}.`));
              return;
            }
            if (files.globalName === 'Module') delete scope.Module;
            resolve(factory as EmscriptenFactory);
          });
          script.addEventListener('error', () =>
            reject(new Error(`${files.label}: could not load ${files.script}.`)),
          );
          document.head.appendChild(script);
        }),
    )) as Promise<EmscriptenFactory>;
  return Promise.all([factoryPromise, env.requestWasm(name)]).then(([factory, wasm]) => {
    if (wasm.length === 0)
      throw new Error(`${files.label}: ${files.wasm} is not in the extension (dist/codecs).`);
    return factory({ wasmBinary: wasm, print: () => undefined, printErr: () => undefined });
  });
}

/**
 * The decoders' codecs in this page, each loaded once on first use: its script from the
 * URL `init` gave ({@link useScripts}), its wasm asked by one `requestCodec` however many
 * frames wait for it, and delivered by the extension's `codec` answer ({@link deliver}).
 */
export class BrowserCodecs {
  private scripts: Record<CodecName, string> | undefined;
  private readonly wasmWaiters = new Map<CodecName, Array<(bytes: Uint8Array) => void>>();
  readonly deps: DecoderDeps;

  constructor(nonce: string, post: Post) {
    this.deps = {
      codecs: cachingProvider((name) =>
        loadBrowserCodec(name, {
          nonce,
          scriptUrl: (codec) => this.scripts?.[codec] ?? '',
          requestWasm: (codec) =>
            new Promise<Uint8Array>((resolve) => {
              const waiters = this.wasmWaiters.get(codec) ?? [];
              waiters.push(resolve);
              this.wasmWaiters.set(codec, waiters);
              if (waiters.length === 1) post({ type: 'requestCodec', name: codec });
            }),
        }),
      ),
      jpegLossless: async () =>
        JpegLosslessDecoderClass as unknown as new () => JpegLosslessDecoder,
    };
  }

  useScripts(scripts: Record<CodecName, string>): void {
    this.scripts = scripts;
  }

  deliver(message: CodecMessage): void {
    const waiters = this.wasmWaiters.get(message.name) ?? [];
    this.wasmWaiters.delete(message.name);
    for (const resolve of waiters) resolve(message.wasm);
  }
}
