import * as vscode from 'vscode';
import type { Services } from '../services';
import type { ServerNode } from '../tree/nodes/ServerNode';
import { UserCancelled } from './registerCommand';

/**
 * The server a command acts on when it was run from the Command Palette rather than from a
 * server's row: the only one, or the one the person picks. `accept` narrows the choice
 * (e.g. servers that have a filter); with none left, `none` is said and nothing happens.
 */
export async function pickServer(
  services: Services,
  title: string,
  options: { accept?: (server: ServerNode) => boolean; none?: string } = {},
): Promise<ServerNode> {
  await services.tree.getChildren();
  const servers = services.tree.serverNodes().filter(options.accept ?? (() => true));
  if (servers.length === 0) {
    void vscode.window.showInformationMessage(
      options.none ??
        'No DICOMweb server is configured. Add one with "DICOMweb: Add a DICOMweb Server…".',
    );
    throw new UserCancelled();
  }
  if (servers.length === 1) return servers[0];
  const picked = await vscode.window.showQuickPick(
    servers.map((server) => ({
      label: server.connection.name,
      description: server.connection.url,
      server,
    })),
    { title },
  );
  if (!picked) throw new UserCancelled();
  return picked.server;
}
