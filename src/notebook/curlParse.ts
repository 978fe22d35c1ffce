/**
 * A cURL command as pasted from the seed tutorial ("DICOMweb standard APIs with cURL"),
 * read into its parts: method, URL, headers, form files, `--data-binary` body. Written for
 * what people paste: `\` (POSIX), `^` (cmd) and `` ` `` (PowerShell) line continuations, and
 * the tutorial's own form with no continuation at all (each `--option` on its own line).
 * Slips the tutorial itself contains are repaired with a warning, never silently: a quote
 * left open at the end of a line, `curl--request` without a space.
 */

export interface CurlCommand {
  method?: string;
  url?: string;
  headers: Array<[string, string]>;
  /** `--form name=@file;type=…`: the files, in order. */
  formFiles: string[];
  /** `--data-binary @file` (a file) or `--data-binary text`. */
  data?: { file: string } | { text: string };
  warnings: string[];
}

/** Options that take no value and change nothing the notebook sends. */
const IGNORED_FLAGS = new Set([
  '--location',
  '-L',
  '--silent',
  '-s',
  '--show-error',
  '-S',
  '--verbose',
  '-v',
  '--include',
  '-i',
  '--compressed',
  '--fail',
  '-f',
  '--globoff',
  '-g',
]);
/** Options whose value is about where curl writes, not what it sends. */
const IGNORED_WITH_VALUE = new Set(['--output', '-o', '--trace-ascii', '--trace', '--stderr']);

/** Splits a command line into shell words (double and single quotes, backslash escapes). */
export function shellWords(command: string, warnings: string[]): string[] {
  const text = joinContinuations(command);
  const words: string[] = [];
  let word: string | undefined;
  let index = 0;
  const push = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  while (index < text.length) {
    const char = text[index];
    if (char === '\n' || char === ' ' || char === '\t') {
      push();
      index++;
    } else if (char === '"' || char === "'") {
      const read = readQuoted(text, index, warnings);
      word = (word ?? '') + read.value;
      index = read.next;
    } else if (char === '\\' && index + 1 < text.length) {
      word = (word ?? '') + text[index + 1];
      index += 2;
    } else {
      word = (word ?? '') + char;
      index++;
    }
  }
  push();
  return words;
}

/**
 * A backslash, caret or backtick at the end of a line joins the next line (POSIX, cmd,
 * PowerShell). Lines without one are kept apart by a newline, which separates words.
 */
function joinContinuations(command: string): string {
  return command.replace(/\r\n/g, '\n').replace(/[ \t]*[\\^`]\n/g, ' ');
}

/**
 * A quoted string from `start` (the quote). A double quote still open at the end of its line
 * while the next line starts a new option is closed there (the tutorial's second STOW and its
 * study DELETE), with a warning: nobody means a header value that swallows the next option.
 */
function readQuoted(
  text: string,
  start: number,
  warnings: string[],
): { value: string; next: number } {
  const quote = text[start];
  let value = '';
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === quote) return { value, next: index + 1 };
    if (char === '\n' && /^\s*(--?[a-zA-Z]|curl\b|$)/.test(text.slice(index + 1))) {
      warnings.push(
        `A quote was left open at the end of «${value.slice(0, 60)}»; closed it there.`,
      );
      return { value, next: index };
    }
    if (quote === '"' && char === '\\' && /["\\$`]/.test(text[index + 1] ?? '')) {
      value += text[index + 1];
      index += 2;
      continue;
    }
    value += char;
    index++;
  }
  warnings.push(`A quote was never closed: «${value.slice(0, 60)}».`);
  return { value, next: index };
}

/** Whether a cell's text is a cURL command (after comments). */
export function isCurlCommand(text: string): boolean {
  return /^\s*curl(\s|--|$)/.test(withoutComments(text));
}

function withoutComments(text: string): string {
  return text
    .split(/\r?\n/)
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
}

/** Reads a cURL command; unknown options are ignored with a warning, never guessed at. */
export function parseCurl(text: string): CurlCommand {
  const warnings: string[] = [];
  let source = withoutComments(text).trim();
  if (/^curl--/.test(source)) {
    warnings.push('"curl--" had no space after curl; read as "curl --".');
    source = `curl ${source.slice(4)}`;
  }
  const words = shellWords(source, warnings);
  if (words[0] !== 'curl') throw new Error('A cURL cell must start with "curl".');
  const command: CurlCommand = { headers: [], formFiles: [], warnings };
  for (let index = 1; index < words.length; index++) {
    index = readOption(words, index, command);
  }
  return command;
}

/** Reads the option at `index` into `command`; returns the index of its last word. */
function readOption(words: string[], index: number, command: CurlCommand): number {
  const word = words[index];
  const long = /^(--[a-z-]+)=(.*)$/s.exec(word);
  const [name, inline] = long ? [long[1], long[2]] : [word, undefined];
  const value = (): string => {
    if (inline !== undefined) return inline;
    if (index + 1 >= words.length) throw new Error(`${name} needs a value.`);
    index++;
    return words[index];
  };
  if (!name.startsWith('-')) {
    if (command.url) command.warnings.push(`Ignored the extra argument "${name}".`);
    else command.url = name;
  } else if (name === '--request' || name === '-X') command.method = value().toUpperCase();
  else if (name === '--url') command.url = value();
  else if (name === '--header' || name === '-H') command.headers.push(splitHeader(value()));
  else if (name === '--form' || name === '-F') command.formFiles.push(formFile(value()));
  else if (['--data-binary', '--data', '-d', '--data-raw'].includes(name)) {
    const data = value();
    command.data =
      data.startsWith('@') && name !== '--data-raw' ? { file: data.slice(1) } : { text: data };
  } else if (name === '--user' || name === '-u') {
    value();
    command.warnings.push('Dropped --user: the connection supplies the credentials.');
  } else if (IGNORED_WITH_VALUE.has(name)) {
    value();
  } else if (!IGNORED_FLAGS.has(name)) {
    command.warnings.push(`Ignored the option ${name}.`);
  }
  return index;
}

function splitHeader(header: string): [string, string] {
  const colon = header.indexOf(':');
  if (colon <= 0) throw new Error(`The header "${header.slice(0, 60)}" has no "Name: value" form.`);
  return [header.slice(0, colon).trim(), header.slice(colon + 1).trim()];
}

/** `file1=@path;type=application/dicom` → `path` (only file parts make sense for STOW). */
function formFile(form: string): string {
  const match = /^[^=]*=@([^;]+)/.exec(form);
  if (!match) {
    throw new Error(
      `--form "${form.slice(0, 60)}" is not a file (name=@path): STOW-RS sends files.`,
    );
  }
  return match[1].replace(/^"|"$/g, '');
}
