/**
 * "Upload and Replace…": the ordinary upload (upload.ts) sent as `PUT /studies` (the Azure
 * DICOM service's upsert, conformance statement v2), from the Explorer context menu and on
 * server rows whose profile does upsert (Azure v2, the local server: the `upsert` flag of the
 * row's context value). Each file is reported replaced, new or failed.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { DicomWebNode } from '../tree/nodes/DicomWebNode';
import { UserCancelled } from './registerCommand';
import { uploadUris, type UploadResult } from './upload';

/** `dicomweb.upload.replace.fromExplorer` — `(clicked, selection)` as VS Code passes them. */
export async function uploadReplaceFromExplorer(
  services: Services,
  clicked?: vscode.Uri,
  selection?: vscode.Uri[],
): Promise<UploadResult | undefined> {
  const uris = selection && selection.length > 0 ? selection : clicked ? [clicked] : [];
  return uploadUris(services, uris.length ? uris : await pickFiles(), undefined, undefined, true);
}

/** `dicomweb.node.uploadReplace` on a server row (files given by a test, else picked). */
export async function uploadReplaceHere(
  services: Services,
  node: DicomWebNode | undefined,
  uris?: vscode.Uri[],
): Promise<UploadResult | undefined> {
  const files = uris && uris.length > 0 ? uris : await pickFiles();
  return uploadUris(services, files, node?.uploadDestination(), undefined, true);
}

async function pickFiles(): Promise<vscode.Uri[]> {
  const uris = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: true,
    openLabel: 'Upload and Replace',
    title: 'Upload DICOM files or folders, replacing stored instances',
  });
  if (!uris || uris.length === 0) throw new UserCancelled();
  return uris;
}
