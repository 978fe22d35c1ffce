import * as vscode from 'vscode';
import { writeSeedFiles } from '../server/samples';
import { LOCAL_CONNECTION_ID } from '../localServerHost/LocalServerManager';
import type { Services } from '../services';

/**
 * `dicomweb.localServer.addSampleData`: writes the seed tutorial's three instances into the
 * served folder (starting the server if needed); the watcher indexes them.
 */
export async function addSampleData(services: Services): Promise<string[]> {
  const server = services.localServer.running ?? (await services.localServer.start());
  const files = await writeSeedFiles(
    vscode.Uri.joinPath(vscode.Uri.file(server.dir), 'samples').fsPath,
  );
  services.log.info(`Added ${files.length} sample instances to ${server.dir}`);
  setTimeout(() => services.tree.refresh(services.tree.serverNode(LOCAL_CONNECTION_ID)), 1500);
  return files;
}
