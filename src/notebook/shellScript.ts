/**
 * A notebook as a POSIX shell script: each request cell as the seed tutorial's cURL command
 * (src/dicomweb/curl.ts), each Markdown cell as comments, in the notebook's order. The
 * credential stays a placeholder; a cell that cannot be read is kept as a comment with why.
 */
import { toCurl, type CurlOptions } from '../dicomweb/curl';
import type { NotebookCellData } from './format';
import { parseRequestCell } from './request';

export function notebookToShell(
  cells: readonly NotebookCellData[],
  options: Omit<CurlOptions, 'continuation'>,
): string {
  const out = [
    '#!/bin/sh',
    '# Exported from a DICOMweb notebook. Replace the credential placeholder before running.',
    'set -e',
  ];
  for (const cell of cells) {
    out.push('');
    if (cell.kind === 'markdown') {
      out.push(...comment(cell.text));
      continue;
    }
    if (/\{\{/.test(cell.text)) {
      // {{name.field}} takes its value from an earlier cell's answer when the notebook runs;
      // a shell script has no such answer to read (see src/notebook/variables.ts).
      out.push(
        '# This cell uses values of earlier answers ({{...}}); fill them in:',
        ...comment(cell.text),
      );
      continue;
    }
    try {
      const request = parseRequestCell(cell.text, options.baseUrl);
      if (request.name) out.push(`# @name ${request.name}`);
      out.push(toCurl(request.spec, options));
    } catch (error) {
      out.push(
        `# Not exported: ${error instanceof Error ? error.message : String(error)}`,
        ...comment(cell.text),
      );
    }
  }
  return `${out.join('\n')}\n`;
}

function comment(text: string): string[] {
  return text.split(/\r?\n/).map((line) => (line ? `# ${line}` : '#'));
}
