/**
 * The Basic Application Level Confidentiality Profile and its options (PS3.15 Annex E,
 * Table E.1-1), read from the table generated out of the standard's own data
 * (profileData.ts, scripts/gen-deid-profile.mjs): which action applies to an attribute for
 * the options a user picked.
 *
 * Plain module: no `vscode` import (see docs/style.md, `src/dicom/`).
 */
import { PROFILE_DATA, PROFILE_OPTION_COLUMNS } from './profileData';

/** An action of PS3.15 §E.1.1 as written in Table E.1-1, combinations included. */
export type ProfileAction =
  'D' | 'Z' | 'X' | 'K' | 'C' | 'U' | 'X/Z' | 'X/D' | 'Z/D' | 'X/Z/D' | 'X/Z/U*';

/**
 * An option of PS3.15 §E.3 the user can pick, by what it does. "Retain Safe Private" is not
 * among them: the list of safe private attributes (PS3.15 Table E.3.10-1) is not in the
 * standard's data this table is generated from, so every private attribute is removed.
 */
export type DeidentifyOption =
  | 'retainUids'
  | 'retainDeviceIdentity'
  | 'retainInstitutionIdentity'
  | 'retainPatientCharacteristics'
  | 'retainLongitudinalFullDates'
  | 'retainLongitudinalModifiedDates'
  | 'cleanDescriptors'
  | 'cleanStructuredContent'
  | 'cleanGraphics';

/** What the UI and the De-identification Method Code Sequence need to know of an option. */
export interface OptionInfo {
  option: DeidentifyOption;
  /** Column of Table E.1-1 (innolitics/dicom-standard's name for it). */
  column: (typeof PROFILE_OPTION_COLUMNS)[number];
  /** CID 7050 "De-identification Method" code (PS3.16), scheme DCM. */
  code: string;
  /** Its code meaning, as PS3.16 words it. */
  meaning: string;
  /** One line for people choosing it. */
  detail: string;
}

/** CID 7050 (PS3.16): the code of the Basic Profile itself. */
export const BASIC_PROFILE_CODE = {
  code: '113100',
  meaning: 'Basic Application Confidentiality Profile',
};

/** The options, in the order of PS3.15 §E.3 and of the picker. */
export const OPTIONS: readonly OptionInfo[] = [
  {
    option: 'retainUids',
    column: 'rtnUIDsOpt',
    code: '113110',
    meaning: 'Retain UIDs Option',
    detail: 'Keep Study, Series, SOP Instance and other UIDs as they are (PS3.15 §E.3.9)',
  },
  {
    option: 'retainDeviceIdentity',
    column: 'rtnDevIdOpt',
    code: '113109',
    meaning: 'Retain Device Identity Option',
    detail: 'Keep station names, serial numbers, device UIDs (PS3.15 §E.3.8)',
  },
  {
    option: 'retainInstitutionIdentity',
    column: 'rtnInstIdOpt',
    code: '113112',
    meaning: 'Retain Institution Identity Option',
    detail: 'Keep institution name, address and department (PS3.15 §E.3.11)',
  },
  {
    option: 'retainPatientCharacteristics',
    column: 'rtnPatCharsOpt',
    code: '113108',
    meaning: 'Retain Patient Characteristics Option',
    detail: 'Keep age, sex, size, weight and the like (PS3.15 §E.3.7)',
  },
  {
    option: 'retainLongitudinalFullDates',
    column: 'rtnLongFullDatesOpt',
    code: '113106',
    meaning: 'Retain Longitudinal Temporal Information Full Dates Option',
    detail: 'Keep every date and time unchanged (PS3.15 §E.3.6)',
  },
  {
    option: 'retainLongitudinalModifiedDates',
    column: 'rtnLongModifDatesOpt',
    code: '113107',
    meaning: 'Retain Longitudinal Temporal Information Modified Dates Option',
    detail: 'Shift every date by one offset per patient, so intervals stay true (PS3.15 §E.3.6)',
  },
  {
    option: 'cleanDescriptors',
    column: 'cleanDescOpt',
    code: '113105',
    meaning: 'Clean Descriptors Option',
    detail: 'Keep descriptive attributes present but blanked, instead of removed (PS3.15 §E.3.5)',
  },
  {
    option: 'cleanStructuredContent',
    column: 'cleanStructContOpt',
    code: '113104',
    meaning: 'Clean Structured Content Option',
    detail: 'Keep SR content and acquisition context, de-identified inside (PS3.15 §E.3.4)',
  },
  {
    option: 'cleanGraphics',
    column: 'cleanGraphOpt',
    code: '113103',
    meaning: 'Clean Graphics Option',
    detail:
      'Recorded, but overlays and curves are still removed: they cannot be cleaned here (PS3.15 §E.3.3)',
  },
];

/** Options that contradict each other: both say what to do with the same dates. */
export const EXCLUSIVE_OPTIONS: ReadonlyArray<readonly [DeidentifyOption, DeidentifyOption]> = [
  ['retainLongitudinalFullDates', 'retainLongitudinalModifiedDates'],
];

/** One row of Table E.1-1. */
export interface ProfileRow {
  /** 8 hex digits, "x" for a varying digit of a repeating group, or "private". */
  tag: string;
  basic: ProfileAction;
  /** The option columns' letters ("K" retain, "C" clean), by column. */
  options: Partial<Record<(typeof PROFILE_OPTION_COLUMNS)[number], 'K' | 'C'>>;
  /** PS3.6 VR (the first of "OB or OW"); "" for the private and curve rows. */
  vr: string;
  /** The attribute's name as the table gives it. */
  name: string;
}

let rows: ProfileRow[] | undefined;
let exact: Map<number, ProfileRow> | undefined;
let patterns: Array<{ mask: number; value: number; row: ProfileRow }> | undefined;

/** Every row of Table E.1-1, parsed from the generated data on first use. */
export function profileRows(): readonly ProfileRow[] {
  if (rows) return rows;
  rows = [];
  for (const line of PROFILE_DATA.split('\n')) {
    if (!line) continue;
    const [tag, basic, letters, vr, name] = line.split('|') as [
      string,
      ProfileAction,
      string,
      string,
      string,
    ];
    const options: ProfileRow['options'] = {};
    PROFILE_OPTION_COLUMNS.forEach((column, i) => {
      const letter = letters[i];
      if (letter === 'K' || letter === 'C') options[column] = letter;
    });
    rows.push({ tag, basic, options, vr, name });
  }
  return rows;
}

function index(): void {
  exact = new Map();
  patterns = [];
  for (const row of profileRows()) {
    if (row.tag === 'private') continue;
    if (!row.tag.includes('x')) {
      exact.set(parseInt(row.tag, 16) >>> 0, row);
      continue;
    }
    // "60xx3000": the x digits vary (PS3.5 §7.6); match on the others.
    let mask = 0;
    for (const digit of row.tag) mask = ((mask << 4) | (digit === 'x' ? 0 : 0xf)) >>> 0;
    const value = parseInt(row.tag.replace(/x/g, '0'), 16) >>> 0;
    patterns.push({ mask, value, row });
  }
}

/**
 * The row of Table E.1-1 for a standard (even group) tag, exact or through a repeating
 * group pattern (overlays 60xx, curves 50xx), or undefined when the table does not list it.
 * Private tags have their own row, {@link privateRow}.
 */
export function profileRowFor(tag: number): ProfileRow | undefined {
  if (!exact || !patterns) index();
  const found = exact!.get(tag);
  if (found) return found;
  for (const pattern of patterns!) {
    if ((tag & pattern.mask) >>> 0 === pattern.value) return pattern.row;
  }
  return undefined;
}

/** The "(gggg,eeee) where gggg is odd" row. */
export function privateRow(): ProfileRow {
  const row = profileRows().find((r) => r.tag === 'private');
  if (!row) throw new Error('profileData.ts has no row for private attributes; regenerate it');
  return row;
}

/** An action after options and combinations are resolved: what the engine does. */
export type ResolvedAction = 'D' | 'Z' | 'X' | 'K' | 'C' | 'U';

/** Where a resolved action came from, for the preview. */
export interface Resolution {
  action: ResolvedAction;
  /** The table's own action before resolution ("X/Z/D", or "K" from an option). */
  tableAction: string;
  /** The option that decided it, when one did. */
  option?: DeidentifyOption;
}

/**
 * The action for a row under the chosen options. An option's letter replaces the Basic
 * Profile action (PS3.15 §E.3); when two chosen options disagree, retaining (K) wins over
 * cleaning (C), since the user asked to keep that information.
 *
 * Combined actions (PS3.15 §E.1.1) choose between removing and keeping a value by the
 * attribute's type in the IOD (Type 3, 2 or 1). The IOD of every file is not known here, so
 * the choice that keeps any IOD conformant is taken: X/Z → Z, X/D, Z/D, X/Z/D → D, and
 * X/Z/U* → U (the sequence stays, the UIDs in it are replaced).
 */
export function resolveAction(row: ProfileRow, chosen: ReadonlySet<DeidentifyOption>): Resolution {
  let decided: { letter: 'K' | 'C'; option: DeidentifyOption } | undefined;
  for (const info of OPTIONS) {
    if (!chosen.has(info.option)) continue;
    const letter = row.options[info.column];
    if (letter === 'K' || (letter === 'C' && decided?.letter !== 'K')) {
      decided = { letter, option: info.option };
    }
  }
  if (decided)
    return { action: decided.letter, tableAction: decided.letter, option: decided.option };
  return { action: COMBINED[row.basic], tableAction: row.basic };
}

const COMBINED: Readonly<Record<ProfileAction, ResolvedAction>> = {
  D: 'D',
  Z: 'Z',
  X: 'X',
  K: 'K',
  C: 'C',
  U: 'U',
  'X/Z': 'Z',
  'X/D': 'D',
  'Z/D': 'D',
  'X/Z/D': 'D',
  'X/Z/U*': 'U',
};
