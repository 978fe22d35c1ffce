/**
 * The local DICOMweb server's commands: start (in the default folder or one the person
 * picks), stop, restart, copy the service URL, add the tutorial's sample images, and the
 * status bar's menu.
 */
import * as vscode from 'vscode';
import { writeSeedFiles } from '../dicom/seedShapes';
import { LOCAL_CONNECTION_ID } from '../localServerHost/LocalServerManager';
import type { Services } from '../services';
import { UserCancelled } from './registerCommand';

export async function startLocalServer(services: Services, folder?: string): Promise<string> {
  const server = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Starting the local DICOMweb server' },
    () => services.localServer.start(folder),
  );
  const url = services.localServer.serviceUrl(server);
  // The tree lists the new connection on its next read; then show it opened.
  await services.tree.getChildren();
  const node = services.tree.serverNode(LOCAL_CONNECTION_ID);
  if (node) await services.treeView.reveal(node, { expand: true }).then(undefined, () => undefined);
  vscode.window.setStatusBarMessage(`Local DICOMweb server: ${url}`, 5000);
  return url;
}

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

export async function stopLocalServer(services: Services): Promise<boolean> {
  return services.localServer.stop();
}

export async function restartLocalServer(services: Services): Promise<string> {
  const server = await services.localServer.restart();
  return services.localServer.serviceUrl(server);
}

export async function copyLocalServerUrl(services: Services): Promise<string> {
  const server = services.localServer.running;
  if (!server) {
    void vscode.window
      .showInformationMessage('The local DICOMweb server is not running.', 'Start')
      .then((choice) => {
        if (choice) void vscode.commands.executeCommand('dicomweb.localServer.start');
      });
    return '';
  }
  // In a remote window the person's browser or tool runs on their own machine: the
  // forwarded URL (asExternalUri), not the remote's 127.0.0.1.
  const url = await services.localServer.externalServiceUrl(server);
  await vscode.env.clipboard.writeText(url);
  vscode.window.setStatusBarMessage(`Copied ${url}`, 3000);
  return url;
}

/** Copies the bearer token the local server demands (when `dicomweb.localServer.requireToken` is on). */
export async function copyLocalServerToken(services: Services): Promise<boolean> {
  if (!services.localServer.requiresToken) {
    void vscode.window.showInformationMessage(
      'The local DICOMweb server does not require a token (setting dicomweb.localServer.requireToken).',
    );
    return false;
  }
  await vscode.env.clipboard.writeText(await services.localServer.token());
  vscode.window.setStatusBarMessage("Copied the local server's bearer token", 3000);
  return true;
}

/** Writes the seed tutorial's three instances into the served folder; the watcher indexes them. */
export async function addSampleData(services: Services): Promise<string[]> {
  const server = services.localServer.running ?? (await services.localServer.start());
  const files = await writeSeedFiles(
    vscode.Uri.joinPath(vscode.Uri.file(server.dir), 'samples').fsPath,
  );
  services.log.info(`Added ${files.length} sample instances to ${server.dir}`);
  setTimeout(() => services.tree.refresh(services.tree.serverNode(LOCAL_CONNECTION_ID)), 1500);
  return files;
}

export async function localServerActions(services: Services): Promise<void> {
  const server = services.localServer.running;
  const url = server ? await services.localServer.externalServiceUrl(server) : '';
  const items: Array<vscode.QuickPickItem & { command: string }> = server
    ? [
        {
          label: '$(copy) Copy Service URL',
          description: url,
          command: 'dicomweb.localServer.copyUrl',
        },
        {
          label: '$(folder-opened) Reveal Served Folder',
          description: server.dir,
          command: 'revealFileInOS',
        },
        ...(services.localServer.requiresToken
          ? [
              {
                label: '$(key) Copy Bearer Token',
                description: 'the server requires it',
                command: 'dicomweb.localServer.copyToken',
              },
            ]
          : []),
        {
          label: '$(add) Add Sample Data',
          description: "the tutorial's three images",
          command: 'dicomweb.localServer.addSampleData',
        },
        { label: '$(debug-restart) Restart', command: 'dicomweb.localServer.restart' },
        { label: '$(debug-stop) Stop', command: 'dicomweb.localServer.stop' },
      ]
    : [
        { label: '$(play) Start Local DICOMweb Server', command: 'dicomweb.localServer.start' },
        { label: '$(folder) Serve a Folder…', command: 'dicomweb.localServer.startInFolder' },
      ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Local DICOMweb server' });
  if (!picked) return;
  if (picked.command === 'revealFileInOS' && server)
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(server.dir));
  else await vscode.commands.executeCommand(picked.command);
}
