import * as vscode from 'vscode';
import type { DicomWebNode } from './nodes/DicomWebNode';
import { ServerNode } from './nodes/ServerNode';
import { StudyNode } from './nodes/StudyNode';

/**
 * Files dragged from the Explorer (or the OS) onto a connection or a study node are
 * uploaded there; onto a study they go to `POST /studies/{study}`.
 */
export class UploadDropController implements vscode.TreeDragAndDropController<DicomWebNode> {
  readonly dropMimeTypes = ['text/uri-list', 'files'];
  readonly dragMimeTypes: string[] = [];

  constructor(private readonly upload: (target: ServerNode | StudyNode, uris: vscode.Uri[]) => Promise<void>) {}

  async handleDrop(target: DicomWebNode | undefined, dataTransfer: vscode.DataTransfer, token: vscode.CancellationToken): Promise<void> {
    const destination = target instanceof StudyNode || target instanceof ServerNode ? target : target instanceof Object ? ancestorOf(target) : undefined;
    if (!destination) {
      void vscode.window.showInformationMessage('Drop DICOM files on a server or a study to upload them.');
      return;
    }
    const uris: vscode.Uri[] = [];
    const list = dataTransfer.get('text/uri-list');
    if (list) {
      for (const line of (await list.asString()).split(/\r?\n/)) {
        const text = line.trim();
        if (text && !text.startsWith('#')) uris.push(vscode.Uri.parse(text));
      }
    }
    if (uris.length === 0) {
      dataTransfer.forEach((item) => {
        const file = item.asFile();
        if (file?.uri) uris.push(file.uri);
      });
    }
    if (token.isCancellationRequested || uris.length === 0) return;
    await this.upload(destination, uris);
  }
}

function ancestorOf(node: DicomWebNode): ServerNode | StudyNode | undefined {
  for (let current: DicomWebNode | undefined = node; current; current = current.parent) {
    if (current instanceof StudyNode || current instanceof ServerNode) return current;
  }
  return undefined;
}
