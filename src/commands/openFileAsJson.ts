import * as vscode from 'vscode';
import { isDicomPart10 } from '../dicom/part10';
import { fileJsonUri } from '../documents/fileJsonDocuments';
import { UserCancelled } from './registerCommand';

/**
 * The local file a file command acts on: the Explorer's clicked file, else the active editor's
 * (text or custom editor), else one the person picks. Refused with one sentence when the file
 * is not DICOM Part 10 (extension-less files are offered on the menu and checked here).
 */
export async function dicomFileArgument(uri: unknown, title: string): Promise<vscode.Uri> {
  const target = uri instanceof vscode.Uri ? uri : (activeFileUri() ?? (await pickFile(title)));
  if (target.scheme !== 'file')
    throw new Error(`${target.toString()} is not a file on this machine.`);
  if (!(await isDicomPart10(target.fsPath))) {
    throw new Error(
      `${target.fsPath} is not a DICOM file (no "DICM" after the 128-byte preamble, PS3.10 §7.1).`,
    );
  }
  return target;
}

function activeFileUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom) {
    return input.uri.scheme === 'file' ? input.uri : undefined;
  }
  return undefined;
}

async function pickFile(title: string): Promise<vscode.Uri> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    title,
    filters: { DICOM: ['dcm', 'dicom', 'DCM'], 'All files': ['*'] },
  });
  if (!picked?.[0]) throw new UserCancelled();
  return picked[0];
}

/**
 * `dicomweb.file.openAsJson`: a local file as the DICOM JSON of WADO-RS metadata (PS3.18
 * Annex F), read-only, one document per file; Pixel Data and other bulk data are not read.
 */
export async function openFileAsJson(uri: unknown): Promise<vscode.TextEditor> {
  const file = await dicomFileArgument(uri, 'Open a DICOM file as DICOM JSON');
  const document = await vscode.workspace.openTextDocument(fileJsonUri(file));
  if (document.languageId !== 'json')
    await vscode.languages.setTextDocumentLanguage(document, 'json');
  return vscode.window.showTextDocument(document, { preview: false });
}
