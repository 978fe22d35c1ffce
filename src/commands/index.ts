/** Every command, registered in one place behind one error wrapper; one file per command. */
import type * as vscode from 'vscode';
import type { Services } from '../services';
import { addServer, editServer, removeServer } from './addServer';
import { copyCurl } from './copyCurl';
import { copyServerUrl } from './copyServerUrl';
import { copyUid } from './copyUid';
import { deleteNodes } from './deleteNodes';
import { download } from './download';
import {
  addSampleData,
  copyLocalServerToken,
  copyLocalServerUrl,
  localServerActions,
  restartLocalServer,
  startLocalServer,
  startLocalServerInFolder,
  stopLocalServer,
} from './localServer';
import { compareMetadata, openMetadata } from './openMetadata';
import { revokeOrigins } from './origins';
import { previewFile, previewInstance } from './preview';
import { loadMore, refresh } from './refresh';
import { registerCommand } from './registerCommand';
import { clearFilter, setFilter } from './setFilter';
import { showLog } from './showLog';
import { uploadFromExplorer, uploadHere, uploadWithPicker } from './upload';

export function registerCommands(services: Services): vscode.Disposable[] {
  const commands: Record<string, (...args: any[]) => unknown> = {
    'dicomweb.server.add': (input) => addServer(services, input),
    'dicomweb.server.edit': (node) => editServer(services, node),
    'dicomweb.server.remove': (node) => removeServer(services, node),
    'dicomweb.server.setFilter': (node, filter) => setFilter(services, node, filter),
    'dicomweb.server.clearFilter': (node) => clearFilter(services, node),
    'dicomweb.server.copyUrl': (node) => copyServerUrl(node),
    'dicomweb.tree.refresh': () => refresh(services),
    'dicomweb.node.refresh': (node) => refresh(services, node),
    'dicomweb.node.loadMore': (node) => loadMore(services, node),
    'dicomweb.node.openMetadata': (node, nodes) => openMetadata(services, node, nodes),
    'dicomweb.node.compareMetadata': (node, nodes) => compareMetadata(services, node, nodes),
    'dicomweb.node.download': (node, nodes, folder) => download(services, node, nodes, folder),
    'dicomweb.node.copyUid': (node, nodes) => copyUid(node, nodes),
    'dicomweb.node.copyCurl': (node, nodes, which) => copyCurl(services, node, nodes, which),
    'dicomweb.node.delete': (node, nodes) => deleteNodes(services, node, nodes),
    'dicomweb.node.uploadHere': (node, uris) =>
      uploadHere(services, node, Array.isArray(uris) ? uris : undefined),
    // POST /studies/{study}: every file must belong to the study (PS3.18 §10.5.1).
    'dicomweb.study.upload': (node, uris) =>
      uploadHere(services, node, Array.isArray(uris) ? uris : undefined),
    'dicomweb.upload': () => uploadWithPicker(services),
    'dicomweb.upload.fromExplorer': (clicked, selection) =>
      uploadFromExplorer(services, clicked, selection),
    'dicomweb.instance.preview': (node) => previewInstance(services.previews, node),
    'dicomweb.file.preview': (uri) => previewFile(services.previews, uri),
    'dicomweb.log.show': () => showLog(services),
    'dicomweb.origins.revoke': (origins) => revokeOrigins(services, origins),
    'dicomweb.localServer.start': (folder) =>
      startLocalServer(services, typeof folder === 'string' ? folder : undefined),
    'dicomweb.localServer.startInFolder': (folder) => startLocalServerInFolder(services, folder),
    'dicomweb.localServer.stop': () => stopLocalServer(services),
    'dicomweb.localServer.restart': () => restartLocalServer(services),
    'dicomweb.localServer.copyUrl': () => copyLocalServerUrl(services),
    'dicomweb.localServer.copyToken': () => copyLocalServerToken(services),
    'dicomweb.localServer.addSampleData': () => addSampleData(services),
    'dicomweb.localServer.actions': () => localServerActions(services),
  };
  return Object.entries(commands).map(([id, handler]) => registerCommand(services, id, handler));
}
