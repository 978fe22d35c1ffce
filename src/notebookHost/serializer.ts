/**
 * The `*.dicomweb.md` notebook as VS Code sees it: a thin NotebookSerializer over the
 * vscode-free format (src/notebook/format.ts). Request cells are code cells of language
 * `dicomweb` (HTTP-like) or `shellscript` (cURL); the fence they were read with rides in the
 * cell's metadata so a hand-written file is written back with its own fences.
 */
import * as vscode from 'vscode';
import { parseNotebook, serializeNotebook, type NotebookCellData } from '../notebook/format';

export const NOTEBOOK_TYPE = 'dicomweb-notebook';
export const REQUEST_LANGUAGE = 'dicomweb';
export const CURL_LANGUAGE = 'shellscript';

export class DicomWebNotebookSerializer implements vscode.NotebookSerializer {
  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    const cells = parseNotebook(new TextDecoder().decode(content)).map((cell) => {
      if (cell.kind === 'markdown') {
        return new vscode.NotebookCellData(vscode.NotebookCellKind.Markup, cell.text, 'markdown');
      }
      const data = new vscode.NotebookCellData(
        vscode.NotebookCellKind.Code,
        cell.text,
        cell.language === 'curl' ? CURL_LANGUAGE : REQUEST_LANGUAGE,
      );
      data.metadata = { fence: cell.fence };
      return data;
    });
    return new vscode.NotebookData(cells);
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    const cells = data.cells.map((cell): NotebookCellData =>
      cell.kind === vscode.NotebookCellKind.Markup
        ? { kind: 'markdown', text: cell.value }
        : {
            kind: 'request',
            text: cell.value,
            fence: typeof cell.metadata?.fence === 'string' ? cell.metadata.fence : undefined,
          },
    );
    return new TextEncoder().encode(serializeNotebook(cells));
  }
}
