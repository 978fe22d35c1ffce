/**
 * The de-identification preview: every attribute that changes, file by file, as Markdown
 * (a read-only document the user reads before confirming).
 *
 * Plain module: no `vscode` import (see docs/style.md, `src/dicom/`).
 */
import { OPTIONS, type DeidentifyOption } from './profile';
import type { FileDeidentification } from './files';

/** At most this many files are listed change by change; the others by name and count. */
export const PREVIEW_DETAILED_FILES = 200;

const ACTION_WORDS: Readonly<Record<string, string>> = {
  X: 'removed',
  Z: 'emptied',
  D: 'dummy',
  U: 'new UID',
  C: 'cleaned',
  set: 'set',
};

/** Markdown of the changes per file, with the options and what they imply. */
export function previewMarkdown(
  title: string,
  options: ReadonlySet<DeidentifyOption>,
  files: readonly FileDeidentification[],
): string {
  const lines = [`# ${escape(title)}`, ''];
  const picked = OPTIONS.filter((o) => options.has(o.option)).map((o) => o.meaning);
  lines.push(
    `Profile: Basic Application Level Confidentiality Profile (PS3.15 Annex E)` +
      (picked.length ? `, with ${picked.join(', ')}.` : ', no options.'),
    '',
    'Private attributes are all removed (the standard data has no list of safe ones). ' +
      'Pixel data is copied unchanged: text burned into the image is not removed.',
    '',
  );
  const failed = files.filter((f) => f.error);
  if (failed.length) {
    lines.push(`## ${failed.length} file(s) that cannot be de-identified`, '');
    for (const file of failed) lines.push(`- \`${file.source}\`: ${escape(file.error!)}`);
    lines.push('');
  }
  const ok = files.filter((f) => !f.error);
  ok.forEach((file, index) => {
    lines.push(`## ${escape(file.source)}`, '');
    if (index >= PREVIEW_DETAILED_FILES) {
      lines.push(
        `${file.changes.length} changes (listed for the first ${PREVIEW_DETAILED_FILES} files only).`,
        '',
      );
      return;
    }
    lines.push('| Path | Keyword | Action | Rule | Before | After |', '|---|---|---|---|---|---|');
    for (const c of file.changes) {
      const cells = [
        c.path,
        c.keyword || '(private)',
        ACTION_WORDS[c.action] ?? c.action,
        c.rule,
        c.before,
        c.after,
      ];
      lines.push(`| ${cells.map(cell).join(' | ')} |`);
    }
    lines.push('');
  });
  return lines.join('\n');
}

/** One table cell: pipes and newlines would break the row. */
function cell(text: string): string {
  return escape(text).replace(/\|/g, '\\|').replace(/\s+/g, ' ');
}

/** Markdown's active characters in values that come from files. */
function escape(text: string): string {
  return text.replace(/[\\`*_<>[\]#]/g, (c) => `\\${c}`);
}
