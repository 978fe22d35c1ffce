#!/usr/bin/env node
// Generates src/dicom/deidentify/profileData.ts from the standard's own table of the
// Basic Application Level Confidentiality Profile and its options (PS3.15 Annex E,
// Table E.1-1), as scraped by innolitics/dicom-standard into
// standard/confidentiality_profile_attributes.json. Re-runnable; the output is committed
// so a fresh machine builds without the scrape.
//
//   node scripts/gen-deid-profile.mjs <git dir of innolitics/dicom-standard>
//   node scripts/gen-deid-profile.mjs <confidentiality_profile_attributes.json> \
//       --attributes <attributes.json> --source "<repo>@<commit> (<date>)"
//
// Given a git directory (a bare mirror will do), both JSON files are read from its HEAD and
// the commit and its date go into the header; given JSON files, --source says where they came
// from, and is required so the header never lies by omission. attributes.json (the same
// scrape's PS3.6 registry) gives each row its VR: the table is newer than the project's
// dictionary for a few attributes, and an Implicit VR file does not carry VRs.
//
// Output, one line per row of Table E.1-1, sorted by tag:
//   "TAG|BASIC|OPTIONS|VR|Name"
// TAG: 8 upper-case hex digits, "x" for a varying digit of a repeating group (PS3.5 §7.6,
// "50xxxxxx", "60xx3000"), or "private" for the "(gggg,eeee) where gggg is odd" row.
// BASIC: the Basic Profile action (D Z X K C U, or combinations such as X/Z/D and X/Z/U*).
// OPTIONS: one character per option column, in the order of OPTION_COLUMNS below, "." when
// the option says nothing about the attribute (the Basic Profile action then applies).
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outFile = join(root, 'src', 'dicom', 'deidentify', 'profileData.ts');
const JSON_PATH_IN_REPO = 'standard/confidentiality_profile_attributes.json';
const ATTRIBUTES_PATH_IN_REPO = 'standard/attributes.json';

/** The option columns of Table E.1-1, in the order their letters are written. */
const OPTION_COLUMNS = [
  'rtnSafePrivOpt',
  'rtnUIDsOpt',
  'rtnDevIdOpt',
  'rtnInstIdOpt',
  'rtnPatCharsOpt',
  'rtnLongFullDatesOpt',
  'rtnLongModifDatesOpt',
  'cleanDescOpt',
  'cleanStructContOpt',
  'cleanGraphOpt',
];
const ACTIONS = /^(D|Z|X|K|C|U|X\/Z|X\/D|Z\/D|X\/Z\/D|X\/Z\/U\*)$/;

function usage(message) {
  console.error(`gen-deid-profile: ${message}`);
  console.error(
    'usage: node scripts/gen-deid-profile.mjs <git dir of innolitics/dicom-standard>\n' +
      '       node scripts/gen-deid-profile.mjs <profile json> --attributes <attributes json> ' +
      '--source "<repo>@<commit> (<date>)"',
  );
  process.exit(2);
}

function readSource() {
  const [input, ...rest] = process.argv.slice(2);
  if (!input) usage('no input given');
  const flag = (name) => {
    const at = rest.indexOf(name);
    return at >= 0 ? rest[at + 1] : undefined;
  };
  if (statSync(input).isDirectory()) {
    const git = (...args) =>
      execFileSync('git', ['-C', input, ...args], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
    const [commit, date] = git('log', '-1', '--format=%H %cI', 'HEAD').trim().split(' ');
    return {
      text: git('show', `HEAD:${JSON_PATH_IN_REPO}`),
      attributes: git('show', `HEAD:${ATTRIBUTES_PATH_IN_REPO}`),
      source: `innolitics/dicom-standard@${commit} (${date}), ${JSON_PATH_IN_REPO}`,
    };
  }
  const source = flag('--source');
  const attributes = flag('--attributes');
  if (!source || !attributes) usage('a JSON file needs --attributes and --source');
  return {
    text: readFileSync(input, 'utf8'),
    attributes: readFileSync(attributes, 'utf8'),
    source,
  };
}

function tagKey(row) {
  if (/^\(GGGG,EEEE\) WHERE GGGG IS ODD$/i.test(row.tag)) return 'private';
  const m = /^\(([0-9A-Fx]{4}),([0-9A-Fx]{4})\)$/i.exec(row.tag);
  if (!m) throw new Error(`gen-deid-profile: unexpected tag "${row.tag}" (${row.name})`);
  return (m[1] + m[2]).toUpperCase().replace(/X/g, 'x');
}

const { text, attributes, source } = readSource();
const rows = JSON.parse(text);
/** VR by the tag as the scrape writes it, "(0010,0010)": the first VR of "OB or OW". */
const vrByTag = new Map(
  JSON.parse(attributes).map((a) => [
    a.tag.toUpperCase(),
    /^[A-Z]{2}/.exec(a.valueRepresentation ?? '')?.[0] ?? '',
  ]),
);
if (!Array.isArray(rows) || rows.length < 500) {
  throw new Error(`gen-deid-profile: expected the ~600 rows of Table E.1-1, got ${rows.length}`);
}
const lines = new Map();
for (const row of rows) {
  const tag = tagKey(row);
  if (!ACTIONS.test(row.basicProfile)) {
    throw new Error(`gen-deid-profile: unexpected action "${row.basicProfile}" for ${row.tag}`);
  }
  const options = OPTION_COLUMNS.map((column) => {
    const value = row[column];
    if (value === undefined || value === '') return '.';
    if (!/^[KC]$/.test(value)) throw new Error(`gen-deid-profile: ${column}="${value}" for ${tag}`);
    return value;
  }).join('');
  // Some names carry a pointer to a note of the table ("Icon Image Sequence (see Note 11)").
  const name = row.name
    .replace(/\(see Note \d+\)/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (/[|\n`$\\]/.test(name)) throw new Error(`gen-deid-profile: unexpected character in ${name}`);
  if (lines.has(tag)) throw new Error(`gen-deid-profile: ${tag} twice`);
  const vr = vrByTag.get(row.tag.toUpperCase()) ?? '';
  lines.set(tag, `${tag}|${row.basicProfile}|${options}|${vr}|${name}`);
}
const sorted = [...lines.keys()].sort().map((tag) => lines.get(tag));
const out = `// GENERATED by scripts/gen-deid-profile.mjs. Do not edit by hand.
// PS3.15 Annex E, Table E.1-1 (Application Level Confidentiality Profile Attributes).
// Source: ${source}
// Format: "TAG|BASIC|OPTIONS|VR|Name", one row of the table a line. TAG is 8 hex digits, "x"
// for a varying digit of a repeating group, or "private" (odd groups, PS3.5 §7.8). OPTIONS has
// one letter per option column, "." where the option leaves the Basic Profile action; VR is
// PS3.6's (the first of "OB or OW"), empty for the private and curve rows. Option columns:
// ${OPTION_COLUMNS.join(' ')}
// ${sorted.length} rows.
export const PROFILE_OPTION_COLUMNS = ${JSON.stringify(OPTION_COLUMNS)} as const;
export const PROFILE_DATA = \`
${sorted.join('\n')}
\`;
`;
writeFileSync(outFile, out);
console.log(`gen-deid-profile: wrote ${sorted.length} rows to ${outFile} (${out.length} bytes)`);
