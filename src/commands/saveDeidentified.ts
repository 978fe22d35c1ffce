/**
 * "Save De-identified Copy…" from the Explorer (files and folders): each DICOM file gets a
 * de-identified copy (PS3.15 Annex E, src/dicom/deidentify/) next to it or in a chosen
 * folder, one batch for the whole selection so its studies and series stay whole. A source
 * is never modified, and no existing file is ever overwritten.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import * as vscode from 'vscode';
import { DeidentifyBatch } from '../dicom/deidentify/batch';
import { deidentifyFiles, type FileDeidentification } from '../dicom/deidentify/files';
import type { DeidentifyOption } from '../dicom/deidentify/profile';
import { previewMarkdown } from '../dicom/deidentify/report';
import { showUploadReport } from '../documents/uploadReport';
import type { Services } from '../services';
import { pickDeidentifyOptions } from './deidentifyOptions';
import { UserCancelled } from './registerCommand';
import { collectFiles } from './upload';

/** What a test or another command can pass instead of answering the prompts. */
export interface SaveDeidentifiedArgs {
  options?: DeidentifyOption[];
  /** "beside" each source, or a folder. */
  destination?: 'beside' | vscode.Uri;
}

export interface SaveDeidentifiedResult {
  files: FileDeidentification[];
  notDicom: string[];
}

/** `dicomweb.file.saveDeidentified` — `(clicked, selection, args)`. */
export async function saveDeidentifiedCopy(
  services: Services,
  clicked?: vscode.Uri,
  selection?: vscode.Uri[],
  args: SaveDeidentifiedArgs = {},
): Promise<SaveDeidentifiedResult> {
  const uris =
    selection && selection.length > 0 ? selection : clicked ? [clicked] : await pickSources();
  const paths = uris.filter((uri) => uri.scheme === 'file').map((uri) => uri.fsPath);
  const { dicom, notDicom } = await collectFiles(paths);
  if (dicom.length === 0) {
    void vscode.window.showWarningMessage(
      'Nothing to de-identify: the selection holds no DICOM file.',
    );
    return { files: [], notDicom };
  }
  const options = await pickDeidentifyOptions(services, args.options);
  const destination = args.destination ?? (await pickDestination());
  const batch = new DeidentifyBatch(options);
  const outputFor = namer(destination);
  const files = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'De-identifying', cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const subscription = token.onCancellationRequested(() => controller.abort());
      try {
        return await deidentifyFiles(dicom, batch, outputFor, {
          signal: controller.signal,
          onProgress: (done, total) =>
            progress.report({ message: `${done} of ${total}`, increment: 100 / total }),
        });
      } finally {
        subscription.dispose();
      }
    },
  );
  report(services, batch, files);
  return { files, notDicom };
}

async function pickSources(): Promise<vscode.Uri[]> {
  const uris = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: true,
    openLabel: 'De-identify',
    title: 'Save de-identified copies of DICOM files or folders',
  });
  if (!uris || uris.length === 0) throw new UserCancelled();
  return uris;
}

async function pickDestination(): Promise<'beside' | vscode.Uri> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'Next to each file', detail: 'name.deid.dcm beside name.dcm', beside: true },
      { label: 'In a folder…', detail: 'All copies in one folder you choose', beside: false },
    ],
    { title: 'Save the de-identified copies where?' },
  );
  if (!picked) throw new UserCancelled();
  if (picked.beside) return 'beside';
  const folders = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    openLabel: 'Save Here',
  });
  if (!folders?.[0]) throw new UserCancelled();
  return folders[0];
}

/**
 * Output paths: "name.deid.dcm" (beside the source, or in the folder), "name.deid-2.dcm" and
 * so on when that name is taken on disk or by another copy of this run.
 */
function namer(destination: 'beside' | vscode.Uri): (source: string) => string {
  const taken = new Set<string>();
  return (source) => {
    const folder = destination === 'beside' ? dirname(source) : destination.fsPath;
    const extension = extname(source) || '.dcm';
    const stem = basename(source, extname(source));
    for (let n = 1; ; n++) {
      const candidate = join(folder, `${stem}.deid${n === 1 ? '' : `-${n}`}${extension}`);
      if (candidate !== source && !taken.has(candidate) && !existsSync(candidate)) {
        taken.add(candidate);
        return candidate;
      }
    }
  };
}

function report(services: Services, batch: DeidentifyBatch, files: FileDeidentification[]): void {
  const saved = files.filter((f) => f.output);
  const failed = files.filter((f) => f.error);
  for (const file of saved)
    services.log.info(
      `de-identify: ${file.source} → ${file.output} (${file.changes.length} changes)`,
    );
  for (const file of failed)
    services.log.warn(`de-identify: ${file.source} not de-identified: ${file.error}`);
  const message =
    `Saved ${saved.length} de-identified cop${saved.length === 1 ? 'y' : 'ies'}` +
    (failed.length ? `; ${failed.length} file(s) could not be de-identified.` : '.');
  const show = failed.length
    ? vscode.window.showWarningMessage
    : vscode.window.showInformationMessage;
  void show(message, 'Show Changes').then((choice) => {
    if (choice !== 'Show Changes') return;
    const markdown = previewMarkdown('De-identified copies', batch.options, files);
    return showUploadReport(
      services.extensionContext.subscriptions,
      'De-identified copies',
      markdown,
    );
  });
}
