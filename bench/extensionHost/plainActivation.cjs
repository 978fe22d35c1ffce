#!/usr/bin/env node
// For comparison with the extension host's figures (bench/extension.bench.ts): in a fresh
// plain Node process, `require` the bundle and call `activate()` with a minimal stand-in
// for the `vscode` module, and print the times as one JSON line.
//   node bench/extensionHost/plainActivation.cjs dist/extension.js
// The stand-in answers every property and call with another stand-in (so registrations
// and `new vscode.X()` cost next to nothing), `get(key, default)` with the default, and
// lets classes extend its members. It measures the bundle's own work, not VS Code's.
'use strict';

const Module = require('node:module');
const path = require('node:path');
// `performance` is Node's global (the same object node:perf_hooks exports).

function stand(name) {
  const own = new Map();
  const target = function () {};
  const proxy = new Proxy(target, {
    get(t, key) {
      if (key === 'then') return undefined; // not a thenable
      if (key === 'prototype') return t.prototype;
      if (key === Symbol.toPrimitive) return () => name;
      if (key === Symbol.iterator) return function* () {};
      if (typeof key === 'symbol') return undefined;
      if (!own.has(key)) own.set(key, stand(`${name}.${key}`));
      return own.get(key);
    },
    set(t, key, value) {
      own.set(key, value);
      return true;
    },
    apply(t, self, args) {
      // configuration.get(key, default), memento.get(key, default)
      if (name.endsWith('.get') && args.length >= 2) return args[1];
      if (name.endsWith('.get')) return undefined;
      return stand(`${name}()`);
    },
    construct(t, args, newTarget) {
      // `class X extends vscode.TreeItem`: an instance of X; `new vscode.EventEmitter()`: a
      // stand-in.
      return newTarget === proxy ? stand(`new ${name}`) : Object.create(newTarget.prototype);
    },
  });
  return proxy;
}

// esbuild's `import * as vscode` copies the module's own properties: give it the API's
// top-level names, read from @types/vscode before the clock starts.
const bundle = path.resolve(process.argv[2]);
const typings = require('node:fs').readFileSync(
  require.resolve('@types/vscode/index.d.ts', { paths: [path.join(__dirname, '..', '..')] }),
  'utf8',
);
const vscode = {};
for (const match of typings.matchAll(
  /^\texport (?:namespace|class|enum|function|const|let|var) ([A-Za-z_$][\w$]*)/gm,
)) {
  vscode[match[1]] ??= stand(`vscode.${match[1]}`);
}
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
};
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscode };

const memento = { get: (key, fallback) => fallback, update: async () => undefined, keys: () => [] };
const context = {
  subscriptions: [],
  workspaceState: memento,
  globalState: memento,
  secrets: stand('secrets'),
  extensionUri: stand('extensionUri'),
  extensionPath: path.resolve(process.argv[2], '..', '..'),
  globalStorageUri: stand('globalStorageUri'),
  storageUri: stand('storageUri'),
  logUri: stand('logUri'),
};

const t0 = performance.now();
const extension = require(bundle);
const t1 = performance.now();
const api = extension.activate(context);
const t2 = performance.now();
process.stdout.write(
  `${JSON.stringify({ requireMs: t1 - t0, activateMs: t2 - t1, ownActivationMs: api?.activationMs, node: process.version })}\n`,
);
