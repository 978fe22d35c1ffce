/**
 * The seed tutorial's three sample instances (Azure DICOM service "Using DICOMweb Standard
 * APIs with cURL": green-square, red-triangle, blue-circle, with the tutorial's exact UIDs),
 * shipped as files in `media/samples/` and copied where "Add Sample Data" and the CLI's
 * `--seed` put them. They are data, not code: scripts/gen-samples.mjs made them once with
 * the test-support Part 10 writer, and test/server/samples.test.ts holds them byte for byte
 * to what that generator makes, so they cannot drift from the tutorial.
 *
 * Plain Node: no `vscode` import.
 */
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The sample files, in the tutorial's table order. */
export const SAMPLE_FILE_NAMES = ['green-square.dcm', 'red-triangle.dcm', 'blue-circle.dcm'];

/**
 * How far above this code `media/samples` may be: `out/src/server/` is three folders below
 * the root that holds `media/`, `dist/server/` two, `dist/` one. No further, so files that
 * went missing from a package are reported, not taken from some folder above the install.
 */
export const SAMPLES_SEARCH_LEVELS = 3;

/**
 * `media/samples` of the extension (or of the repository), found upward from this code:
 * `dist/` (the extension bundle), `dist/server/` (the server's bundle) and `out/src/server/`
 * (compiled for the tests and the demo) all lie below the folder that holds `media/`.
 */
export async function samplesDir(from = __dirname): Promise<string> {
  for (let dir = from, level = 0; level <= SAMPLES_SEARCH_LEVELS; dir = dirname(dir), level++) {
    const candidate = join(dir, 'media', 'samples');
    const found = await access(join(candidate, SAMPLE_FILE_NAMES[0]!)).then(
      () => true,
      () => false,
    );
    if (found) return candidate;
  }
  throw new Error(
    `the sample files (media/samples) were not found within ${SAMPLES_SEARCH_LEVELS} folders above ${from}`,
  );
}

/**
 * Writes green-square.dcm, red-triangle.dcm and blue-circle.dcm into `dir` (created if
 * needed, files there replaced) and returns their paths in the tutorial's table order.
 * Read and written, not copied: a copy would keep the mode of a read-only install.
 */
export async function writeSeedFiles(dir: string): Promise<string[]> {
  const source = await samplesDir();
  await mkdir(dir, { recursive: true });
  return Promise.all(
    SAMPLE_FILE_NAMES.map(async (name) => {
      const path = join(dir, name);
      await writeFile(path, await readFile(join(source, name)));
      return path;
    }),
  );
}
