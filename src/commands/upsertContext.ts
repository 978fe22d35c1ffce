/**
 * Keeps the `when`-clause key NO_UPSERT_CONTEXT (src/dicomweb/profiles/upsert.ts) true while
 * no connection upserts, so the Explorer does not offer "Upload and Replace on DICOMweb
 * Server…" where it cannot work. Set at activation and at each change of the connections
 * (settings edited, a server added or removed, the local server started or stopped: its
 * connection is added and removed with it). Invoked anyway (a keybinding, another
 * extension), the command still answers with the sentence naming the servers that can.
 */
import * as vscode from 'vscode';
import type { ConnectionStore } from '../config/connections';
import { NO_UPSERT_CONTEXT, noConnectionUpserts } from '../dicomweb/profiles/upsert';

export function trackUpsertContext(connections: ConnectionStore): vscode.Disposable {
  const update = (): void => {
    void vscode.commands.executeCommand(
      'setContext',
      NO_UPSERT_CONTEXT,
      noConnectionUpserts(connections.list()),
    );
  };
  update();
  return connections.onDidChange(update);
}
