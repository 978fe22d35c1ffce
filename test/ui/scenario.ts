/**
 * A tiny registry for UI scenarios: each `test/ui/*.ui.ts` file calls `scenario(...)` at
 * load time and `run.ts` runs them one after another (each starts its own workbench, so
 * they do not run in parallel).
 */
export interface UiScenario {
  name: string;
  file: string;
  /** Per-scenario timeout; the runner's default applies when absent. */
  timeoutMs?: number;
  run: () => Promise<void>;
}

const registered: UiScenario[] = [];
let currentFile = '';

/** Declares a UI scenario. */
export function scenario(
  name: string,
  run: () => Promise<void>,
  options: { timeoutMs?: number } = {},
): void {
  registered.push({ name, file: currentFile, run, ...options });
}

/** Used by the runner: loads one scenario file and returns what it declared. */
export function loadScenarioFile(file: string): UiScenario[] {
  currentFile = file;
  const before = registered.length;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous on purpose: currentFile names the file while its scenarios register
  require(file);
  return registered.slice(before);
}
