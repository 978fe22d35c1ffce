/**
 * The benchmark runner behind `npm run bench` (scripts/bench.mjs bundles it and every
 * `bench/*.bench.ts` with esbuild, then calls {@link main}).
 *
 * It starts a fresh Orthanc, runs the selected modules one after another (each on an empty
 * server, with its own scratch folder), stops Orthanc, writes
 * `bench/results/<date>-<machine>.json` and regenerates `BENCHMARKS.md`. A missed target
 * is a measurement, not a failure: the exit code is 0 unless a module crashed.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, hostname, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { basename, join, relative } from 'node:path';
import { startOrthanc, type OrthancInstance } from '../test/support/orthanc';
import { round } from './stats';
import type { BenchContext, BenchResult, BenchRun } from './types';

export interface BenchModuleFile {
  /** `client` for bench/client.bench.ts */
  name: string;
  /** The bundled module (CommonJS). */
  file: string;
}

export interface RunnerOptions {
  /** Repository root. */
  root: string;
  modules: BenchModuleFile[];
  /** `--only`: module names, or `module:part` for parts of a module. */
  only?: string[];
}

export interface MachineInfo {
  hostname: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  kernel: string;
  curl?: string;
}

export interface ModuleRecord {
  ranAt: string;
  durationSeconds: number;
  /** 1-minute load average when the module started and ended (other work on the machine). */
  loadAverage: { start: number; end: number };
  /** The `--only` parts this record covers, when not the whole module. */
  parts?: string[];
  results: BenchResult[];
  error?: string;
  /** How a partial re-run was merged into the day's record. */
  note?: string;
  /** Merged records: when each re-run part last ran, and when the rest of the module ran. */
  partRuns?: Record<string, string>;
  baseRanAt?: string;
}

export interface ResultsFile {
  date: string;
  machine: MachineInfo;
  orthanc: { version?: string; dicomWebPlugin?: string };
  modules: Record<string, ModuleRecord>;
}

export async function main(options: RunnerOptions): Promise<number> {
  const selection = parseOnly(
    options.only,
    options.modules.map((m) => m.name),
  );
  const modules = options.modules.filter((m) => selection.has(m.name));
  if (modules.length === 0) {
    console.error(
      `bench: nothing to run (modules: ${options.modules.map((m) => m.name).join(', ') || 'none'})`,
    );
    return 2;
  }

  const machine = machineInfo();
  console.log(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.os}`,
  );

  let orthanc: OrthancInstance | undefined;
  const stopOrthanc = async (): Promise<void> => {
    const current = orthanc;
    orthanc = undefined;
    if (current) await current.stop().catch(() => undefined);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\nbench: ${signal}, stopping Orthanc`);
    void stopOrthanc().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = new Date();
  const records: Record<string, ModuleRecord> = {};
  let crashed = 0;
  let orthancInfo: ResultsFile['orthanc'] = {};
  try {
    orthanc = await startOrthanc({ name: 'bench' });
    orthancInfo = await orthancVersions(orthanc.restUrl);
    console.log(
      `Orthanc ${orthancInfo.version ?? '?'} (DICOMweb plugin ${orthancInfo.dicomWebPlugin ?? '?'}) on ${orthanc.restUrl}, pid ${orthanc.pid}`,
    );

    for (const [index, module] of modules.entries()) {
      console.log(`\n=== bench: ${module.name} ===`);
      if (index > 0) await restart();
      const parts = selection.get(module.name) ?? [];
      const tmpDir = mkdtempSync(join(tmpdir(), `dicomweb-bench-${module.name}-`));
      const ctx: BenchContext = {
        orthancDicomWebUrl: orthanc!.dicomWebUrl,
        orthancRestUrl: orthanc!.restUrl,
        tmpDir,
        log: (line) => console.log(`  [${module.name}] ${line}`),
        resetOrthanc: async () => {
          await restart();
          ctx.orthancDicomWebUrl = orthanc!.dicomWebUrl;
          ctx.orthancRestUrl = orthanc!.restUrl;
        },
        wants: (part) => parts.length === 0 || parts.includes(part),
      };
      const t0 = performance.now();
      const record: ModuleRecord = {
        ranAt: new Date().toISOString(),
        durationSeconds: 0,
        loadAverage: { start: round(loadavg()[0]!, 2), end: 0 },
        results: [],
      };
      if (parts.length) record.parts = parts;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- each bench module is a bundled CommonJS file named at run time
        const loaded = require(module.file) as { run?: BenchRun };
        if (typeof loaded.run !== 'function') throw new Error(`${module.file} exports no run(ctx)`);
        const results = await loaded.run(ctx);
        for (const result of results) {
          record.results.push(result);
          console.log(`  ${formatLine(result)}`);
        }
      } catch (error) {
        crashed++;
        record.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
        console.error(`  ${module.name} CRASHED: ${record.error}`);
      } finally {
        rmSync(tmpDir, { recursive: true, force: true });
      }
      record.durationSeconds = round((performance.now() - t0) / 1000, 1);
      record.loadAverage.end = round(loadavg()[0]!, 2);
      console.log(`  (${module.name}: ${record.durationSeconds} s)`);
      records[module.name] = record;
    }
  } finally {
    await stopOrthanc();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  async function restart(): Promise<void> {
    const port = orthanc?.port;
    const old = orthanc;
    orthanc = undefined;
    if (old) {
      // Its data is thrown away: kill it outright (a graceful stop takes 2-8 s here) and
      // wait for the exit, so that nothing of it still answers on the port reused below.
      try {
        process.kill(old.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await old.stop().catch(() => undefined);
    }
    try {
      orthanc = await startOrthanc({ name: 'bench', port });
    } catch {
      // The port was not free again yet: any port will do.
      orthanc = await startOrthanc({ name: 'bench' });
    }
  }

  const date = started.toISOString().slice(0, 10);
  const resultsDir = join(options.root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${date}-${machineSlug(machine)}.json`);
  // A partial run (`--only`) keeps the other modules' records: from the same day's file, or
  // on a new day from the machine's newest earlier file (each record keeps its own `ranAt`,
  // which BENCHMARKS.md prints), so the table always shows every module's latest figures.
  const previous = readResults(file) ?? newestEarlier(resultsDir, machineSlug(machine));
  const modulesRecords: Record<string, ModuleRecord> = { ...(previous?.modules ?? {}) };
  for (const [name, record] of Object.entries(records)) {
    const before = modulesRecords[name];
    if (record.parts?.length && before && !before.error) {
      // Only some parts ran: keep the earlier figures of the other parts of this module.
      const ran = (result: BenchResult): boolean =>
        record.parts!.some(
          (part) => result.name === `${name}.${part}` || result.name.startsWith(`${name}.${part}.`),
        );
      // A part's results need not be named after it (preview:j2k writes preview.jpeg2000.*):
      // a result of the same name as one just measured is replaced too, never kept twice.
      const measured = new Set(record.results.map((result) => result.name));
      const kept = before.results.filter((result) => !ran(result) && !measured.has(result.name));
      const order = (result: BenchResult): number =>
        before.results.findIndex((r) => r.name === result.name);
      const merged = [...kept, ...record.results].sort((a, b) => order(a) - order(b));
      const wereParts = before.parts?.length ? before.parts : undefined;
      // One line however many re-runs: each part's latest run, and the run the rest is from.
      const partRuns: Record<string, string> = { ...before.partRuns };
      for (const part of record.parts) partRuns[part] = record.ranAt;
      const olderBase = /the run of (\d\d:\d\d) UTC\)?$/.exec(before.note ?? '')?.[1];
      const baseRanAt =
        before.baseRanAt ??
        (wereParts
          ? olderBase
            ? `${before.ranAt.slice(0, 11)}${olderBase}`
            : undefined
          : before.ranAt);
      const hhmm = (iso: string): string => iso.slice(11, 16);
      modulesRecords[name] = {
        ...record,
        parts: wereParts ? [...new Set([...wereParts, ...record.parts])] : undefined,
        results: merged,
        partRuns,
        baseRanAt,
        note: `${Object.entries(partRuns)
          .map(([part, at]) => `part ${part} re-run at ${hhmm(at)} UTC`)
          .join(
            ', ',
          )}; the others from ${baseRanAt ? `the run of ${hhmm(baseRanAt)} UTC` : 'earlier runs'}`,
      };
    } else {
      modulesRecords[name] = record;
    }
  }
  const results: ResultsFile = {
    date,
    machine,
    orthanc: orthancInfo,
    modules: modulesRecords,
  };
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const markdown = join(options.root, 'BENCHMARKS.md');
  writeFileSync(markdown, renderMarkdown(results, relative(options.root, file), options.root));

  const all = Object.values(records).flatMap((r) => r.results);
  const missed = all.filter((r) => r.pass === false);
  console.log('\n=== summary ===');
  for (const result of all.filter((r) => r.pass !== undefined))
    console.log(`  ${formatLine(result)}`);
  console.log(`\nresults: ${relative(options.root, file)}; table: BENCHMARKS.md`);
  if (missed.length) {
    console.log(`MISSED ${missed.length} target(s):`);
    for (const result of missed)
      console.log(
        `  MISSED ${result.name}: ${format(result.value)} ${result.unit} (target ${result.target})`,
      );
  } else {
    console.log(`all ${all.filter((r) => r.pass !== undefined).length} targets met`);
  }
  if (crashed) console.log(`${crashed} module(s) crashed (see above)`);
  return crashed ? 1 : 0;
}

/**
 * `npm run bench -- --render-only`: rewrites BENCHMARKS.md from the newest results file
 * (after editing the renderer, or a results file by hand) without measuring anything.
 */
export function renderLatest(root: string): string | undefined {
  const dir = join(root, 'bench', 'results');
  const newest = listResults(dir)
    .map((file) => ({ file, mtime: statSync(join(dir, file)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime)[0];
  const results = newest && readResults(join(dir, newest.file));
  if (!newest || !results) return undefined;
  const relativePath = `bench/results/${newest.file}`;
  writeFileSync(join(root, 'BENCHMARKS.md'), renderMarkdown(results, relativePath, root));
  return relativePath;
}

/** `--only a,b:part` → module → parts (empty = all parts). */
function parseOnly(only: string[] | undefined, names: string[]): Map<string, string[]> {
  const selection = new Map<string, string[]>();
  if (!only || only.length === 0) {
    for (const name of names) selection.set(name, []);
    return selection;
  }
  const whole = new Set<string>();
  for (const item of only
    .flatMap((o) => o.split(','))
    .map((o) => o.trim())
    .filter(Boolean)) {
    const [name, part] = item.split(':', 2) as [string, string | undefined];
    if (!names.includes(name))
      throw new Error(`bench: unknown module "${name}"; known: ${names.join(', ')}`);
    if (!part) whole.add(name);
    const parts = selection.get(name) ?? [];
    if (part && !parts.includes(part)) parts.push(part);
    selection.set(name, parts);
  }
  for (const name of whole) selection.set(name, []);
  return selection;
}

function machineInfo(): MachineInfo {
  const list = cpus();
  let os = `${type()} ${release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(
      readFileSync('/etc/os-release', 'utf8'),
    )?.[1];
    if (pretty) os = pretty;
  } catch {
    // not Linux: keep type + release
  }
  let curl: string | undefined;
  try {
    curl = /^curl (\S+)/.exec(execFileSync('curl', ['--version'], { encoding: 'utf8' }))?.[1];
  } catch {
    curl = undefined;
  }
  return {
    hostname: hostname(),
    cpuModel: (list[0]?.model ?? 'unknown cpu').replace(/\s+/g, ' ').trim(),
    cores: list.length,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    os,
    kernel: release(),
    curl,
  };
}

/** `vm-amd-epyc-2c`: host name, CPU model and core count, safe for a file name. */
function machineSlug(machine: MachineInfo): string {
  const slug = (text: string): string =>
    text
      .toLowerCase()
      .replace(/\((r|tm)\)/g, '')
      .replace(/\b(processor|cpu|with|radeon|graphics)\b.*$/, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40);
  return [slug(machine.hostname), slug(machine.cpuModel), `${machine.cores}c`]
    .filter(Boolean)
    .join('-');
}

async function orthancVersions(restUrl: string): Promise<ResultsFile['orthanc']> {
  const json = async (path: string): Promise<Record<string, unknown> | undefined> => {
    try {
      const response = await fetch(`${restUrl}${path}`);
      return response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const system = await json('/system');
  const plugin = await json('/plugins/dicom-web');
  return {
    version: typeof system?.Version === 'string' ? system.Version : undefined,
    dicomWebPlugin: typeof plugin?.Version === 'string' ? plugin.Version : undefined,
  };
}

/** The newest results file of this machine (by its dated name), if any. */
function newestEarlier(dir: string, slug: string): ResultsFile | undefined {
  const newest = listResults(dir).find((file) => file.endsWith(`-${slug}.json`));
  return newest ? readResults(join(dir, newest)) : undefined;
}

function readResults(file: string): ResultsFile | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
  } catch {
    return undefined;
  }
}

function verdict(result: BenchResult): string {
  return result.pass === undefined ? '' : result.pass ? 'ok' : 'MISSED';
}

function formatLine(result: BenchResult): string {
  const target = result.target ? ` (target ${result.target})` : '';
  const mark = verdict(result);
  return `${result.name}: ${format(result.value)} ${result.unit}${target}${mark ? ` ${mark}` : ''}`;
}

/** Three significant digits, no exponent for the sizes we see. */
export function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1000) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(results: ResultsFile, resultsPath: string, root: string): string {
  const m = results.machine;
  const lines: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/runner.ts); edit bench/README.md instead. -->',
    '',
    `Latest run: **${results.date}** on \`${m.hostname}\`: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ` +
      `Node ${m.node}, ${m.os} (kernel ${m.kernel}), curl ${m.curl ?? '?'}, ` +
      `Orthanc ${results.orthanc.version ?? '?'} with DICOMweb plugin ${results.orthanc.dicomWebPlugin ?? '?'}, all on 127.0.0.1.`,
    '',
    `Raw figures: [\`${resultsPath}\`](${resultsPath}). What each number means and how it is measured: ` +
      '[bench/README.md](bench/README.md). Targets come from issue 2 ("Speed and memory"); a missed ' +
      'target is reported, not hidden.',
    '',
  ];
  for (const [name, record] of Object.entries(results.modules)) {
    lines.push(`## ${name}`, '');
    const partial = record.parts?.length ? `, parts: ${record.parts.join(', ')}` : '';
    const load = record.loadAverage
      ? `, 1-min load average ${record.loadAverage.start} → ${record.loadAverage.end} on ${m.cores} cores`
      : '';
    lines.push(
      `Ran ${record.ranAt.replace('T', ' ').slice(0, 16)} UTC, ${record.durationSeconds} s${partial}${load}.${record.note ? ` (${record.note}.)` : ''}`,
      '',
    );
    if (record.error)
      lines.push(`**The module crashed:** \`${cell(record.error.split('\n')[0] ?? '')}\``, '');
    if (record.results.length) {
      lines.push('| Benchmark | Value | Target | Pass |', '|---|---:|---|:---:|');
      for (const r of record.results) {
        const pass = r.pass === undefined ? '' : r.pass ? 'yes' : '**MISSED**';
        lines.push(
          `| \`${r.name}\` | ${format(r.value)} ${cell(r.unit)} | ${cell(r.target ?? '')} | ${pass} |`,
        );
      }
      lines.push('');
      const notes = record.results.filter((r) => r.details);
      if (notes.length) {
        lines.push('<details><summary>How each figure was measured</summary>', '');
        for (const r of notes) lines.push(`- \`${r.name}\`: ${r.details}`);
        lines.push('', '</details>', '');
      }
    }
  }
  const history = listResults(join(root, 'bench', 'results'));
  if (history.length > 1) {
    lines.push('## Earlier runs', '');
    for (const file of history.filter((f) => f !== basename(resultsPath)))
      lines.push(`- [\`bench/results/${file}\`](bench/results/${file})`);
    lines.push('');
  }
  return lines.join('\n');
}

function listResults(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .reverse();
}
