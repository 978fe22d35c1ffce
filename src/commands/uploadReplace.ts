/**
 * "Upload and Replace…": the ordinary upload (upload.ts) sent as `PUT /studies` (the Azure
 * DICOM service's upsert, conformance statement v2), from the Explorer context menu and on
 * server rows whose profile does upsert (Azure v2, the local server: the `upsert` flag of the
 * row's context value); on a study row of such a server as `PUT /studies/{study}`. Each file
 * is reported replaced, new or failed.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { DicomWebNode } from '../tree/nodes/DicomWebNode';
import { isResourceNode } from '../tree/nodes/resourceNode';
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

/**
 * `dicomweb.node.uploadReplace` on a server row (a partitioned one asks which partition) or
 * a partition row (files given by a test, else picked).
 */
export async function uploadReplaceHere(
  services: Services,
  node: DicomWebNode | undefined,
  uris?: vscode.Uri[],
): Promise<UploadResult | undefined> {
  const files = uris && uris.length > 0 ? uris : await pickFiles();
  return uploadUris(services, files, node?.uploadDestination(), undefined, true);
}

/**
 * `dicomweb.study.uploadReplace`: "Upload and Replace into This Study…" on a study row,
 * `PUT /studies/{study}` (PS3.18 §10.5.1 for the study-targeted form; Azure's upsert for
 * PUT). A file of another study is reported failed with 0xA901 (43265, the reason Azure and
 * the local server answer for it) and is not sent: nothing of it reaches the server
 * (store.ts `notToSend`). The other files replace or join the study's instances.
 */
export async function uploadReplaceIntoStudy(
  services: Services,
  node: DicomWebNode | undefined,
  uris?: vscode.Uri[],
): Promise<UploadResult | undefined> {
  if (!isResourceNode(node) || node.level !== 'study')
    throw new Error(
      'Upload and Replace into This Study works on a study row of the DICOMweb view.',
    );
  const files = uris && uris.length > 0 ? uris : await pickFiles();
  return uploadUris(services, files, node.uploadDestination(), undefined, true);
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
