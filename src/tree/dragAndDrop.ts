import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { planDrop, temporaryFileName, type DroppedUri } from './dropPlan';
import type { DicomWebNode, UploadDestination } from './nodes/DicomWebNode';

/**
 * Files dragged from the Explorer (or the OS) onto a connection or a study node are
 * uploaded there; onto a study they go to `POST /studies/{study}`. Files the extension
 * host cannot open by path (dropped from the desktop into a remote window) are read
 * through the drop's data into a temporary folder, uploaded, and the folder removed.
 */
export class UploadDropController implements vscode.TreeDragAndDropController<DicomWebNode> {
  readonly dropMimeTypes = ['text/uri-list', 'files'];
  readonly dragMimeTypes: string[] = [];

  constructor(
    private readonly upload: (target: UploadDestination, uris: vscode.Uri[]) => Promise<void>,
  ) {}

  async handleDrop(
    target: DicomWebNode | undefined,
    dataTransfer: vscode.DataTransfer,
    token: vscode.CancellationToken,
  ): Promise<void> {
    // The row's own study or server: a series or instance row passes it on to its study.
    const destination = target?.uploadDestination();
    if (!destination) {
      void vscode.window.showInformationMessage(
        'Drop DICOM files on a server or a study to upload them.',
      );
      return;
    }
    const listed: DroppedUri[] = [];
    const list = dataTransfer.get('text/uri-list');
    if (list) {
      for (const line of (await list.asString()).split(/\r?\n/)) {
        const text = line.trim();
        if (text && !text.startsWith('#')) listed.push(dropped(vscode.Uri.parse(text)));
      }
    }
    const files: vscode.DataTransferFile[] = [];
    dataTransfer.forEach((item) => {
      const file = item.asFile();
      if (file && !files.includes(file)) files.push(file);
    });
    const plan = planDrop(
      listed,
      files.map((file) => ({ name: file.name, uri: file.uri ? dropped(file.uri) : undefined })),
    );
    if (token.isCancellationRequested || plan.uris.length + plan.fromData.length === 0) return;
    const uris = plan.uris.map((uri) => vscode.Uri.parse(uri));
    if (plan.fromData.length === 0) return this.upload(destination, uris);
    const folder = await mkdtemp(join(tmpdir(), 'dicomweb-drop-'));
    try {
      const taken = new Set<string>();
      for (const index of plan.fromData) {
        if (token.isCancellationRequested) return;
        // One file's bytes in memory at a time: each is written before the next is read.
        const path = join(folder, temporaryFileName(files[index]!.name, index, taken));
        await writeFile(path, await files[index]!.data());
        uris.push(vscode.Uri.file(path));
      }
      await this.upload(destination, uris);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }
}

/**
 * A `file:` URI is readable when it exists on this (the extension host's) disk; other schemes are
 * the upload's to judge.
 */
function dropped(uri: vscode.Uri): DroppedUri {
  return { uri: uri.toString(), readable: uri.scheme !== 'file' || existsSync(uri.fsPath) };
}
