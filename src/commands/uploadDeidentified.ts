/**
 * "Upload De-identified…" from the Explorer, the palette and a server in the tree: the
 * options are picked, a preview lists every attribute that will change in every file, and
 * only after confirmation are de-identified copies (PS3.15 Annex E, one batch so studies and
 * series stay whole) written to a private temporary folder and sent through the ordinary
 * upload (STOW-RS), which reports each file under its source's name. Sources are never
 * modified; the temporary copies are deleted when the upload ends, whatever its outcome.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { DeidentifyBatch } from '../dicom/deidentify/batch';
import { deidentifyFiles, planFiles, type FileDeidentification } from '../dicom/deidentify/files';
import type { DeidentifyOption } from '../dicom/deidentify/profile';
import { previewMarkdown } from '../dicom/deidentify/report';
import type { FileOutcome } from '../dicomweb/transfer/store';
import { showUploadReport } from '../documents/uploadReport';
import type { Services } from '../services';
import type { DicomWebNode, UploadDestination } from '../tree/nodes/DicomWebNode';
import { pickDeidentifyOptions } from './deidentifyOptions';
import { UserCancelled } from './registerCommand';
import { collectFiles, uploadUris, type UploadResult } from './upload';

/** What a test or another command can pass instead of answering the prompts. */
export interface UploadDeidentifiedArgs {
  options?: DeidentifyOption[];
  /** Skip the confirmation (the preview still opens). */
  confirmed?: boolean;
}

/** `dicomweb.upload.deidentified` from the Explorer — `(clicked, selection, args)`. */
export function uploadDeidentifiedFromExplorer(
  services: Services,
  clicked?: vscode.Uri,
  selection?: vscode.Uri[],
  args: UploadDeidentifiedArgs = {},
): Promise<UploadResult | undefined> {
  const uris = selection && selection.length > 0 ? selection : clicked ? [clicked] : undefined;
  return uploadDeidentified(services, uris, undefined, args);
}

/** `dicomweb.node.uploadDeidentified` on a server in the tree. */
export function uploadDeidentifiedHere(
  services: Services,
  node: DicomWebNode | undefined,
  uris?: vscode.Uri[],
  args: UploadDeidentifiedArgs = {},
): Promise<UploadResult | undefined> {
  return uploadDeidentified(services, uris, node?.uploadDestination(), args);
}

async function uploadDeidentified(
  services: Services,
  uris: vscode.Uri[] | undefined,
  target: UploadDestination | undefined,
  args: UploadDeidentifiedArgs,
): Promise<UploadResult | undefined> {
  const sources = uris ?? (await pickSources());
  const paths = sources.filter((uri) => uri.scheme === 'file').map((uri) => uri.fsPath);
  const { dicom } = await collectFiles(paths);
  if (dicom.length === 0) {
    void vscode.window.showWarningMessage(
      'Nothing to de-identify: the selection holds no DICOM file.',
    );
    return undefined;
  }
  const batch = new DeidentifyBatch(await pickDeidentifyOptions(services, args.options));
  const plans = await withProgress('Preparing the de-identification preview', (signal, report) =>
    planFiles(dicom, batch, { signal, onProgress: report }),
  );
  const markdown = previewMarkdown('De-identification preview', batch.options, plans);
  await showUploadReport(
    services.extensionContext.subscriptions,
    'De-identification preview',
    markdown,
  );
  const ready = plans.filter((p) => !p.error).map((p) => p.source);
  if (ready.length === 0)
    throw new Error('None of the files can be de-identified; the preview says why.');
  if (!args.confirmed) await confirm(ready.length, plans.length - ready.length);

  const folder = await mkdtemp(join(tmpdir(), 'dicomweb-deid-'));
  try {
    // Numbered names: two sources called "1.dcm" in different folders stay two files.
    const outputs = new Map(
      ready.map((source, i) => [source, join(folder, `${i + 1}-${basename(source)}`)]),
    );
    const written = await withProgress('De-identifying', (signal, report) =>
      deidentifyFiles(ready, batch, (source) => outputs.get(source)!, {
        signal,
        onProgress: report,
      }),
    );
    return await uploadUris(
      services,
      written.filter((w) => w.output).map((w) => vscode.Uri.file(w.output!)),
      target,
      {
        labels: new Map(written.filter((w) => w.output).map((w) => [w.output!, w.source])),
        notSent: notSent([...plans.filter((p) => p.error), ...written.filter((w) => w.error)]),
        verb: 'Uploading de-identified files',
      },
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

async function pickSources(): Promise<vscode.Uri[]> {
  const uris = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: true,
    openLabel: 'De-identify and Upload',
    title: 'Upload de-identified copies of DICOM files or folders',
  });
  if (!uris || uris.length === 0) throw new UserCancelled();
  return uris;
}

async function confirm(ready: number, failing: number): Promise<void> {
  const detail =
    'The preview lists every attribute that will change. The files on disk are not modified.' +
    (failing ? ` ${failing} file(s) cannot be de-identified and will not be sent.` : '');
  const choice = await vscode.window.showWarningMessage(
    `Upload ${ready} de-identified file${ready === 1 ? '' : 's'}?`,
    { modal: true, detail },
    'Upload',
  );
  if (choice !== 'Upload') throw new UserCancelled();
}

function notSent(files: FileDeidentification[]): FileOutcome[] {
  return files.map((file) => ({
    file: file.source,
    status: 'failed',
    message: `not de-identified, not sent: ${file.error}`,
  }));
}

function withProgress<T>(
  title: string,
  work: (signal: AbortSignal, report: (done: number, total: number) => void) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const subscription = token.onCancellationRequested(() => controller.abort());
      try {
        const result = await work(controller.signal, (done, total) =>
          progress.report({ message: `${done} of ${total}`, increment: 100 / total }),
        );
        if (controller.signal.aborted) throw new UserCancelled();
        return result;
      } finally {
        subscription.dispose();
      }
    },
  );
}
