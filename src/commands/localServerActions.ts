import * as vscode from 'vscode';
import type { Services } from '../services';

/**
 * `dicomweb.localServer.actions`: the status bar item's menu, the commands that fit the
 * server's state (running: copy URL, reveal folder, token, samples, restart, stop).
 */
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
