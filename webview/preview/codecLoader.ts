/**
 * Loads a WebAssembly codec in the webview under the strict CSP: its emscripten script by
 * a `<script nonce>` element (from dist/codecs/ via asWebviewUri), its wasm bytes by
 * message from the extension (so the page needs no `connect-src`), compiled by the
 * factory with `wasmBinary` (allowed by `'wasm-unsafe-eval'` only).
 */
import type { CodecName } from '../protocol';
import { CODEC_FILES, type CodecModule, type EmscriptenFactory } from './decode/codecs';

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
