/**
 * The DICOMweb notebook file (`*.dicomweb.md`): Markdown, with each request cell a fenced
 * code block, so the file reads and diffs as text in git and renders on GitHub.
 *
 * ````markdown
 * Some prose (a Markdown cell).
 *
 * ```dicomweb
 * # @name studies
 * GET /studies?PatientID=123
 * Accept: application/dicom+json
 * ```
 *
 * ```sh
 * curl --request GET "{Service URL}/studies" --header "Accept: application/dicom+json"
 * ```
 * ````
 *
 * A fence whose info string is `dicomweb` or `http` is a request in the HTTP-like syntax; a
 * fence whose info string is `curl`, `sh`, `bash`, `shell` or empty and whose text starts with
 * `curl` (after `# @name`) is a pasted cURL command. Any other fence stays inside Markdown.
 * The opening fence as written is kept on the cell, so a hand-written file comes back with
 * its own fences. Cells are separated by one blank line; a file this module wrote parses and
 * prints back byte for byte. No `vscode` import: the extension's NotebookSerializer is a thin
 * wrapper (src/notebookHost/serializer.ts).
 */

export type CellKind = 'markdown' | 'request';

export interface NotebookCellData {
  kind: CellKind;
  /** Markdown text, or the request text (without the fences). */
  text: string;
  /** Request cells: `dicomweb` (HTTP-like) or `curl`, from the text. */
  language?: 'dicomweb' | 'curl';
  /** Request cells: the opening fence as written (e.g. "```sh"), to print it back. */
  fence?: string;
}

/** A fence opening: up to 3 spaces, 3+ backticks or tildes, an info string (CommonMark §4.5). */
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const REQUEST_INFOS = new Set(['dicomweb', 'http']);
const SHELL_INFOS = new Set(['curl', 'sh', 'bash', 'shell', 'console', '']);

/** The file's cells, in order. Markdown between request fences is one Markdown cell. */
export function parseNotebook(source: string): NotebookCellData[] {
  const lines = source.replace(/\r\n/g, '\n').split('\n');
  const cells: NotebookCellData[] = [];
  let markdown: string[] = [];
  const flushMarkdown = () => {
    const text = trimBlankLines(markdown).join('\n');
    if (text.trim() !== '') cells.push({ kind: 'markdown', text });
    markdown = [];
  };
  for (let index = 0; index < lines.length; index++) {
    const block = fencedBlockAt(lines, index);
    if (!block) {
      markdown.push(lines[index]);
      continue;
    }
    const language = requestLanguage(block.info, block.body);
    if (!language) {
      markdown.push(...lines.slice(index, block.end + 1));
    } else {
      flushMarkdown();
      cells.push({ kind: 'request', text: block.body.join('\n'), language, fence: block.open });
    }
    index = block.end;
  }
  flushMarkdown();
  return cells;
}

/** The file text of cells: one blank line between cells, one newline at the end. */
export function serializeNotebook(cells: readonly NotebookCellData[]): string {
  const parts = cells
    .filter((cell) => cell.kind === 'request' || cell.text.trim() !== '')
    .map((cell) =>
      cell.kind === 'markdown' ? trimBlankLines(cell.text.split('\n')).join('\n') : fenced(cell),
    );
  return parts.length ? `${parts.join('\n\n')}\n` : '';
}

/** The language of a request cell's text: cURL when it starts with `curl`, else HTTP-like. */
export function languageOf(text: string): 'dicomweb' | 'curl' {
  const first = text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '' && !line.startsWith('#'));
  return first !== undefined && /^curl(\s|-|$)/.test(first) ? 'curl' : 'dicomweb';
}

function fenced(cell: NotebookCellData): string {
  const text = cell.text.replace(/\n+$/, '');
  const language = cell.language ?? languageOf(text);
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  // A kept fence is reused while it still says what the cell is (a cell edited from cURL to
  // the HTTP-like form gets a new one) and still encloses the text.
  const keptInfo = cell.fence ? FENCE_OPEN.exec(cell.fence)?.[2] : undefined;
  const wanted =
    cell.fence &&
    keptInfo !== undefined &&
    requestLanguage(keptInfo, text.split('\n')) === language &&
    fenceFits(cell.fence, text)
      ? cell.fence
      : undefined;
  const open = wanted ?? `${'`'.repeat(longest + 1)}${language === 'curl' ? 'sh' : 'dicomweb'}`;
  const close = (/^ {0,3}(`+|~+)/.exec(open) ?? ['', '```'])[1];
  return `${open}\n${text}${text ? '\n' : ''}${close}`;
}

/** Whether a kept fence still encloses the text (a longer backtick run inside would close it). */
function fenceFits(fence: string, text: string): boolean {
  const marker = (/^ {0,3}(`+|~+)/.exec(fence) ?? ['', ''])[1];
  if (!marker) return false;
  return !text.split('\n').some((line) => line.trim().startsWith(marker));
}

function requestLanguage(info: string, body: string[]): 'dicomweb' | 'curl' | undefined {
  const lower = info.toLowerCase();
  if (REQUEST_INFOS.has(lower)) return 'dicomweb';
  if (SHELL_INFOS.has(lower) && languageOf(body.join('\n')) === 'curl') return 'curl';
  return undefined;
}

interface FencedBlock {
  open: string;
  info: string;
  body: string[];
  /** Index of the closing fence line (or the last line when the fence is never closed). */
  end: number;
}

function fencedBlockAt(lines: string[], start: number): FencedBlock | undefined {
  const match = FENCE_OPEN.exec(lines[start]);
  if (!match) return undefined;
  const marker = match[1];
  const closing = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`);
  let end = start + 1;
  while (end < lines.length && !closing.test(lines[end])) end++;
  // An unclosed fence runs to the end of the file (CommonMark §4.5).
  const bodyEnd = Math.min(end, lines.length);
  return {
    open: lines[start].replace(/\s+$/, ''),
    info: match[2],
    body: lines.slice(start + 1, bodyEnd),
    end: Math.min(end, lines.length - 1),
  };
}

function trimBlankLines(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start].trim() === '') start++;
  while (end > start && lines[end - 1].trim() === '') end--;
  return lines.slice(start, end);
}
