/** Every command, registered in one place behind one error wrapper; one file per command. */
import type * as vscode from 'vscode';
import type { Services } from '../services';
import type { StudyFilter } from '../tree/filter';
import type { FeedWindow } from '../tree/nodes/ChangeFeedNode';
import type { DicomWebNode } from '../tree/nodes/DicomWebNode';
import type { InstanceNode } from '../tree/nodes/InstanceNode';
import type { SeriesNode } from '../tree/nodes/SeriesNode';
import type { ResourceNode } from '../tree/nodes/resourceNode';
import type { ServerNode } from '../tree/nodes/ServerNode';
import { addSampleData } from './addSampleData';
import { addServer, editServer, removeServer, type ServerInput } from './addServer';
import {
  followChangeFeed,
  openChangeFeedEntry,
  pickChangeFeedWindow,
  revealChangeFeedEntry,
} from './changeFeed';
import { copyAsCode, copyCurl } from './copyCurl';
import { copyLocalServerToken } from './copyLocalServerToken';
import { copyLocalServerUrl } from './copyLocalServerUrl';
import { copyServerUrl } from './copyServerUrl';
import { tagRowCommands } from './copyTagRow';
import { copyUid } from './copyUid';
import { deleteNodes } from './deleteNodes';
import { download } from './download';
import {
  addExtendedQueryTag,
  deleteExtendedQueryTag,
  setExtendedQueryTagQuery,
} from './extendedQueryTags';
import type { ExtendedQueryTagToAdd } from '../dicomweb/extendedQueryTags';
import { showOperationStatus } from './operations';
import { dismissFound, findByUid } from './findByUid';
import { localServerActions } from './localServerActions';
import { compareFileWithServer } from './compareFileWithServer';
import { compareMetadata, openMetadata } from './openMetadata';
import { openFileAsJson } from './openFileAsJson';
import { newNotebook } from './newNotebook';
import { openTutorialNotebook } from './openTutorialNotebook';
import { revokeOrigins } from './origins';
import { previewFile, previewInstance } from './preview';
import { loadMore, refresh } from './refresh';
import { registerCommand, type CommandHandler } from './registerCommand';
import { restartLocalServer } from './restartLocalServer';
import { clearFilter, setFilter } from './setFilter';
import { showLog } from './showLog';
import { showThumbnails } from './showThumbnails';
import { startLocalServer } from './startLocalServer';
import { startLocalServerInFolder } from './startLocalServerInFolder';
import { stopLocalServer } from './stopLocalServer';
import { saveDeidentifiedCopy, type SaveDeidentifiedArgs } from './saveDeidentified';
import { uploadFromExplorer, uploadHere, uploadWithPicker } from './upload';
import { uploadToNewPartition } from './uploadToNewPartition';
import {
  uploadDeidentifiedFromExplorer,
  uploadDeidentifiedHere,
  type UploadDeidentifiedArgs,
} from './uploadDeidentified';
import {
  uploadReplaceFromExplorer,
  uploadReplaceHere,
  uploadReplaceIntoStudy,
} from './uploadReplace';

/*
 * VS Code passes command arguments untyped: a view's menu passes the row it was opened on
 * (and the multi-selection), an Explorer menu the clicked URI (and the selection), the palette
 * nothing, a test or another command what the command documents. Commands that act on a
 * selection take `unknown` and keep the rows they can act on (selectionOf); the others say
 * here, with `as`, what their menu passes, which package.json's `when` clauses guarantee.
 */
export function registerCommands(services: Services): vscode.Disposable[] {
  const commands: Record<string, CommandHandler> = {
    ...treeCommands(services),
    ...transferCommands(services),
    ...fileAndServiceCommands(services),
  };
  return Object.entries(commands).map(([id, handler]) => registerCommand(services, id, handler));
}

/** Servers and the tree's rows: add, filter, find, metadata, download, copy, delete. */
function treeCommands(services: Services): Record<string, CommandHandler> {
  return {
    'dicomweb.server.add': (input) => addServer(services, input as ServerInput | undefined),
    'dicomweb.server.edit': (node) => editServer(services, node as ServerNode),
    'dicomweb.server.remove': (node) => removeServer(services, node as ServerNode | undefined),
    'dicomweb.server.setFilter': (node, filter) =>
      setFilter(services, node as ServerNode | undefined, filter as StudyFilter | undefined),
    'dicomweb.server.clearFilter': (node) => clearFilter(services, node as ServerNode | undefined),
    'dicomweb.server.copyUrl': (node) => copyServerUrl(node as ServerNode),
    // From a server row's search button: that server; from the palette: picked (or 'all').
    // From a notebook's search row: the cell's connection id (src/notebookHost/rendererLink.ts).
    'dicomweb.findByUid': (node, text) =>
      findByUid(
        services,
        typeof node === 'string' && node !== 'all'
          ? { connectionId: node }
          : (node as ServerNode | 'all' | undefined),
        typeof text === 'string' ? text : undefined,
      ),
    'dicomweb.node.dismissFound': (node) => dismissFound(node),
    'dicomweb.tree.refresh': () => refresh(services),
    'dicomweb.node.refresh': (node) => refresh(services, node as DicomWebNode | undefined),
    'dicomweb.node.loadMore': (node) => loadMore(services, node as DicomWebNode | undefined),
    'dicomweb.node.openMetadata': (node, nodes) => openMetadata(services, node, asArray(nodes)),
    'dicomweb.node.compareMetadata': (node, nodes) =>
      compareMetadata(services, node, asArray(nodes)),
    'dicomweb.node.download': (node, nodes, folder) =>
      download(services, node, asArray(nodes), folder as vscode.Uri | undefined),
    'dicomweb.node.copyUid': (node, nodes) => copyUid(node, asArray(nodes)),
    'dicomweb.node.copyCurl': (node, nodes, which) =>
      copyCurl(services, node as ServerNode | ResourceNode, nodes, which as number | undefined),
    'dicomweb.node.copyPython': (node, _nodes, which) =>
      copyAsCode('python', node as ServerNode | ResourceNode, which as number | undefined),
    'dicomweb.node.copyJavaScript': (node, _nodes, which) =>
      copyAsCode('javascript', node as ServerNode | ResourceNode, which as number | undefined),
    'dicomweb.node.delete': (node, nodes) => deleteNodes(services, node, asArray(nodes)),
    ...extendedQueryTagCommands(services),
    ...changeFeedCommands(services),
  };
}

/** Azure's extended query tags and operations (Azure DICOM service, the local server). */
function extendedQueryTagCommands(services: Services): Record<string, CommandHandler> {
  return {
    'dicomweb.extendedQueryTag.add': (node, input) =>
      addExtendedQueryTag(services, node, input as ExtendedQueryTagToAdd | undefined),
    'dicomweb.extendedQueryTag.delete': (node) => deleteExtendedQueryTag(services, node),
    'dicomweb.extendedQueryTag.enableQuery': (node) =>
      setExtendedQueryTagQuery(services, node, true),
    'dicomweb.extendedQueryTag.disableQuery': (node) =>
      setExtendedQueryTagQuery(services, node, false),
    'dicomweb.operation.show': (id) =>
      showOperationStatus(services, typeof id === 'string' ? id : undefined),
  };
}

/** The "Change Feed" view (commands/changeFeed.ts). */
function changeFeedCommands(services: Services): Record<string, CommandHandler> {
  return {
    'dicomweb.changeFeed.refresh': (node) =>
      services.changeFeed.refresh(node as DicomWebNode | undefined),
    'dicomweb.changeFeed.openEntry': (node) => openChangeFeedEntry(node),
    'dicomweb.changeFeed.reveal': (node) => revealChangeFeedEntry(services, node),
    'dicomweb.changeFeed.follow': (node) => followChangeFeed(node, true),
    'dicomweb.changeFeed.unfollow': (node) => followChangeFeed(node, false),
    'dicomweb.changeFeed.pickWindow': (node, window) =>
      pickChangeFeedWindow(node, window as FeedWindow | undefined),
  };
}

/** Uploads: from the Explorer, onto a row, de-identified or as they are. */
function transferCommands(services: Services): Record<string, CommandHandler> {
  return {
    'dicomweb.node.uploadHere': (node, uris) =>
      uploadHere(services, node as DicomWebNode | undefined, asArray<vscode.Uri>(uris)),
    // A new data partition is created by its first store (Azure; src/server/partitions.ts).
    'dicomweb.partition.uploadToNew': (node, name, uris) =>
      uploadToNewPartition(
        services,
        node as ServerNode | undefined,
        name as string | undefined,
        asArray<vscode.Uri>(uris),
      ),
    // POST /studies/{study}: every file must belong to the study (PS3.18 §10.5.1).
    'dicomweb.study.upload': (node, uris) =>
      uploadHere(services, node as DicomWebNode | undefined, asArray<vscode.Uri>(uris)),
    'dicomweb.upload': () => uploadWithPicker(services),
    'dicomweb.upload.fromExplorer': (clicked, selection) =>
      uploadFromExplorer(
        services,
        clicked as vscode.Uri | undefined,
        selection as vscode.Uri[] | undefined,
      ),
    // PUT /studies: the Azure DICOM service's upsert (uploadReplace.ts).
    'dicomweb.upload.replace.fromExplorer': (clicked, selection) =>
      uploadReplaceFromExplorer(
        services,
        clicked as vscode.Uri | undefined,
        asArray<vscode.Uri>(selection),
      ),
    'dicomweb.node.uploadReplace': (node, uris) =>
      uploadReplaceHere(services, node as DicomWebNode | undefined, asArray<vscode.Uri>(uris)),
    // PUT /studies/{study} on a study row (uploadReplace.ts).
    'dicomweb.study.uploadReplace': (node, uris) =>
      uploadReplaceIntoStudy(services, node as DicomWebNode | undefined, asArray<vscode.Uri>(uris)),
    'dicomweb.upload.deidentified': (clicked, selection, args) =>
      uploadDeidentifiedFromExplorer(
        services,
        clicked as vscode.Uri | undefined,
        asArray<vscode.Uri>(selection),
        args as UploadDeidentifiedArgs | undefined,
      ),
    'dicomweb.node.uploadDeidentified': (node, uris, args) =>
      uploadDeidentifiedHere(
        services,
        node as DicomWebNode | undefined,
        asArray<vscode.Uri>(uris),
        args as UploadDeidentifiedArgs | undefined,
      ),
    'dicomweb.file.saveDeidentified': (clicked, selection, args) =>
      saveDeidentifiedCopy(
        services,
        clicked as vscode.Uri | undefined,
        asArray<vscode.Uri>(selection),
        args as SaveDeidentifiedArgs | undefined,
      ),
  };
}

/** Local files (preview, DICOM JSON, compare), the log, origins and the local server. */
function fileAndServiceCommands(services: Services): Record<string, CommandHandler> {
  return {
    'dicomweb.instance.preview': (node) => previewInstance(services.previews, node as InstanceNode),
    'dicomweb.series.showThumbnails': (node) => showThumbnails(services, node as SeriesNode),
    'dicomweb.file.preview': (uri) => previewFile(services.previews, uri as vscode.Uri | undefined),
    ...tagRowCommands(services.dicomEditor),
    'dicomweb.file.openAsJson': (uri) => openFileAsJson(uri),
    'dicomweb.file.compareWithServer': (uri, connectionId) =>
      compareFileWithServer(services, uri, connectionId),
    'dicomweb.log.show': () => showLog(services),
    'dicomweb.notebook.new': () => newNotebook(services.log),
    'dicomweb.notebook.openTutorial': (folder) =>
      openTutorialNotebook(services, folder as vscode.Uri | undefined),
    'dicomweb.origins.revoke': (origins) =>
      revokeOrigins(services, origins as string[] | undefined),
    'dicomweb.localServer.start': (folder) =>
      startLocalServer(services, typeof folder === 'string' ? folder : undefined),
    'dicomweb.localServer.startInFolder': (folder) =>
      startLocalServerInFolder(services, folder as vscode.Uri | undefined),
    'dicomweb.localServer.stop': () => stopLocalServer(services),
    'dicomweb.localServer.restart': () => restartLocalServer(services),
    'dicomweb.localServer.copyUrl': () => copyLocalServerUrl(services),
    'dicomweb.localServer.copyToken': () => copyLocalServerToken(services),
    'dicomweb.localServer.addSampleData': () => addSampleData(services),
    'dicomweb.localServer.actions': () => localServerActions(services),
  };
}

/** A list argument (the multi-selection, dropped URIs), or undefined when it is not one. */
function asArray<T = unknown>(value: unknown): T[] | undefined {
  return Array.isArray(value) ? (value as T[]) : undefined;
}
