#!/usr/bin/env node
// `npm run bench`: the speed and memory benchmarks of issue 2 (and any other
// bench/*.bench.ts), against a real Orthanc on 127.0.0.1.
//   1. installs Orthanc + its DICOMweb plugin + curl from Debian when missing (as root),
//   2. builds the extension (scripts/build.mjs) and bundles bench/runner.ts and every
//      bench/*.bench.ts with esbuild into out/bench/ (bench/ is not in tsconfig's include),
//   3. bench/runner.ts starts a fresh Orthanc, runs each module, stops Orthanc, writes
//      bench/results/<date>-<machine>.json and regenerates BENCHMARKS.md.
// `--only client,preview` or `--only client:store,client:qido` runs a subset.
// The exit code is 0 even when a target is missed (printed as MISSED): it is a measurement.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOnRecentNode } from './node24.mjs';
import { ensureSystemPackages } from './system-packages.mjs';

await runOnRecentNode(import.meta.url);

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
process.chdir(root);

const args = process.argv.slice(2);
const only = [];
let renderOnly = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--only' && args[i + 1]) only.push(args[++i]);
  else if (args[i] === '--render-only') renderOnly = true;
  else if (args[i].startsWith('--only=')) only.push(args[i].slice('--only='.length));
  else if (args[i] === '--help' || args[i] === '-h') {
    console.log('usage: npm run bench [-- --only module[:part][,…]] | [-- --render-only]');
    process.exit(0);
  } else {
    console.error(`bench: unknown argument ${args[i]}`);
    process.exit(2);
  }
}

async function main() {
  if (!renderOnly) ensureSystemPackages();

  if (renderOnly) {
    await bundleRunner([]);
    const written = createRequire(import.meta.url)(
      join(root, 'out', 'bench', 'runner.cjs'),
    ).renderLatest(root);
    console.log(
      written ? `BENCHMARKS.md rewritten from ${written}` : 'bench: no results file to render',
    );
    process.exit(written ? 0 : 1);
  }

  console.log('=== build ===');
  // The extension bundle is what the preview benchmark and users run; a broken build is
  // reported but does not stop the client benchmarks, which are bundled on their own below.
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (build.status !== 0)
    console.warn(
      `bench: scripts/build.mjs exited with ${build.status ?? build.signal}; continuing`,
    );

  const modules = readdirSync('bench')
    .filter((file) => file.endsWith('.bench.ts'))
    .sort()
    .map((file) => ({ name: file.slice(0, -'.bench.ts'.length), source: join('bench', file) }));
  const outDir = await bundleRunner(modules);

  const require = createRequire(import.meta.url);
  const runner = require(join(outDir, 'runner.cjs'));
  const code = await runner.main({
    root,
    modules: modules.map((m) => ({ name: m.name, file: join(outDir, `${m.name}.bench.cjs`) })),
    only,
  });
  process.exit(code);
}

/** Bundles bench/runner.ts and the given modules into out/bench/ (CommonJS, node20). */
async function bundleRunner(modules) {
  const outDir = join(root, 'out', 'bench');
  await esbuild.build({
    entryPoints: [
      { in: 'bench/runner.ts', out: 'runner' },
      // The retrieve benchmark's child process: the client alone (see bench/retrieveChild.ts).
      { in: 'bench/retrieveChild.ts', out: 'retrieveChild' },
      ...modules.map((m) => ({ in: m.source, out: `${m.name}.bench` })),
    ],
    outdir: outDir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    external: ['vscode'],
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'warning',
  });
  return outDir;
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
