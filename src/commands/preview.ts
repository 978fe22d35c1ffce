import * as vscode from 'vscode';
import type { PreviewManager } from '../preview/PreviewManager';
import type { InstanceNode } from '../tree/nodes/InstanceNode';

/** `dicomweb.instance.preview`: frames through WADO-RS in a webview (one panel per instance). */
export async function previewInstance(previews: PreviewManager, node: InstanceNode): Promise<void> {
  await previews.showInstance(node.client, node.target, node.title);
}

/** `dicomweb.file.preview`: a local `.dcm` file from the Explorer or the active editor. */
export async function previewFile(previews: PreviewManager, uri?: vscode.Uri): Promise<void> {
  const target = uri ?? vscode.window.activeTextEditor?.document.uri;
  if (!target) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      title: 'Preview a DICOM file',
      filters: { DICOM: ['dcm', 'dicom', 'DCM'], 'All files': ['*'] },
    });
    if (!picked?.[0]) return;
    return previews.showFile(picked[0]);
  }
  await previews.showFile(target);
}
