/**
 * DICOMweb Explorer. `activate` only builds services and registers: no network here, so
 * activation stays cheap; every client is created on first use.
 */
import * as vscode from 'vscode';
import { ClientFactory } from './config/clients';
import { ConnectionStore } from './config/connections';
import { CredentialGate } from './config/credentialGate';
import { registerCommands } from './commands';
import { uploadUris } from './commands/upload';
import { trackUpsertContext } from './commands/upsertContext';
import { FILE_JSON_SCHEME, FileJsonDocumentProvider } from './documents/fileJsonDocuments';
import { METADATA_SCHEME, MetadataDocumentProvider } from './documents/metadataDocuments';
import { TAG_DOCUMENTS, TagHoverProvider, TagInlayHintsProvider } from './documents/tagHints';
import {
  DICOM_EDITOR_ANY_VIEW_TYPE,
  DICOM_EDITOR_VIEW_TYPE,
  DicomEditorProvider,
} from './editor/DicomEditorProvider';
import { LocalServerManager } from './localServerHost/LocalServerManager';
import { registerNotebooks } from './notebookHost/controllers';
import { rendererMessageHandler, type RendererMessageHandler } from './notebookHost/rendererLink';
import { PreviewManager } from './preview/PreviewManager';
import { ThumbnailRegistry } from './thumbnails/connection';
import { ThumbnailThread } from './thumbnails/decodeWorker';
import { ThumbnailGridManager } from './thumbnailsHost/ThumbnailGridManager';
import { ThumbnailTooltips } from './thumbnailsHost/tooltip';
import type { UserPrompts } from './config/prompts';
import type { Services } from './services';
import { ChangeFeedTreeProvider } from './tree/ChangeFeedTreeProvider';
import { DicomWebTreeProvider } from './tree/DicomWebTreeProvider';
import { watchChangeFeedView } from './tree/nodes/ChangeFeedNode';
import type { DicomWebNode, TreeContext } from './tree/nodes/DicomWebNode';
import { UploadDropController } from './tree/dragAndDrop';

/** What activate returns: the services, for the integration tests in the extension host. */
export interface DicomWebExplorerApi {
  services: Services;
  activationMs: number;
  /**
   * What the notebook renderer's messages run (src/notebookHost/rendererLink.ts; stateless,
   * the listener's twin): the tests drive what a click in an output posts with it (no API
   * sends a renderer's message into the extension host).
   */
  notebookRendererMessage: RendererMessageHandler;
}

const modalPrompts: UserPrompts = {
  async confirm(message, detail, action) {
    const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, action);
    return choice === action;
  },
  async askSecret(title, prompt) {
    return vscode.window.showInputBox({ title, prompt, password: true, ignoreFocusOut: true });
  },
};

export function activate(context: vscode.ExtensionContext): DicomWebExplorerApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('DICOMweb', { log: true });
  const connections = new ConnectionStore(context.secrets);
  // Services is filled before any command or request can run; the parts below read it lazily.
  const services = {} as Services;
  const credentials = new CredentialGate(context.globalState, () => services.prompts, log);
  const clients = new ClientFactory(connections, log, () => services.prompts, credentials);
  const thumbnailParts = thumbnailServices(context, log, services);
  const tree = new DicomWebTreeProvider(connections, {
    ...nodeContext(clients, log, context),
    decorateTooltip: thumbnailParts.decorateTooltip,
  });
  const metadata = new MetadataDocumentProvider(connections, clients);
  const previews = new PreviewManager(context.extensionUri, log);
  const dicomEditor = new DicomEditorProvider(context.extensionUri, log);
  const localServer = new LocalServerManager(context, connections, log);
  const drop = new UploadDropController((target, uris) =>
    uploadUris(services, uris, target).then(() => undefined),
  );
  const treeView = vscode.window.createTreeView('dicomweb.servers', {
    treeDataProvider: tree,
    showCollapseAll: true,
    canSelectMany: true,
    dragAndDropController: drop,
  });
  Object.assign(services, {
    extensionContext: context,
    log,
    connections,
    clients,
    credentials,
    tree,
    treeView,
    drop,
    metadata,
    previews,
    thumbnails: thumbnailParts.grids,
    thumbnailThread: thumbnailParts.thread,
    dicomEditor,
    localServer,
    prompts: modalPrompts,
    ...createChangeFeedView(connections, clients, log, context),
  } satisfies Services);

  const inlayHints = new TagInlayHintsProvider();
  context.subscriptions.push(
    log,
    connections,
    clients,
    tree,
    treeView,
    metadata,
    previews,
    thumbnailParts.grids,
    dicomEditor,
    localServer,
    inlayHints,
    ...registerDicomEditors(dicomEditor),
    vscode.workspace.registerTextDocumentContentProvider(METADATA_SCHEME, metadata),
    vscode.workspace.registerTextDocumentContentProvider(
      FILE_JSON_SCHEME,
      new FileJsonDocumentProvider(log),
    ),
    vscode.languages.registerHoverProvider(TAG_DOCUMENTS, new TagHoverProvider()),
    vscode.languages.registerInlayHintsProvider(TAG_DOCUMENTS, inlayHints),
    ...registerCommands(services),
    trackUpsertContext(connections),
    ...registerNotebooks({ connections, clients, localServer, log }),
  );
  if (
    vscode.workspace.getConfiguration('dicomweb').get<boolean>('localServer.startOnStartup', false)
  ) {
    // Only when the person asked for it; activation itself stays on the view or a command.
    void localServer
      .start()
      .catch((error: unknown) => log.error(`Local DICOMweb server: ${(error as Error).message}`));
  }
  const activationMs = performance.now() - started;
  log.info(`DICOMweb Explorer activated in ${activationMs.toFixed(1)} ms`);
  return { services, activationMs, notebookRendererMessage: rendererMessageHandler(log) };
}

export function deactivate(): void {}

/** The DICOM file editor, under both of its view types. */
function registerDicomEditors(dicomEditor: DicomEditorProvider): vscode.Disposable[] {
  return [DICOM_EDITOR_VIEW_TYPE, DICOM_EDITOR_ANY_VIEW_TYPE].map((viewType) =>
    vscode.window.registerCustomEditorProvider(viewType, dicomEditor, {
      // As the preview: cine position, window, zoom, expanded rows and filter survive
      // switching tabs (the page would otherwise start over).
      webviewOptions: { retainContextWhenHidden: true },
      supportsMultipleEditorsPerDocument: true,
    }),
  );
}

/**
 * Thumbnails: one registry (a cache and a bound on requests in flight per connection)
 * shared by the tree's tooltips and the grids; a grid's tile opens the preview.
 */
function thumbnailServices(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  services: Services,
): {
  decorateTooltip: ThumbnailTooltips['decorate'];
  grids: ThumbnailGridManager;
  thread: ThumbnailThread;
} {
  // Tooltips' frames are decoded in a worker thread, never on the host's event loop.
  const thread = new ThumbnailThread({
    script: vscode.Uri.joinPath(context.extensionUri, 'dist', 'thumbnailWorker.js').fsPath,
  });
  context.subscriptions.push({ dispose: () => thread.dispose() });
  const registry = new ThumbnailRegistry({
    log: (line) => log.debug(`thumbnails: ${line}`),
    decode: thread.decode,
  });
  return {
    thread,
    decorateTooltip: new ThumbnailTooltips(registry, log).decorate,
    grids: new ThumbnailGridManager(context.extensionUri, registry, log, (client, target, title) =>
      services.previews.showInstance(client, target, title),
    ),
  };
}
/** What the tree views' rows need: the connection's client, the page size, state and log. */
function nodeContext(
  clients: ClientFactory,
  log: vscode.LogOutputChannel,
  context: vscode.ExtensionContext,
): Omit<TreeContext, 'changed'> {
  return {
    client: (connection) => clients.get(connection),
    pageSize: () => vscode.workspace.getConfiguration('dicomweb').get<number>('pageSize', 50),
    workspaceState: context.workspaceState,
    log,
  };
}

/** The "Change Feed" view and the events that start and stop following (ChangeFeedNode.ts). */
function createChangeFeedView(
  connections: ConnectionStore,
  clients: ClientFactory,
  log: vscode.LogOutputChannel,
  context: vscode.ExtensionContext,
): { changeFeed: ChangeFeedTreeProvider; changeFeedView: vscode.TreeView<DicomWebNode> } {
  const changeFeed = new ChangeFeedTreeProvider(connections, nodeContext(clients, log, context));
  const changeFeedView = vscode.window.createTreeView('dicomweb.changeFeed', {
    treeDataProvider: changeFeed,
    showCollapseAll: true,
  });
  context.subscriptions.push(
    changeFeed,
    changeFeedView,
    watchChangeFeedView(changeFeedView, () => changeFeed.feedRows()),
  );
  return { changeFeed, changeFeedView };
}
