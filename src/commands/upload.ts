/**
 * Upload (STOW-RS, PS3.18 §10.5) from the Explorer context menu, the palette, a tree node or
 * a drop: files and folders (recursively, also extension-less files that are DICOM) are
 * checked for the Part 10 preamble first, non-DICOM files are listed and not sent, the
 * transfer streams with progress and cancellation, and every file's outcome is reported.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { isDicomPart10 } from '../dicom/part10';
import {
  describeOutcome,
  headline,
  notDicomMessage,
  reportMarkdown,
} from '../dicomweb/transfer/outcomeText';
import type { FileOutcome, StoreSummary } from '../dicomweb/transfer/store';
import { showUploadReport } from '../documents/uploadReport';
import type { Services } from '../services';
import type { DicomWebNode, UploadDestination } from '../tree/nodes/DicomWebNode';
import type { ServerNode } from '../tree/nodes/ServerNode';
import { UserCancelled } from './registerCommand';

export interface UploadResult extends StoreSummary {
  /** Files found but not DICOM Part 10: listed, never sent. */
  notDicom: string[];
  target: string;
  /** The one message shown when nothing was sent (no DICOM file in the selection). */
  message?: string;
}

/** `dicomweb.upload.fromExplorer` — `(clicked, selection)` as VS Code passes them. */
export async function uploadFromExplorer(
  services: Services,
  clicked?: vscode.Uri,
  selection?: vscode.Uri[],
): Promise<UploadResult | undefined> {
  const uris = selection && selection.length > 0 ? selection : clicked ? [clicked] : [];
  if (uris.length === 0) return uploadWithPicker(services);
  return uploadUris(services, uris, undefined);
}

/** `dicomweb.upload` from the palette or the view title: a file picker. */
export async function uploadWithPicker(
  services: Services,
  target?: UploadDestination,
): Promise<UploadResult | undefined> {
  const uris = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: true,
    openLabel: 'Upload',
    title: 'Upload DICOM files or folders',
  });
  if (!uris || uris.length === 0) throw new UserCancelled();
  return uploadUris(services, uris, target);
}

/** `dicomweb.node.uploadHere` on a server ("upload") or a study ("upload to this study"). */
export function uploadHere(
  services: Services,
  node: DicomWebNode | undefined,
  uris?: vscode.Uri[],
): Promise<UploadResult | undefined> {
  const destination = node?.uploadDestination();
  return uris && uris.length > 0
    ? uploadUris(services, uris, destination)
    : uploadWithPicker(services, destination);
}

/** What a caller that prepared the files itself (de-identified copies) adds to an upload. */
export interface PreparedUpload {
  /** The name a sent file is reported under (its source, not its temporary copy). */
  labels: ReadonlyMap<string, string>;
  /** Files that could not be prepared: reported as failed, never sent. */
  notSent: FileOutcome[];
  /** The progress title's verb ("Uploading de-identified files"). */
  verb: string;
}

export async function uploadUris(
  services: Services,
  uris: vscode.Uri[],
  target: UploadDestination | undefined,
  prepared?: PreparedUpload,
): Promise<UploadResult | undefined> {
  reportNotOnDisk(services, uris);
  // Files first: a selection of non-DICOM files (LICENSE, Makefile: the Explorer entry is on
  // every extension-less file) gets one sentence, without asking for a server first.
  const { dicom, notDicom } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Looking for DICOM files…' },
    () => collectFiles(uris.filter((uri) => uri.scheme === 'file').map((uri) => uri.fsPath)),
  );
  if (dicom.length === 0) return nothingToSend(services, notDicom);

  const offered = target ?? (await pickServer(services)).uploadDestination();
  // A server with data partitions: the partition is asked for (or a new one named).
  const destination = offered.choose ? await offered.choose() : offered;
  if (!destination) throw new UserCancelled();
  const study = destination.studyInstanceUid;
  const targetName = destination.name;

  const summary = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `${prepared?.verb ?? 'Uploading'} to ${targetName}`,
      cancellable: true,
    },
    async (progress, token) => {
      const controller = new AbortController();
      const subscription = token.onCancellationRequested(() => controller.abort());
      try {
        return await destination.server.client.storeInstances(dicom, {
          studyInstanceUid: study,
          signal: controller.signal,
          ...uploadSettings(),
          onProgress: progressReporter(progress),
        });
      } finally {
        subscription.dispose();
        // The tree shows the new data where it landed.
        services.tree.refresh(destination.node);
      }
    },
  );
  const result: UploadResult = {
    ...summary,
    ...(prepared ? relabel(summary, prepared) : {}),
    notDicom,
    skipped: summary.skipped + notDicom.length,
    target: targetName,
  };
  logOutcomes(services, result);
  // After withProgress has ended: the progress toast is gone before the summary shows.
  void showSummary(services, result);
  return result;
}

/** The outcomes under their sources' names, with the files that were never sent. */
function relabel(
  summary: StoreSummary,
  prepared: PreparedUpload,
): Pick<StoreSummary, 'outcomes' | 'failed'> {
  const outcomes = summary.outcomes.map((outcome) => ({
    ...outcome,
    file: prepared.labels.get(outcome.file) ?? outcome.file,
  }));
  return {
    outcomes: [...prepared.notSent, ...outcomes],
    failed: summary.failed + prepared.notSent.length,
  };
}

/** No DICOM file in the selection: one message (and one log line a file), nothing sent. */
function nothingToSend(services: Services, notDicom: string[]): UploadResult {
  const message = notDicomMessage(notDicom.length ? notDicom : ['The selection']);
  for (const file of notDicom) services.log.info(`upload: not DICOM, not sent: ${file}`);
  if (notDicom.length) void vscode.window.showWarningMessage(message);
  else void vscode.window.showWarningMessage('Nothing to upload: the selection holds no file.');
  return {
    outcomes: [],
    stored: 0,
    warnings: 0,
    failed: 0,
    skipped: notDicom.length,
    serverWarnings: [],
    notDicom,
    target: '',
    message,
  };
}

function uploadSettings(): { batchSize: number; concurrency: number } {
  const configuration = vscode.workspace.getConfiguration('dicomweb');
  return {
    batchSize: configuration.get<number>('upload.batchSize', 50),
    concurrency: configuration.get<number>('upload.concurrency', 2),
  };
}

/** Progress is throttled: a toast redrawn 1,000 times a second blocks nobody but helps nobody. */
function progressReporter(progress: vscode.Progress<{ message?: string; increment?: number }>) {
  let reported = 0;
  let lastReport = 0;
  return ({
    filesDone,
    filesTotal,
    bytesSent,
    bytesTotal,
  }: {
    filesDone: number;
    filesTotal: number;
    bytesSent: number;
    bytesTotal: number;
  }): void => {
    const now = Date.now();
    if (now - lastReport < 100 && filesDone < filesTotal) return;
    lastReport = now;
    const percent =
      bytesTotal > 0 ? (bytesSent / bytesTotal) * 100 : (filesDone / Math.max(1, filesTotal)) * 100;
    progress.report({
      increment: percent - reported,
      message: `${filesDone} of ${filesTotal} files · ${formatBytes(bytesSent)} of ${formatBytes(bytesTotal)}`,
    });
    reported = percent;
  };
}

/**
 * Upload streams files from this machine's disk (STOW-RS bodies of any size, without
 * holding them in memory). Resources of a virtual workspace (`vscode-vfs:`, `untitled:`, …)
 * are not there: they are named, once, instead of vanishing from the count.
 */
function reportNotOnDisk(services: Services, uris: readonly vscode.Uri[]): void {
  const elsewhere = uris.filter((uri) => uri.scheme !== 'file');
  if (elsewhere.length === 0) return;
  for (const uri of elsewhere)
    services.log.warn(
      `upload: skipped ${uri.toString(true)}: not a file on this machine's disk (${uri.scheme}:)`,
    );
  const schemes = [...new Set(elsewhere.map((uri) => `${uri.scheme}:`))].join(', ');
  const what =
    elsewhere.length === 1
      ? `"${elsewhere[0]!.path.split('/').pop()}" was`
      : `${elsewhere.length} items were`;
  void vscode.window.showWarningMessage(
    `${what} not uploaded: upload reads files from this machine's disk, and ${schemes} resources are not on it.`,
  );
}

/** Walks folders; keeps files that start with the Part 10 preamble, whatever their extension. */
export async function collectFiles(
  paths: string[],
  signal?: AbortSignal,
): Promise<{ dicom: string[]; notDicom: string[] }> {
  const dicom: string[] = [];
  const notDicom: string[] = [];
  const visit = async (path: string): Promise<void> => {
    if (signal?.aborted) return;
    const info = await stat(path);
    if (info.isDirectory()) {
      const entries = await readdir(path);
      entries.sort();
      for (const entry of entries) {
        if (entry.startsWith('.')) continue;
        await visit(join(path, entry));
      }
    } else if (info.isFile()) {
      if (await isDicomPart10(path).catch(() => false)) dicom.push(path);
      else notDicom.push(path);
    }
  };
  for (const path of paths) await visit(path);
  return { dicom, notDicom };
}

async function pickServer(services: Services): Promise<ServerNode> {
  await services.tree.getChildren();
  const servers = services.tree.serverNodes();
  if (servers.length === 0) {
    const add = await vscode.window.showWarningMessage(
      'There is no DICOMweb server to upload to yet.',
      'Add a DICOMweb Server…',
    );
    if (add) await vscode.commands.executeCommand('dicomweb.server.add');
    throw new UserCancelled();
  }
  if (servers.length === 1) return servers[0];
  const picked = await vscode.window.showQuickPick(
    servers.map((server) => ({
      label: server.connection.name,
      description: server.connection.url,
      server,
    })),
    { title: 'Upload to which DICOMweb server?' },
  );
  if (!picked) throw new UserCancelled();
  return picked.server;
}

function logOutcomes(services: Services, result: UploadResult): void {
  services.log.info(`Upload to ${result.target}: ${headline(result)}`);
  for (const outcome of result.outcomes) {
    const line = `  ${outcome.status.padEnd(7)} ${outcome.file}${describeOutcome(outcome) ? ` — ${describeOutcome(outcome)}` : ''}`;
    if (outcome.status === 'failed') services.log.warn(line);
    else services.log.info(line);
  }
  for (const file of result.notDicom) services.log.info(`  not DICOM ${file} — not sent`);
}

export { headline };

async function showSummary(services: Services, result: UploadResult): Promise<void> {
  const message = `Upload to ${result.target}: ${headline(result)}.`;
  const problems = result.failed + result.warnings + result.skipped > 0;
  const choice = problems
    ? await vscode.window.showWarningMessage(message, 'Show Details')
    : await vscode.window.showInformationMessage(message, 'Show Details');
  if (choice === 'Show Details') await openReport(services, result);
}

/** The report as a read-only Markdown document (never an untitled one asking to be saved). */
export function openReport(
  services: Pick<Services, 'extensionContext'>,
  result: UploadResult,
): Promise<vscode.TextDocument> {
  return showUploadReport(
    services.extensionContext.subscriptions,
    `Upload to ${result.target}`,
    reportMarkdown(result),
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
