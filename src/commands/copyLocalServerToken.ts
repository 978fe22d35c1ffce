import * as vscode from 'vscode';
import type { Services } from '../services';

/**
 * `dicomweb.localServer.copyToken`: the bearer token the local server demands (when
 * `dicomweb.localServer.requireToken` is on).
 */
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
