import * as vscode from 'vscode';
import type { Services } from '../services';
import { UserCancelled } from './registerCommand';
import { startLocalServer } from './startLocalServer';

/** `dicomweb.localServer.startInFolder`: serves a folder the person picks (or the Explorer's). */
export async function startLocalServerInFolder(
  services: Services,
  folder?: vscode.Uri,
): Promise<string> {
  if (!folder) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Serve this folder',
      title: 'Serve a folder of DICOM files',
    });
    if (!picked?.[0]) throw new UserCancelled();
    folder = picked[0];
  }
  if (services.localServer.running) await services.localServer.stop();
  return startLocalServer(services, folder.fsPath);
}
