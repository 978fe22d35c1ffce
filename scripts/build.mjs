// Bundles the extension (Node, CommonJS, `vscode` external), undici apart, the local
// server and the preview webview (browser, ESM) with esbuild, and copies the preview's
// codecs. `--production` minifies, `--watch` rebuilds.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// A fresh dist/: no stale source map or codec from an earlier build ships by accident.
rmSync('dist', { recursive: true, force: true });

/**
 * undici is more than half of the extension's code (its HTTP/1 parsers ship as WebAssembly
 * in base64) and no request is made at activation: it goes to dist/undici.js, which
 * src/dicomweb/transport/http.ts requires with the first client. Activation then parses only the
 * rest.
 */
const undiciApart = {
  name: 'undici-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/undici$/ }, (args) =>
      args.importer.endsWith('src/dicomweb/transport/http.ts')
        ? { path: './undici.js', external: true }
        : undefined,
    );
  },
};

/** One bundle: minified for --production, with source maps otherwise. */
function bundle(entry, outfile, options) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
    logLevel: 'warning',
    ...options,
  };
}
const node = { platform: 'node', format: 'cjs', target: 'node20' };

/** @type {import('esbuild').BuildOptions[]} */
const targets = [
  bundle('src/extension.ts', 'dist/extension.js', {
    ...node,
    external: ['vscode'],
    plugins: [undiciApart],
  }),
  bundle('src/dicomweb/transport/undici.ts', 'dist/undici.js', node),
  // Downloads run in a worker thread of the extension host
  // (src/dicomweb/transfer/downloadWorker.ts);
  // it shares dist/undici.js with the extension.
  bundle('src/dicomweb/transfer/downloadWorkerMain.ts', 'dist/downloadWorker.js', {
    ...node,
    plugins: [undiciApart],
  }),
  // Tooltip thumbnails are decoded in a worker thread of the extension host
  // (src/thumbnails/decodeWorker.ts), with the codecs of dist/codecs/.
  bundle('src/thumbnails/decodeWorkerMain.ts', 'dist/thumbnailWorker.js', node),
  // The local DICOMweb server, run by the extension in a child process and by
  // `npm run serve` on its own.
  bundle('src/server/cli.ts', 'dist/server/cli.js', node),
  // The preview webview's browser code.
  bundle('webview/preview/main.ts', 'dist/webview/preview.js', {
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
  }),
  // The notebook renderer of frame outputs: the preview's decoders and pipeline on a canvas.
  bundle('webview/notebook/renderer.ts', 'dist/webview/notebookRenderer.js', {
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
  }),
  // The thumbnail grid of a series: the preview's decoders on one canvas per tile.
  bundle('webview/thumbnails/main.ts', 'dist/webview/thumbnails.js', {
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
  }),
  // The DICOM editor webview: the tag table beside the same viewer.
  bundle('webview/editor/main.ts', 'dist/webview/editor.js', {
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
  }),
];

// The preview's WebAssembly codecs (cornerstonejs/codecs) ship as a script + .wasm pair
// each; they are copied, not bundled: the webview loads the script with its nonce and gets
// the wasm bytes by message, so the CSP needs only 'wasm-unsafe-eval'.
const CODECS = {
  '@cornerstonejs/codec-libjpeg-turbo-8bit/dist': [
    'libjpegturbowasm_decode.js',
    'libjpegturbowasm_decode.wasm',
    // The full build (decoder and JPEGEncoder): the local server's JPEG `/rendered`
    // (src/imaging/node/codecLoader.ts JPEG_ENCODER_FILES).
    'libjpegturbowasm.js',
    'libjpegturbowasm.wasm',
  ],
  '@cornerstonejs/codec-charls/dist': ['charlswasm_decode.js', 'charlswasm_decode.wasm'],
  '@cornerstonejs/codec-openjpeg/dist': ['openjpegwasm_decode.js', 'openjpegwasm_decode.wasm'],
  '@cornerstonejs/codec-openjph/dist': ['openjphjs.js', 'openjphjs.wasm'],
};
mkdirSync('dist/codecs', { recursive: true });
for (const [dir, files] of Object.entries(CODECS)) {
  for (const file of files) copyFileSync(`node_modules/${dir}/${file}`, `dist/codecs/${file}`);
}

if (watch) {
  for (const options of targets) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
  console.log('esbuild: watching');
} else {
  await Promise.all(targets.map((options) => esbuild.build(options)));
}
