#!/usr/bin/env node
// Generates the seed tutorial's three sample instances (green-square, red-triangle,
// blue-circle, with the tutorial's exact UIDs) into media/samples/, where the extension's
// "Add Sample Data" and the server CLI's `--seed` copy them from (src/server/samples.ts).
// The drawing and the Part 10 writer are test support (test/support/seedData.ts and
// dicomWriter.ts) and do not ship; esbuild bundles them here in memory, so no compiled
// out/ is needed and none can be stale.
//
//   node scripts/gen-samples.mjs              # rewrite media/samples/
//   node scripts/gen-samples.mjs --out DIR    # write them elsewhere (test/server/samples.test.ts)
//
// The output is reproducible byte for byte (fixed UIDs, dates and implementation UID); the
// test above fails when the committed files differ from what this writes.
import * as esbuild from 'esbuild';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = resolve(outIndex >= 0 ? args[outIndex + 1] : join(root, 'media', 'samples'));

const built = await esbuild.build({
  entryPoints: [join(root, 'test', 'support', 'seedData.ts')],
  bundle: true,
  write: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
const source = built.outputFiles[0].text;
const { writeSeedFiles } = await import(
  `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`
);
const files = await writeSeedFiles(out);
for (const file of files) console.log(file);
