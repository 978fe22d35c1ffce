#!/usr/bin/env node
// Temporary: runs bench/localServer.bench.ts alone (without bench/runner.ts, which writes
// the results files): bundles it and test/support/orthanc.ts with esbuild, starts Orthanc,
// prints the results as JSON. `node bench/localServer.standalone.mjs [store,qido,startup]`
import * as esbuild from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const outDir = join(root, 'out', 'bench-local');
await esbuild.build({
  entryPoints: [
    { in: join(root, 'bench/localServer.bench.ts'), out: 'localServer.bench' },
    { in: join(root, 'test/support/orthanc.ts'), out: 'orthanc' },
  ],
  outdir: outDir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const require = createRequire(import.meta.url);
const { startOrthanc } = require(join(outDir, 'orthanc.cjs'));
const bench = require(join(outDir, 'localServer.bench.cjs'));
const parts = process.argv[2] ? process.argv[2].split(',') : undefined;
const orthanc = await startOrthanc({ name: 'bench-local' });
const tmpDir = mkdtempSync(join(tmpdir(), 'dicomweb-local-bench-'));
try {
  const results = await bench.run({
    orthancDicomWebUrl: orthanc.dicomWebUrl,
    orthancRestUrl: orthanc.restUrl,
    tmpDir,
    log: (line) => console.error(`[localServer] ${line}`),
    wants: (part) => !parts || parts.includes(part),
  });
  console.log(JSON.stringify(results, null, 2));
} finally {
  await orthanc.stop();
  rmSync(tmpDir, { recursive: true, force: true });
}
