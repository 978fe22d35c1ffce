import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DownloadResult } from '../dicomweb/transfer/download';
import { downloadInWorker } from '../dicomweb/transfer/downloadWorker';
import type { Services } from '../services';
import { isResourceNode } from '../tree/nodes/resourceNode';
import { selectionOf } from './selection';
import { UserCancelled } from './registerCommand';
import { formatBytes } from './upload';

/**
 * `dicomweb.node.download`: WADO-RS retrieve (`transfer-syntax=*`, as stored) streamed part
 * by part into `{folder}/{UID}/…/{SOPInstanceUID}.dcm`, with progress and cancellation, in a
 * worker thread of the extension host.
 */
export async function download(
  services: Services,
  node: unknown,
  nodes?: unknown[],
  folder?: vscode.Uri,
): Promise<DownloadResult[]> {
  const items = selectionOf(node, nodes, isResourceNode);
  if (items.length === 0) return [];
  if (!folder) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Download here',
      title: 'Download DICOM files to…',
    });
    if (!picked?.[0]) throw new UserCancelled();
    folder = picked[0];
  }
  const destination = folder;
  const workerScript = join(services.extensionContext.extensionPath, 'dist', 'downloadWorker.js');
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Downloading', cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const subscription = token.onCancellationRequested(() => controller.abort());
      const results: DownloadResult[] = [];
      try {
        for (const item of items) {
          const directory = join(destination.fsPath, item.uid);
          // In a worker thread: this host's event loop carries none of the parsing and writing,
          // and where the answer is read through undici (a proxy) its per-read buffers
          // are collected by the worker's small heap, not this large one
          // (src/dicomweb/transfer/downloadWorker.ts).
          const result = await downloadInWorker(item.client, workerScript, item.target, directory, {
            signal: controller.signal,
            layout: 'tree',
            onProgress: ({ files, bytes }) =>
              progress.report({ message: `${files} files · ${formatBytes(bytes)}` }),
          });
          results.push(result);
          services.log.info(
            `Downloaded ${result.files.length} files (${formatBytes(result.bytes)}) to ${directory}, read ${result.reader === 'socket' ? 'straight from the socket' : 'through undici'}`,
          );
        }
      } finally {
        subscription.dispose();
      }
      const files = results.reduce((sum, result) => sum + result.files.length, 0);
      const bytes = results.reduce((sum, result) => sum + result.bytes, 0);
      void vscode.window
        .showInformationMessage(
          `Downloaded ${files} DICOM files (${formatBytes(bytes)}) to ${destination.fsPath}.`,
          'Reveal',
        )
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand('revealFileInOS', destination);
        });
      return results;
    },
  );
}
