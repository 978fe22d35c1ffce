/**
 * The contract between `npm run bench` (bench/runner.ts) and each `bench/*.bench.ts`
 * module. A module exports `async function run(ctx: BenchContext): Promise<BenchResult[]>`;
 * import these types with `import type` so nothing of the runner is bundled into it.
 */

/** One measured figure. `pass` is left out for figures that have no target. */
export interface BenchResult {
  /** Stable, dotted name, e.g. `client.store.ratioToRaw`; the module's name first. */
  name: string;
  value: number;
  /** `ms`, `MB/s`, `instances/s`, `×`, `MB` … */
  unit: string;
  /** Human form of the target, e.g. `≥ 0.9× raw undici`. */
  target?: string;
  pass?: boolean;
  /** What was measured, repeats, medians: shown under the results table. */
  details?: string;
}

export interface BenchContext {
  /** DICOMweb base URL of the running Orthanc, e.g. `http://127.0.0.1:PORT/dicom-web`. */
  orthancDicomWebUrl: string;
  /** Orthanc's own REST root, e.g. `http://127.0.0.1:PORT` (the client's `serverRoot`). */
  orthancRestUrl: string;
  /** A scratch folder of this module, removed after it ran. */
  tmpDir: string;
  /** Prints a progress line (prefixed with the module name). */
  log: (line: string) => void;
  /**
   * Stops Orthanc and starts an empty one, on the same port when it can (the URLs above
   * are updated in place when it cannot). Open keep-alive connections to the old server
   * die with it: create clients after the reset.
   */
  resetOrthanc: () => Promise<void>;
  /**
   * Parts of the module asked for with `--only module:part,…`; `wants(part)` is true for
   * every part when none were named. Modules without parts may ignore it.
   */
  wants: (part: string) => boolean;
}

export type BenchRun = (ctx: BenchContext) => Promise<BenchResult[]>;
