/**
 * The notebook file (`*.dicomweb.md`, src/notebook/format.ts): Markdown with request cells as
 * fenced blocks. What the serializer writes comes back byte for byte; hand-written files keep
 * their own fences; fences that are not requests stay Markdown.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  languageOf,
  parseNotebook,
  serializeNotebook,
  type NotebookCellData,
} from '../../src/notebook/format';

const TUTORIAL = readFileSync(
  join(__dirname, '../../../test/fixtures/azure-tutorial-curl.zh-CN.md'),
  'utf8',
);

const cells: NotebookCellData[] = [
  { kind: 'markdown', text: '# Store and search\n\nThe three samples.' },
  {
    kind: 'request',
    text: '# @name stored\nPOST /studies\n\n< ./red-triangle.dcm\n< ./blue-circle.dcm',
  },
  { kind: 'request', text: 'curl --request GET "{Service URL}/studies"' },
  { kind: 'markdown', text: 'Some `code` and\n\n```js\nconsole.log(1)\n```' },
  { kind: 'request', text: 'GET /studies/{{stored.0.StudyInstanceUID}}/metadata' },
];

describe('notebook format', () => {
  it('writes request cells as fences a Markdown renderer shows as code', () => {
    const text = serializeNotebook(cells);
    assert.match(text, /^```dicomweb\n# @name stored\nPOST \/studies\n/m);
    assert.match(text, /^```sh\ncurl --request GET/m);
    assert.ok(text.endsWith('```\n'));
  });

  it('reads back what it wrote, and writes it again byte for byte', () => {
    const text = serializeNotebook(cells);
    const parsed = parseNotebook(text);
    assert.deepEqual(
      parsed.map(({ kind, text: cellText }) => ({ kind, text: cellText })),
      cells.map(({ kind, text: cellText }) => ({ kind, text: cellText })),
    );
    assert.deepEqual(
      parsed.map((cell) => cell.language),
      [undefined, 'dicomweb', 'curl', undefined, 'dicomweb'],
    );
    assert.equal(serializeNotebook(parsed), text);
  });

  it('keeps a request cell whose text holds a fence inside a longer fence', () => {
    const tricky: NotebookCellData[] = [
      { kind: 'request', text: 'POST /studies\nContent-Type: text/plain\n\n```\nnot a fence end' },
    ];
    const text = serializeNotebook(tricky);
    assert.match(text, /^````dicomweb$/m);
    assert.equal(parseNotebook(text)[0].text, tricky[0].text);
    assert.equal(serializeNotebook(parseNotebook(text)), text);
  });

  it('opens the tutorial itself: every curl block is a cell, the prose stays Markdown', () => {
    const parsed = parseNotebook(TUTORIAL);
    const requests = parsed.filter((cell) => cell.kind === 'request');
    assert.equal(requests.length, (TUTORIAL.match(/^curl/gm) ?? []).length);
    assert.ok(requests.every((cell) => cell.language === 'curl' && cell.fence === '```'));
    assert.equal(parsed[0].kind, 'markdown');
    assert.match(parsed[0].text, /^---\ntitle:/);
    // Hand-written: printing it again keeps every cell.
    const again = serializeNotebook(parsed);
    assert.deepEqual(parseNotebook(again), parsed);
    // Nothing but whitespace between cells may change.
    assert.equal(again.replace(/\s+/g, ''), TUTORIAL.replace(/\s+/g, ''));
  });

  it('reads CRLF files and an unclosed fence without losing text', () => {
    const parsed = parseNotebook('Intro\r\n\r\n```dicomweb\r\nGET /studies\r\n');
    assert.deepEqual(
      parsed.map((cell) => [cell.kind, cell.text]),
      [
        ['markdown', 'Intro'],
        ['request', 'GET /studies\n'],
      ],
    );
  });

  it('tells cURL from the HTTP-like syntax after the name line', () => {
    assert.equal(languageOf('# @name a\ncurl --url x'), 'curl');
    assert.equal(languageOf('curl--request GET x'), 'curl');
    assert.equal(languageOf('# @name a\nGET /studies'), 'dicomweb');
  });

  it('writes an empty notebook as an empty file and drops empty Markdown cells', () => {
    assert.equal(serializeNotebook([]), '');
    assert.equal(serializeNotebook([{ kind: 'markdown', text: '  \n' }]), '');
  });
});
