/**
 * A connection is the kernel: every configured DICOMweb connection, and the local server,
 * is a notebook controller of the `*.dicomweb.md` notebooks. Running a cell sends it with
 * that connection's client (src/config/clients.ts), so its credentials, TLS and server
 * profile apply; the notebook itself never holds a credential. The list follows the
 * connections as they are added, edited and removed.
 */
import { dirname } from 'node:path';
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import type { ClientFactory } from '../config/clients';
import type { ConnectionStore } from '../config/connections';
import type { ServerConnection } from '../config/serverConnection';
import {
  LOCAL_CONNECTION_ID,
  type LocalServerManager,
} from '../localServerHost/LocalServerManager';
import { NotebookRun } from '../notebook/cells';
import { cellOutputGroups } from '../notebook/render';
import { DicomWebFrameSource, type InstanceTarget } from '../preview/frameSource';
import type { DicomWebClient } from '../dicomweb/client';
import { registerCodeCommands } from './codeCommands';
import { listenToRenderer, rendererMessageHandler } from './rendererLink';
import {
  CURL_LANGUAGE,
  DicomWebNotebookSerializer,
  NOTEBOOK_TYPE,
  REQUEST_LANGUAGE,
} from './serializer';

/** The controller id of a connection (the tests select a kernel by it). */
export function controllerId(connectionId: string): string {
  return `dicomweb-notebook-${connectionId}`;
}

export interface NotebookControllerDeps {
  connections: ConnectionStore;
  clients: ClientFactory;
  localServer: LocalServerManager;
  log: vscode.LogOutputChannel;
}

/**
 * Notebooks (issue 15): the `*.dicomweb.md` file format, one kernel per connection, the
 * code commands, and the renderer's messages (a click on a search row's "Show").
 */
export function registerNotebooks(deps: NotebookControllerDeps): vscode.Disposable[] {
  return [
    vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new DicomWebNotebookSerializer()),
    new NotebookControllers(deps),
    ...registerCodeCommands(deps),
    listenToRenderer(rendererMessageHandler(deps.log)),
  ];
}

export class NotebookControllers implements vscode.Disposable {
  private readonly controllers = new Map<string, vscode.NotebookController>();
  /** One run state per notebook and kernel: named answers belong to the server they came from. */
  private readonly runs = new Map<string, NotebookRun>();
  private readonly toldAboutAuthorization = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private order = 0;

  constructor(private readonly deps: NotebookControllerDeps) {
    this.sync();
    this.subscriptions.push(
      deps.connections.onDidChange(() => this.sync()),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => this.forget(notebook)),
    );
  }

  /** Creates a controller per connection (the local server always has one) and drops stale ones. */
  private sync(): void {
    const wanted = new Map<string, ServerConnection | undefined>(
      this.deps.connections.list().map((connection) => [connection.id, connection]),
    );
    if (!wanted.has(LOCAL_CONNECTION_ID)) wanted.set(LOCAL_CONNECTION_ID, undefined);
    for (const [id, controller] of this.controllers) {
      if (!wanted.has(id)) {
        controller.dispose();
        this.controllers.delete(id);
      }
    }
    for (const [id, connection] of wanted) {
      const controller = this.controllers.get(id) ?? this.create(id);
      controller.label = connection?.name ?? 'Local DICOMweb server';
      controller.description = connection?.url ?? 'started when a cell runs';
    }
  }

  private create(connectionId: string): vscode.NotebookController {
    const controller = vscode.notebooks.createNotebookController(
      controllerId(connectionId),
      NOTEBOOK_TYPE,
      connectionId,
    );
    controller.supportedLanguages = [REQUEST_LANGUAGE, CURL_LANGUAGE];
    controller.supportsExecutionOrder = true;
    controller.executeHandler = (cells, notebook) =>
      this.execute(connectionId, controller, cells, notebook);
    this.controllers.set(connectionId, controller);
    return controller;
  }

  private async execute(
    connectionId: string,
    controller: vscode.NotebookController,
    cells: vscode.NotebookCell[],
    notebook: vscode.NotebookDocument,
  ): Promise<void> {
    for (const cell of cells) {
      const execution = controller.createNotebookCellExecution(cell);
      execution.executionOrder = ++this.order;
      execution.start(Date.now());
      const aborter = new AbortController();
      const cancel = execution.token.onCancellationRequested(() => aborter.abort());
      try {
        const ok = await this.runCell(connectionId, cell, notebook, execution, aborter.signal);
        execution.end(ok, Date.now());
      } finally {
        cancel.dispose();
      }
      // Cells run top to bottom: once one is cancelled the rest are not sent.
      if (aborter.signal.aborted) break;
    }
  }

  private async runCell(
    connectionId: string,
    cell: vscode.NotebookCell,
    notebook: vscode.NotebookDocument,
    execution: vscode.NotebookCellExecution,
    signal: AbortSignal,
  ): Promise<boolean> {
    let result;
    try {
      const run = this.runOf(notebook, connectionId);
      result =
        run.refusal() ??
        (await run.runCell(await this.clientOf(connectionId), cell.document.getText(), signal));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await execution.replaceOutput(
        new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text(message, 'text/plain')]),
      );
      return false;
    }
    await execution.replaceOutput(
      cellOutputGroups(result.outputs).map(
        (group) =>
          new vscode.NotebookCellOutput(
            group.map((output) =>
              output.bytes
                ? new vscode.NotebookCellOutputItem(output.bytes, output.mime)
                : vscode.NotebookCellOutputItem.text(output.data, output.mime),
            ),
          ),
      ),
    );
    if (result.droppedAuthorization) this.tellAboutAuthorization(notebook);
    return result.ok;
  }

  /** The connection's client; the local server is started first when it is not running. */
  private async clientOf(connectionId: string) {
    if (connectionId === LOCAL_CONNECTION_ID && !this.deps.localServer.running) {
      await this.deps.localServer.start();
    }
    const connection = this.deps.connections.list().find((entry) => entry.id === connectionId);
    if (!connection) throw new Error('This connection no longer exists: pick another kernel.');
    return this.deps.clients.get(connection);
  }

  private runOf(notebook: vscode.NotebookDocument, connectionId: string): NotebookRun {
    const key = `${notebook.uri.toString()}\n${connectionId}`;
    let run = this.runs.get(key);
    if (!run) {
      run = new NotebookRun(
        folderOf(notebook),
        {},
        readFrameInfo,
        connectionId,
        () => vscode.workspace.isTrusted,
      );
      this.runs.set(key, run);
    }
    return run;
  }

  /** Said once per notebook: the pasted header is not an error, but the person should know. */
  private tellAboutAuthorization(notebook: vscode.NotebookDocument): void {
    const key = notebook.uri.toString();
    if (this.toldAboutAuthorization.has(key)) return;
    this.toldAboutAuthorization.add(key);
    void vscode.window.showInformationMessage(
      'The Authorization headers pasted in this notebook are not sent: each cell uses the credentials of the connection you chose as the kernel.',
    );
  }

  private forget(notebook: vscode.NotebookDocument): void {
    const prefix = `${notebook.uri.toString()}\n`;
    for (const key of [...this.runs.keys()]) if (key.startsWith(prefix)) this.runs.delete(key);
    this.toldAboutAuthorization.delete(notebook.uri.toString());
  }

  dispose(): void {
    for (const controller of this.controllers.values()) controller.dispose();
    this.controllers.clear();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}

/** A frames cell's instance header, read as the preview reads it (its WADO-RS metadata). */
async function readFrameInfo(
  client: DicomWebClient,
  instance: InstanceTarget,
  signal?: AbortSignal,
): Promise<unknown> {
  return (await new DicomWebFrameSource(client, instance).open(signal)).info;
}

/** Where relative file paths of a notebook start: its folder, else the workspace's, else home. */
function folderOf(notebook: vscode.NotebookDocument): string {
  if (notebook.uri.scheme === 'file') return dirname(notebook.uri.fsPath);
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? homedir();
}
