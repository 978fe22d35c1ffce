import { access, mkdir, writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { TUTORIAL_FILE_NAME, tutorialNotebook } from '../notebook/tutorial';
import { writeSeedFiles } from '../server/samples';
import type { Services } from '../services';
import { showWithoutWaiting } from './newNotebook';

/**
 * `dicomweb.notebook.openTutorial`: the seed tutorial's requests as a notebook, with the
 * three sample instances its STOW cells send written next to it (in the extension's storage,
 * or the folder given). A notebook already there is opened as it is: it may hold the
 * person's own edits.
 */
export async function openTutorialNotebook(
  services: Services,
  folder?: vscode.Uri,
): Promise<vscode.Uri> {
  const target =
    folder ?? vscode.Uri.joinPath(services.extensionContext.globalStorageUri, 'notebooks');
  await mkdir(target.fsPath, { recursive: true });
  await writeSeedFiles(target.fsPath);
  const file = vscode.Uri.joinPath(target, TUTORIAL_FILE_NAME);
  const exists = await access(file.fsPath).then(
    () => true,
    () => false,
  );
  if (!exists) await writeFile(file.fsPath, tutorialNotebook(), 'utf8');
  showWithoutWaiting(await vscode.workspace.openNotebookDocument(file), services.log);
  services.log.info(`Opened the tutorial notebook ${file.fsPath}`);
  return file;
}
