/**
 * The WebAssembly codecs in plain Node for tests and benchmarks: the local server's own
 * loader (src/server/codecLoader.ts), so a test decodes with exactly what the server and the
 * preview use. The webview loads them with `<script nonce>` and wasm bytes by message.
 */
export { codecPaths, loadNodeCodec, nodeDecoderDeps } from '../../src/server/codecLoader';
