// The project's Node-side tests and benchmarks run on Node >= 22.19 (undici 8 needs it; the
// 7.x line crashes the process with an uncatchable assertion when a server closes a paused
// response, nodejs/undici#5360). The machine's Node may be older: then the script runs
// again under the Node 24 that the test bed installs for code-server anyway
// (scripts/vscode-env.mjs), so npm test, CI and the benchmark all use the same Node.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const [major, minor] = process.versions.node.split('.').map(Number);
export const nodeIsRecentEnough = major > 22 || (major === 22 && minor >= 19);

/** Re-runs the calling script under Node 24 when this Node is too old; returns when it is fine. */
export async function runOnRecentNode(scriptUrl) {
  if (nodeIsRecentEnough) return;
  const { codeServerSupported, oldNodeMessage } = await import('./platform.mjs');
  // The Node 24 download is the linux-x64 npm package: elsewhere say what to install.
  if (!codeServerSupported()) {
    console.error(oldNodeMessage(process.version));
    process.exit(1);
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const { ensureVsCodeTestEnv } = await import(pathToFileURL(join(here, 'vscode-env.mjs')).href);
  const tools = await ensureVsCodeTestEnv();
  console.log(`Node ${process.versions.node} is older than 22.19: running under ${tools.node24}`);
  const result = spawnSync(tools.node24, [fileURLToPath(scriptUrl), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}
