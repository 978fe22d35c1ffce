/**
 * Notebook commands of "every request as code" (issue 15): a request cell copied as cURL,
 * Python or JavaScript (dicomweb-client), and the whole notebook exported as a shell script
 * of cURL commands. The printed code names the chosen connection's URL and headers; the
 * credential is always a placeholder (src/notebook/code.ts, src/dicomweb/curl.ts).
 */
import * as vscode from 'vscode';
import type { ClientFactory } from '../config/clients';
import type { ConnectionStore } from '../config/connections';
import { toCurl } from '../dicomweb/curl';
import type { CodeOptions } from '../notebook/code';
import { toJavaScript } from '../notebook/codeJavaScript';
import { toPython } from '../notebook/codePython';
import type { NotebookCellData } from '../notebook/format';
import { parseRequestCell } from '../notebook/request';
import { notebookToShell } from '../notebook/shellScript';

export interface CodeCommandDeps {
  connections: ConnectionStore;
  clients: ClientFactory;
}

const FORMATS = [
  { id: 'curl', label: 'cURL', print: (spec, options) => toCurl(spec, options) },
  { id: 'python', label: 'Python (dicomweb-client)', print: toPython },
  { id: 'javascript', label: 'JavaScript (dicomweb-client)', print: toJavaScript },
] satisfies Array<{ id: string; label: string; print: typeof toPython }>;

/**
 * From the cell's or notebook's toolbar the commands ask (a quick pick of the format and, with
 * several connections, of the connection; a save dialog). Tests and automation pass the
 * answers instead, as the tree's commands take theirs:
 *   copyCellAsCode(cell?, format?: 'curl' | 'python' | 'javascript', connectionId?)
 *   exportShell(notebookUri?, target?: Uri, connectionId?)
 */
export function registerCodeCommands(deps: CodeCommandDeps): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(
      'dicomweb.notebook.copyCellAsCode',
      (cell?: vscode.NotebookCell, format?: unknown, connectionId?: unknown) =>
        report(copyCellAsCode(deps, cell, textArg(format), textArg(connectionId))),
    ),
    vscode.commands.registerCommand(
      'dicomweb.notebook.exportShell',
      (notebook?: unknown, target?: unknown, connectionId?: unknown) =>
        report(
          exportShell(
            deps,
            notebook instanceof vscode.Uri ? notebook : undefined,
            target instanceof vscode.Uri ? target : undefined,
            textArg(connectionId),
          ),
        ),
    ),
  ];
}

/** A string argument; whatever else VS Code passes from a toolbar (its context) is no answer. */
function textArg(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

async function report(work: Promise<unknown>): Promise<unknown> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof Cancelled) return undefined;
    void vscode.window.showErrorMessage(error instanceof Error ? error.message : String(error));
    return undefined;
  }
}

class Cancelled extends Error {}

/** The connection whose URL the code names: the one named, the only one, or the one picked. */
async function connectionOptions(
  deps: CodeCommandDeps,
  connectionId?: string,
): Promise<CodeOptions> {
  const connections = deps.connections.list();
  if (connections.length === 0)
    throw new Error('Add a DICOMweb server first: the code names its URL.');
  const named = connectionId && connections.find((entry) => entry.id === connectionId);
  if (connectionId && !named) throw new Error(`There is no connection ${connectionId}.`);
  const connection = named
    ? named
    : connections.length === 1
      ? connections[0]!
      : (
          await vscode.window.showQuickPick(
            connections.map((entry) => ({ label: entry.name, description: entry.url, entry })),
            { title: 'Which server should the code talk to?' },
          )
        )?.entry;
  if (!connection) throw new Cancelled();
  return (await deps.clients.get(connection)).codeConnection();
}

async function copyCellAsCode(
  deps: CodeCommandDeps,
  cell?: vscode.NotebookCell,
  formatId?: string,
  connectionId?: string,
): Promise<string> {
  const target = cell ?? activeCell();
  if (!target || target.kind !== vscode.NotebookCellKind.Code) {
    throw new Error('Select a request cell to copy.');
  }
  const format = formatId
    ? FORMATS.find((entry) => entry.id === formatId)
    : await vscode.window.showQuickPick(FORMATS, { title: 'Copy the request as' });
  if (!format && formatId) {
    throw new Error(`No such code format: ${formatId} (curl, python or javascript).`);
  }
  if (!format) throw new Cancelled();
  const options = await connectionOptions(deps, connectionId);
  const request = parseRequestCell(target.document.getText(), options.baseUrl);
  const text = format.print(request.spec, options);
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage(
    `Copied as ${format.label} (the credential is a placeholder)`,
    4000,
  );
  return text;
}

function activeCell(): vscode.NotebookCell | undefined {
  const editor = vscode.window.activeNotebookEditor;
  const index = editor?.selection.start;
  return editor && index !== undefined ? editor.notebook.cellAt(index) : undefined;
}

async function exportShell(
  deps: CodeCommandDeps,
  notebookUri?: vscode.Uri,
  chosenTarget?: vscode.Uri,
  connectionId?: string,
): Promise<vscode.Uri | undefined> {
  const notebook = notebookUri
    ? vscode.workspace.notebookDocuments.find(
        (doc) => doc.uri.toString() === notebookUri.toString(),
      )
    : vscode.window.activeNotebookEditor?.notebook;
  if (!notebook) throw new Error('Open a DICOMweb notebook to export.');
  const options = await connectionOptions(deps, connectionId);
  const cells = notebook.getCells().map((cell): NotebookCellData => ({
    kind: cell.kind === vscode.NotebookCellKind.Markup ? 'markdown' : 'request',
    text: cell.document.getText(),
  }));
  const target =
    chosenTarget ??
    (await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(notebook.uri.fsPath.replace(/(\.dicomweb)?\.md$/, '.sh')),
      filters: { 'Shell script': ['sh'] },
    }));
  if (!target) throw new Cancelled();
  await vscode.workspace.fs.writeFile(target, Buffer.from(notebookToShell(cells, options), 'utf8'));
  vscode.window.setStatusBarMessage(
    `Exported ${target.fsPath} (the credential is a placeholder)`,
    4000,
  );
  return target;
}
