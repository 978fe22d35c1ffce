import * as vscode from 'vscode';
import type { Services } from '../services';

/** `dicomweb.localServer.copyUrl`; when the server is not running, offers to start it. */
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
