/**
 * The rooms of src/ and webview/ and the arrows between them (README, "Layout"): every
 * import of every .ts file is read with TypeScript's own scanner (`ts.preProcessFile`:
 * `import`, `import type`, `export … from`, `require()`, `import()` and `import('…')`
 * types), relative ones resolved to files, and checked against the table below; then the
 * graph is searched for circles (Tarjan's strongly connected components).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, sep } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..', '..');
const SCANNED = ['src', 'webview'];

/**
 * Who may import what. A room is a folder (ending in `/`) or one file, from the repo root.
 * `except`: rooms inside `from` that the rule does not hold (they have a rule of their own);
 * `only`: the rooms a file here may import from (packages are not rooms, they are free);
 * `not`: what a file here must not import (a room, or a package name such as `vscode`).
 */
interface ImportRule {
  from: string[];
  except?: string[];
  only?: string[];
  not?: string[];
  why: string;
}

const RULES: ImportRule[] = [
  {
    from: ['src/dicom/'],
    only: ['src/dicom/'],
    why: 'the DICOM model (Part 10, DICOM JSON, named tags, dictionary) is the floor every other room stands on',
  },
  {
    from: ['src/mime/'],
    only: ['src/mime/'],
    why: 'multipart and bodies are a wire grammar (RFC 2046, RFC 9110 §8.3), not DICOM: client and server share it',
  },
  {
    from: ['src/imaging/'],
    except: ['src/imaging/header/', 'src/imaging/node/'],
    only: ['src/imaging/'],
    not: ['src/imaging/header/', 'src/imaging/node/'],
    why: 'decoders and the display pipeline run in three places (webviews, the extension host, the local server): they use only the language, typed arrays and WebAssembly',
  },
  {
    from: ['src/imaging/header/'],
    only: ['src/dicom/', 'src/imaging/'],
    not: ['src/imaging/node/'],
    why: "the image model read from an instance's header (dicom-parser, DICOM JSON) and its frames cut from a Part 10 file: one reader for the preview, the thumbnails and the local server, standing on src/dicom, so the webviews (which bundle the rest of src/imaging) never import it",
  },
  {
    from: ['src/imaging/node/'],
    only: [
      'src/imaging/',
      // The one declaration of jpeg-lossless-decoder-js's class (types only, nothing runs).
      'webview/preview/jpegLossless.d.ts',
    ],
    not: ['src/imaging/header/'],
    why: "the WebAssembly codecs loaded in Node (node:fs, require of emscripten scripts): shared by the local server's process and the extension host's thumbnail thread, the one loader both use; a webview cannot run it, so only Node-side rooms import it",
  },
  {
    from: ['webview/'],
    only: ['webview/', 'src/imaging/'],
    not: ['src/imaging/header/', 'src/imaging/node/'],
    why: 'the webview runs in a browser sandbox, bundled on its own: extension code would not run there, only the shared image decoders',
  },
  {
    from: ['src/dicomweb/'],
    only: ['src/dicom/', 'src/mime/', 'src/dicomweb/'],
    why: 'the DICOMweb client serves the extension, the benchmark and the tests alike: it knows no VS Code room and not the local server',
  },
  {
    from: ['src/dicomweb/transport/'],
    only: ['src/dicom/', 'src/mime/', 'src/dicomweb/transport/'],
    why: 'transport moves bytes (HTTP, socket reader, proxy, auth); what is sent and why is decided above it',
  },
  {
    from: ['src/dicomweb/transfer/'],
    not: ['src/dicomweb/client.ts', 'src/dicomweb/index.ts'],
    why: 'store and download are parts the client is built from: importing the client back draws a circle',
  },
  {
    from: ['src/notebook/'],
    only: ['src/dicom/', 'src/mime/', 'src/dicomweb/', 'src/notebook/'],
    why: 'the notebook file, its requests and their answers are text and data: read, run and rendered in plain Node so the tests and the benchmark need no VS Code',
  },
  {
    from: ['src/server/'],
    only: [
      'src/dicom/',
      'src/mime/',
      'src/imaging/',
      'src/server/',
      // The one declaration of jpeg-lossless-decoder-js's class (types only, nothing runs).
      'webview/preview/jpegLossless.d.ts',
    ],
    why: "the local server runs in its own process (the extension's fork, the CLI): it shares the wire rooms with the client, not the client",
  },
  {
    from: ['src/thumbnails/'],
    only: [
      'src/dicom/',
      'src/mime/',
      'src/imaging/',
      'src/dicomweb/',
      'src/preview/frameSource.ts',
      'src/thumbnails/',
    ],
    why: "thumbnails' sources, cache and request limit are plain Node (tested without VS Code): the client, the shared decoders and the preview's VS Code-free frame source; the tooltip and the grid panel live above, in src/thumbnailsHost/",
  },
  {
    from: ['src/config/'],
    not: [
      'src/tree/',
      'src/commands/',
      'src/documents/',
      'src/preview/',
      'src/editor/',
      'src/localServerHost/',
      'src/notebookHost/',
      'src/services.ts',
      'src/extension.ts',
    ],
    why: 'settings, secrets and prompts are what the views and commands stand on: they know none of them',
  },
  {
    from: [
      'src/tree/',
      'src/documents/',
      'src/preview/',
      'src/editor/',
      'src/localServerHost/',
      'src/notebookHost/',
      'src/thumbnailsHost/',
    ],
    not: ['src/commands/', 'src/services.ts', 'src/extension.ts'],
    why: 'views, documents, the preview and the DICOM editor are handed what they need; the commands use them, and the container is built at the top',
  },
  {
    from: ['src/commands/'],
    not: ['src/extension.ts'],
    why: 'activate registers the commands; a command never reaches back into activation',
  },
  {
    from: [
      'src/dicom/',
      'src/mime/',
      'src/imaging/',
      'src/dicomweb/',
      'src/server/',
      'src/notebook/',
      'src/thumbnails/',
    ],
    not: ['vscode'],
    why: 'these rooms run outside VS Code too (the server process, the CLI, the benchmark, these tests)',
  },
];

/** One import as written, and the repo file it resolves to (relative imports only). */
interface Import {
  specifier: string;
  line: number;
  /**
   * Repo-relative path with `/`; undefined for a package, '' for a relative import that resolves to
   * nothing.
   */
  target?: string;
}

function sourceFiles(): string[] {
  const files: string[] = [];
  for (const top of SCANNED) {
    for (const entry of readdirSync(join(ROOT, top), { recursive: true, encoding: 'utf8' })) {
      if (entry.endsWith('.ts')) files.push(`${top}/${entry.split(sep).join('/')}`);
    }
  }
  return files.sort();
}

/** Resolves `./x` the way the bundler and Node16 do for these sources: x.ts, x.d.ts, x/index.ts. */
function resolveRelative(fromFile: string, specifier: string): string {
  const base = posix.normalize(posix.join(posix.dirname(fromFile), specifier));
  const withoutJs = base.replace(/\.js$/, '');
  for (const candidate of [
    `${withoutJs}.ts`,
    `${withoutJs}.d.ts`,
    `${withoutJs}/index.ts`,
    base, // a non-TypeScript file named with its extension
  ]) {
    const full = join(ROOT, candidate);
    if (existsSync(full) && statSync(full).isFile()) return candidate;
  }
  return '';
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  // readImportFiles and detectJavaScriptImports: require() calls count too.
  const scanned = ts.preProcessFile(text, true, true);
  return [...scanned.importedFiles, ...scanned.referencedFiles].map(({ fileName, pos }) => ({
    specifier: fileName,
    line: text.slice(0, pos).split('\n').length,
    target: fileName.startsWith('.') ? resolveRelative(file, fileName) : undefined,
  }));
}

const inRoom = (path: string, room: string): boolean =>
  room.endsWith('/') ? path.startsWith(room) : path === room;

/** What `rule` forbids in `file`'s imports, one line each (`file:line imports target`). */
function violations(rule: ImportRule, graph: Map<string, Import[]>): string[] {
  const found: string[] = [];
  for (const [file, imports] of graph) {
    if (!rule.from.some((room) => inRoom(file, room))) continue;
    if (rule.except?.some((room) => inRoom(file, room))) continue;
    for (const { specifier, line, target } of imports) {
      const named = target || specifier;
      const outsideOnly =
        rule.only !== undefined &&
        target !== undefined &&
        !rule.only.some((room) => inRoom(target, room));
      const forbidden = rule.not?.some((room) => inRoom(named, room)) ?? false;
      if (outsideOnly || forbidden) found.push(`${file}:${line} imports ${named}`);
    }
  }
  return found;
}

/** Tarjan's strongly connected components: every circle lies inside one. */
function stronglyConnected(edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return components;
}

/** The shortest circle from `start` back to it inside `component` (breadth first), as a chain. */
function shortestCircle(start: string, component: Set<string>, edges: Map<string, string[]>) {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    for (const next of edges.get(node) ?? []) {
      if (!component.has(next)) continue;
      if (next === start) {
        const chain = [node];
        while (chain[0] !== start) chain.unshift(cameFrom.get(chain[0]!)!);
        return [...chain, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start]; // unreachable for a member of a component with a circle
}

/**
 * Each group of files that reach one another (a strongly connected component), with the
 * shortest circle through each of its files as a chain `a.ts -> b.ts -> a.ts`.
 */
function circles(edges: Map<string, string[]>): string[] {
  const groups: string[] = [];
  for (const component of stronglyConnected(edges)) {
    const members = new Set(component);
    const selfLoop = component.length === 1 && edges.get(component[0]!)!.includes(component[0]!);
    if (component.length === 1 && !selfLoop) continue;
    // One circle read from any of its files is the same circle: keyed by its set of files.
    const chains = new Map<string, string>();
    for (const start of component) {
      const chain = shortestCircle(start, members, edges);
      const key = [...new Set(chain)].sort().join(' ');
      if (!chains.has(key)) chains.set(key, chain.join(' -> '));
    }
    groups.push(
      [`${component.length} files: ${component.join(', ')}`, ...chains.values()].join('\n    '),
    );
  }
  return groups;
}

describe('imports: rooms and arrows', () => {
  const graph = new Map(sourceFiles().map((file) => [file, importsOf(file)]));
  const edges = new Map(
    [...graph].map(([file, imports]) => [
      file,
      [...new Set(imports.flatMap(({ target }) => (target && graph.has(target) ? [target] : [])))],
    ]),
  );

  it("the scanner reads every kind of import this code writes (TypeScript's preProcessFile)", () => {
    const written = [
      "import a from './a';",
      "import type { B } from './b';",
      "export { c } from './c';",
      "export type * from './d';",
      "const e = require('./e');",
      "const f = import('./f');",
      "type G = typeof import('./g');",
    ].join('\n');
    const read = ts.preProcessFile(written, true, true).importedFiles.map((f) => f.fileName);
    assert.deepEqual(read, ['./a', './b', './c', './d', './e', './f', './g']);
    assert.ok(graph.size > 50, `read only ${graph.size} files under ${SCANNED.join(', ')}`);
    assert.ok(edges.get('src/extension.ts')!.length > 0, 'src/extension.ts imports no file');
  });

  it('every relative import names a file', () => {
    const unresolved = [...graph].flatMap(([file, imports]) =>
      imports
        .filter(({ target }) => target === '')
        .map(({ specifier, line }) => `${file}:${line} ${specifier}`),
    );
    assert.deepEqual(unresolved, []);
  });

  for (const rule of RULES) {
    const what = [
      ...(rule.only ? [`only ${rule.only.join(', ')}`] : []),
      ...(rule.not ? [`not ${rule.not.join(', ')}`] : []),
    ].join(', ');
    const except = rule.except ? ` (except ${rule.except.join(', ')})` : '';
    it(`${rule.from.join(', ')}${except} imports ${what}: ${rule.why}`, () => {
      const found = violations(rule, graph);
      assert.equal(found.length, 0, `arrows this rule forbids:\n  ${found.join('\n  ')}`);
    });
  }

  it('no import circle in src/ or webview/ (type-only imports count too)', () => {
    const found = circles(edges);
    assert.equal(found.length, 0, `files in import circles:\n  ${found.join('\n  ')}`);
  });
});
