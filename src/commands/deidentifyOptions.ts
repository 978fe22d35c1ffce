/**
 * The de-identification options (PS3.15 §E.3) picked in one QuickPick, shared by "Save
 * De-identified Copy…" and "Upload De-identified…"; the last choice is remembered (global
 * state, not a setting: it is a habit, not a configuration of the workspace).
 */
import * as vscode from 'vscode';
import { EXCLUSIVE_OPTIONS, OPTIONS, type DeidentifyOption } from '../dicom/deidentify/profile';
import type { Services } from '../services';
import { UserCancelled } from './registerCommand';

const REMEMBERED = 'dicomweb.deidentify.options';

/**
 * Before anything was remembered: dates shifted per patient, so intervals between studies
 * stay true for testing, and nothing else kept.
 */
export const DEFAULT_DEIDENTIFY_OPTIONS: readonly DeidentifyOption[] = [
  'retainLongitudinalModifiedDates',
];

/** Options a command was given (tests, other commands), or the user's pick. */
export async function pickDeidentifyOptions(
  services: Services,
  given?: readonly DeidentifyOption[],
): Promise<DeidentifyOption[]> {
  if (given) return checked(given);
  const state = services.extensionContext.globalState;
  const remembered = state.get<DeidentifyOption[]>(REMEMBERED) ?? DEFAULT_DEIDENTIFY_OPTIONS;
  const picks = await vscode.window.showQuickPick(
    OPTIONS.map((info) => ({
      label: info.meaning.replace(/ Option$/, ''),
      detail: info.detail,
      picked: remembered.includes(info.option),
      option: info.option,
    })),
    {
      canPickMany: true,
      title: 'De-identify: Basic Application Level Confidentiality Profile (PS3.15 Annex E)',
      placeHolder:
        'Options to apply on top of the Basic Profile (none ticked: the Basic Profile alone)',
      ignoreFocusOut: true,
    },
  );
  if (!picks) throw new UserCancelled();
  const chosen = checked(picks.map((pick) => pick.option));
  await state.update(REMEMBERED, chosen);
  return chosen;
}

function checked(options: readonly DeidentifyOption[]): DeidentifyOption[] {
  const known = new Set(OPTIONS.map((o) => o.option));
  const unknown = options.filter((o) => !known.has(o));
  if (unknown.length) throw new Error(`Unknown de-identification option: ${unknown.join(', ')}.`);
  for (const [a, b] of EXCLUSIVE_OPTIONS) {
    if (options.includes(a) && options.includes(b)) {
      throw new Error(
        'Pick either full dates or modified dates: both say what to do with every date (PS3.15 §E.3.6).',
      );
    }
  }
  return [...options];
}
