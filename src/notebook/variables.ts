/**
 * What a cell's text may leave to run time, replaced before it is read (request.ts):
 *
 * - The tutorial's placeholders, single braces: `{Service URL}` (also `{Service URL}/v{version}`:
 *   a connection's URL carries its version) becomes the chosen connection, so the path is
 *   what remains; `{path-to-dicoms}` and `{dicoms}` become the notebook's folder. `{token value}`
 *   only ever stands in an Authorization header, which is dropped anyway.
 * - References to an earlier named cell's answer, double braces:
 *   `{{name.row.Keyword}}` or `{{name.row.ggggeeee}}` (row from 0; `{{name.Keyword}}` is row 0).
 *   The answer of a search or metadata cell is its DICOM JSON array; of a STOW cell, one row per
 *   stored instance with its Study, Series and SOP Instance UIDs.
 */
import { getString } from '../dicom/json';
import type { DicomJsonDataset } from '../dicom/types';
import { resolveTag } from '../dicom/dictionary';

export interface RunContext {
  /** The notebook's folder: `{path-to-dicoms}` and relative `< file` paths. */
  folder: string;
  /** Answers of the named cells run so far, by name. */
  answers: ReadonlyMap<string, readonly DicomJsonDataset[]>;
}

const SERVICE_URL = /\{Service URL\}(?:\/v\{version\})?/gi;
const FOLDER = /\{(?:path-to-dicoms|dicoms)\}/gi;
const REFERENCE = /\{\{\s*([A-Za-z_][\w-]*)(?:\.(\d+))?\.([A-Za-z0-9]+)\s*\}\}/g;
const LEFTOVER = /\{\{[^}]*\}\}|\{[A-Za-z][\w -]*\}/;

/** The text with every placeholder and reference replaced; throws on one it cannot fill. */
export function resolveCellText(text: string, context: RunContext): string {
  const folder = context.folder.replace(/[\\/]+$/, '').replace(/\\/g, '/');
  const resolved = text
    .replace(SERVICE_URL, '')
    .replace(FOLDER, folder)
    .replace(REFERENCE, (_all, name: string, row: string | undefined, attribute: string) =>
      referenceValue(context, name, row === undefined ? 0 : Number(row), attribute),
    );
  for (const line of resolved.split('\n')) {
    if (/authorization|token value/i.test(line)) continue;
    const left = LEFTOVER.exec(line);
    if (left) {
      throw new Error(
        `${left[0]} is not something a notebook fills in: use {Service URL}, {path-to-dicoms} or {{cell.row.Keyword}}.`,
      );
    }
  }
  return resolved;
}

function referenceValue(context: RunContext, name: string, row: number, attribute: string): string {
  const answer = context.answers.get(name);
  if (!answer) {
    throw new Error(
      `{{${name}…}} refers to a cell named "${name}" that has not run yet: run it first.`,
    );
  }
  if (row >= answer.length) {
    throw new Error(`The cell "${name}" answered ${answer.length} row(s); there is no row ${row}.`);
  }
  const tag = resolveTag(attribute);
  if (!tag) throw new Error(`"${attribute}" is neither a DICOM keyword nor a tag (ggggeeee).`);
  const value = getString(answer[row], tag);
  if (value === undefined) {
    throw new Error(`Row ${row} of the cell "${name}" has no ${attribute}.`);
  }
  return value;
}
