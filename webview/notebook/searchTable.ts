/**
 * A search's rows (SEARCH_MIME, src/notebook/searchOutput.ts) as a table in the notebook's
 * output: the status line, the notes, one row per answer row, each with a "Show" button that
 * asks the extension to reveal the row in the DICOMweb tree. A button, not a link: VS Code's
 * output webview runs only its own commands from a clicked `command:` link, so the click is
 * posted to the extension (the renderer's messaging, src/notebookHost/rendererLink.ts). The
 * values stay plain text, so a UID can be selected and copied.
 */
import { revealMessage, type RevealMessage, type SearchOutput } from './searchOutput';

/** The table in the editor's colours; "Show" looks like the link it acts as. */
const STYLE = `
.dicomweb-search { border-collapse: collapse; }
.dicomweb-search th, .dicomweb-search td {
  padding: 2px 10px 2px 0; text-align: left; vertical-align: top;
  border-bottom: 1px solid var(--vscode-editorWidget-border, rgba(128, 128, 128, 0.35));
}
.dicomweb-search code { user-select: text; }
.dicomweb-show {
  background: none; border: none; padding: 0; cursor: pointer; font: inherit;
  color: var(--vscode-textLink-foreground);
}
.dicomweb-show:hover { text-decoration: underline; }
`;

/** Draws the output into `element`; `post` is the renderer's postMessage (absent: no "Show"). */
export function drawSearch(
  output: SearchOutput,
  element: HTMLElement,
  post: ((message: RevealMessage) => void) | undefined,
): void {
  const doc = element.ownerDocument;
  element.append(Object.assign(doc.createElement('style'), { textContent: STYLE }));
  const status = doc.createElement('p');
  status.className = 'dicomweb-status';
  const strong = doc.createElement('strong');
  strong.textContent = output.status.status;
  const code = doc.createElement('code');
  code.textContent = output.status.request;
  status.append(strong, ` · ${output.status.ms} ms · ${output.status.size} · `, code);
  element.append(status);
  if (output.notes.length) {
    const list = doc.createElement('ul');
    for (const note of output.notes)
      list.append(Object.assign(doc.createElement('li'), { textContent: note }));
    element.append(list);
  }
  const count = doc.createElement('p');
  count.textContent = output.total
    ? `${output.total} row${output.total === 1 ? '' : 's'}.`
    : 'No match.';
  element.append(count);
  if (!output.total) return;
  element.append(table(output, doc, post));
  if (output.total > output.rows.length) {
    const more = doc.createElement('p');
    more.textContent = `First ${output.rows.length} of ${output.total} rows; all are in the JSON.`;
    element.append(more);
  }
}

function table(
  output: SearchOutput,
  doc: Document,
  post: ((message: RevealMessage) => void) | undefined,
): HTMLTableElement {
  const showable = post !== undefined && output.connectionId !== undefined;
  const tableElement = doc.createElement('table');
  tableElement.className = 'dicomweb-search';
  const head = doc.createElement('tr');
  if (showable) head.append(doc.createElement('th'));
  for (const column of output.columns) {
    head.append(
      Object.assign(doc.createElement('th'), { textContent: column.keyword, title: column.tag }),
    );
  }
  tableElement.createTHead().append(head);
  const body = tableElement.createTBody();
  output.rows.forEach((row, index) => {
    const tr = doc.createElement('tr');
    if (showable) tr.append(showCell(output, index, doc, post));
    row.values.forEach((value, column) => {
      const td = doc.createElement('td');
      if (output.columns[column]?.uid && value) {
        td.append(Object.assign(doc.createElement('code'), { textContent: value }));
      } else td.textContent = value;
      tr.append(td);
    });
    body.append(tr);
  });
  return tableElement;
}

function showCell(
  output: SearchOutput,
  index: number,
  doc: Document,
  post: (message: RevealMessage) => void,
): HTMLTableCellElement {
  const td = doc.createElement('td');
  const message = revealMessage(output, index);
  if (!message) return td;
  const button = doc.createElement('button');
  button.className = 'dicomweb-show';
  button.textContent = 'Show';
  button.title = `Show ${message.uid} in the DICOMweb tree`;
  button.addEventListener('click', (event) => {
    event.preventDefault();
    post(message);
  });
  td.append(button);
  return td;
}
