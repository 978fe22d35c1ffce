import * as vscode from 'vscode';
import type { DicomWebClient } from '../dicomweb/client';
import type { OperationState } from '../dicomweb/extendedQueryTags';
import type { Services } from '../services';
import { pickServer } from './pickServer';
import { UserCancelled } from './registerCommand';

/**
 * Follows a long-running operation of the Azure DICOM service (`GET /operations/{id}`,
 * "Get operation status") with a progress notification showing its percent, until it
 * ends. Any command whose call answers an operation uses it. Cancelling the notification
 * stops following, not the operation: the server goes on, and "Show Operation Status…"
 * finds it again. Resolves with the last state; a failed or canceled end is said in one
 * sentence.
 */
export async function followOperation(
  services: Services,
  client: DicomWebClient,
  operationId: string,
  title: string,
): Promise<OperationState | undefined> {
  const state = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const stop = new AbortController();
      const subscription = token.onCancellationRequested(() => stop.abort());
      let shown = 0;
      try {
        return await client.waitForOperation(operationId, {
          signal: stop.signal,
          onProgress: (current) => {
            // report() adds increments: only the part not shown yet.
            const percent = Math.max(shown, current.percentComplete);
            progress.report({
              increment: percent - shown,
              message: `${current.status} · ${percent}%`,
            });
            shown = percent;
          },
        });
      } catch (error) {
        if (stop.signal.aborted) return undefined;
        throw error;
      } finally {
        subscription.dispose();
      }
    },
  );
  if (!state) {
    services.log.info(`operation ${operationId}: no longer followed (it goes on on the server)`);
    return undefined;
  }
  services.log.info(`operation ${operationId} (${state.type}): ${state.status}`);
  if (state.status === 'failed' || state.status === 'canceled')
    void vscode.window.showWarningMessage(`${title}: the operation ${state.status}.`);
  return state;
}

/** `dicomweb.operation.show`: "Show Operation Status…" for an id the person enters. */
export async function showOperationStatus(
  services: Services,
  operationId?: string,
): Promise<OperationState | undefined> {
  const server = await pickServer(services, 'Operation of which server?', {
    accept: (candidate) => candidate.client.serverProfile.capabilities.extendedQueryTags,
    none: 'No connection serves Azure operations (Azure DICOM service, local server).',
  });
  const id =
    operationId ??
    (
      await vscode.window.showInputBox({
        title: `Operation status on ${server.connection.name}`,
        prompt: 'The operation id (32 hex digits), as a POST answered it',
        validateInput: (value) =>
          /^[0-9A-Fa-f-]{32,36}$/.test(value.trim())
            ? undefined
            : 'An operation id is 32 hex digits',
        ignoreFocusOut: true,
      })
    )?.trim();
  if (!id) throw new UserCancelled();
  return followOperation(services, server.client, id, `Operation ${id.slice(0, 8)}…`);
}
