import * as vscode from 'vscode';
import type { Services } from '../services';
import { UserCancelled } from './registerCommand';

/**
 * `dicomweb.origins.revoke`: forgets approved origins (workspace connections' credentials,
 * Entra ID tokens off Azure DICOM hosts), picked from a list, or the given ones. The next
 * request to such an origin asks again. Returns the origins revoked.
 */
export async function revokeOrigins(services: Services, origins?: string[]): Promise<string[]> {
  let chosen = Array.isArray(origins)
    ? origins.filter((o): o is string => typeof o === 'string')
    : undefined;
  if (!chosen) {
    const approvals = services.credentials.approvals();
    const items = [
      ...approvals.workspace.map((origin) => ({
        label: origin,
        description: 'credentials of workspace connections',
        origin,
      })),
      ...approvals.entra.map((origin) => ({
        label: origin,
        description: 'Entra ID token (not an Azure DICOM host)',
        origin,
      })),
    ];
    if (items.length === 0) {
      void vscode.window.showInformationMessage('No origin is approved.');
      return [];
    }
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Revoke approved origins',
      canPickMany: true,
      placeHolder: 'The next request to a revoked origin asks again',
    });
    if (!picked || picked.length === 0) throw new UserCancelled();
    chosen = [...new Set(picked.map((item) => item.origin))];
  }
  await services.credentials.revoke(chosen);
  services.log.info(`Revoked approval of ${chosen.join(', ') || 'no origin'}`);
  return chosen;
}
