#!/usr/bin/env node
// `npm start`: the one-command demo. Installs what it needs, builds the extension, starts
// the extension's local DICOMweb server over a folder seeded with the tutorial's three
// instances (green-square, red-triangle, blue-circle), and opens VS Code with the
// extension connected to it: the desktop VS Code when its `code` command exists,
// otherwise code-server in the browser (the URL is printed). Ctrl+C stops everything.
//
//   npm start                       # desktop VS Code if found, else code-server
//   npm start -- --browser          # always code-server
//   npm start -- --port 8080        # code-server's port (default 8080, or PORT)
//   npm start -- --data DIR         # serve another folder of .dcm files
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureNpmDependencies } from './npm-deps.mjs';
import {
  codeServerSupported,
  findOnPath,
  needsShell,
  noVsCodeHint,
  quoteForCmd,
} from './platform.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
process.chdir(root);
const args = process.argv.slice(2);
const option = (name) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const forceBrowser = args.includes('--browser');
const demoDir = join(root, '.demo');
const dataDir = resolve(option('--data') ?? join(demoDir, 'data'));
const codeServerPort = Number(option('--port') ?? process.env.PORT ?? 8080);

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed`);
}

async function main() {
  ensureNpmDependencies(root);
  console.log('Building the extension…');
  run(process.execPath, ['scripts/build.mjs']);
  // The local server (and its copier of the sample files) is compiled with the tests' tsconfig.
  run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.test.json']);

  mkdirSync(dataDir, { recursive: true });
  if (!readdirSync(dataDir).some((name) => name.endsWith('.dcm'))) {
    // The tutorial's three instances, from media/samples/ (scripts/gen-samples.mjs made them).
    const { writeSeedFiles } = await import(
      pathToFileURL(join(root, 'out/src/server/samples.js')).href
    );
    const files = await writeSeedFiles(dataDir);
    console.log(`Seeded ${dataDir} with ${files.length} instances of the tutorial's study.`);
  }
  const { startLocalServer } = await import(
    pathToFileURL(join(root, 'out/src/server/index.js')).href
  );
  const server = await startLocalServer({ dir: dataDir, port: 0 });
  console.log(`Local DICOMweb server: ${server.url} (serving ${dataDir})`);

  const settings = {
    'dicomweb.servers': [
      { id: 'local-demo', name: 'Local DICOMweb server (demo)', url: server.url, kind: 'local' },
    ],
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'git.openRepositoryInParentFolders': 'never',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
  };
  const workspace = join(demoDir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  if (!existsSync(join(workspace, 'README.md'))) {
    writeFileSync(
      join(workspace, 'README.md'),
      '# DICOMweb Explorer demo\n\nOpen the DICOMweb view in the activity bar. Drop `.dcm` files on the server to upload them.\n',
    );
  }

  const children = [];
  const stop = async () => {
    for (const child of children) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    }
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const code = forceBrowser ? undefined : findOnPath('code');
  if (code) {
    const userData = join(demoDir, 'vscode-user');
    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    console.log('Opening VS Code (desktop) with the extension in development mode…');
    const codeArgs = [
      '--user-data-dir',
      userData,
      `--extensionDevelopmentPath=${root}`,
      '--new-window',
      workspace,
    ];
    // code.cmd on Windows runs only through a shell, which joins the words as they are:
    // quote them ("C:\Program Files\…", a user folder with a space).
    const shell = needsShell(code);
    const child = shell
      ? spawn([code, ...codeArgs].map(quoteForCmd).join(' '), {
          stdio: 'inherit',
          detached: true,
          shell: true,
        })
      : spawn(code, codeArgs, { stdio: 'inherit', detached: true });
    children.push(child);
    console.log(
      'The DICOMweb view is in the activity bar. Press Ctrl+C here to stop the local server.',
    );
    return;
  }

  if (!codeServerSupported()) {
    console.error(noVsCodeHint());
    await server.close();
    process.exit(1);
  }
  const { ensureVsCodeTestEnv } = await import(
    pathToFileURL(join(root, 'scripts/vscode-env.mjs')).href
  );
  const tools = await ensureVsCodeTestEnv();
  const csDir = join(demoDir, 'code-server');
  const dirs = {
    userData: join(csDir, 'user-data'),
    extensions: join(csDir, 'extensions'),
    config: join(csDir, 'config'),
    data: join(csDir, 'data'),
    tmp: join(csDir, 'tmp'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // code-server takes no --extensionDevelopmentPath: install a fresh copy of the build.
  const manifest = JSON.parse(
    (await import('node:fs')).readFileSync(join(root, 'package.json'), 'utf8'),
  );
  const target = join(
    dirs.extensions,
    `${manifest.publisher}.${manifest.name}-${manifest.version}`,
  );
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const entry of ['package.json', 'dist', 'media', 'README.md'])
    cpSync(join(root, entry), join(target, entry), { recursive: true });
  rmSync(join(dirs.extensions, 'extensions.json'), { force: true });
  const configFile = join(dirs.config, 'code-server.yaml');
  writeFileSync(configFile, '');
  const child = spawn(
    tools.codeServer,
    [
      '--bind-addr',
      `127.0.0.1:${codeServerPort}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir',
      dirs.userData,
      '--extensions-dir',
      dirs.extensions,
      '--config',
      configFile,
      workspace,
    ],
    {
      env: {
        ...process.env,
        XDG_CONFIG_HOME: dirs.config,
        XDG_DATA_HOME: dirs.data,
        TMPDIR: dirs.tmp,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  children.push(child);
  let announced = false;
  const onData = (chunk) => {
    const text = chunk.toString();
    if (!announced && /HTTP server listening on/.test(text)) {
      announced = true;
      const url = `http://127.0.0.1:${codeServerPort}/?folder=${encodeURIComponent(workspace)}`;
      console.log(
        `\nVS Code (code-server) with DICOMweb Explorer: ${url}\nOpen it in a browser; the DICOMweb view is in the activity bar. Ctrl+C stops everything.\n`,
      );
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', (status) => {
    console.log(`code-server exited (${status}).`);
    void server.close().then(() => process.exit(status ?? 1));
  });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
