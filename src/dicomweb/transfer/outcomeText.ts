/**
 * How one uploaded file's outcome reads in the log and in the upload report. Pure text,
 * no `vscode` import (unit-tested in test/unit/outcomeText.test.ts).
 */
import type { FileOutcome, StoreSummary } from './store';

/** 0xB00E: PS3.4 Annex B.2.3 "already exists"; Azure DICOM service's 45070. */
export const DUPLICATE_INSTANCE = 0xb00e;

/**
 * Servers differ on a second copy of an instance, and the standard lets them (PS3.4
 * §B.2.3 makes a duplicate a warning or a failure at the server's choice): the same upload
 * reads "stored" on Orthanc and "failed" on Azure or the local server. Said in the reason so
 * the difference is not taken for a fault of the file.
 */
export const DUPLICATE_EXPLANATION =
  'this server keeps the copy it has and refuses a second one with the same SOPInstanceUID (the Azure DICOM service and the local server do; Orthanc accepts it and answers "stored")';

export interface UploadReportInput extends StoreSummary {
  /** Files found but not DICOM Part 10: listed, never sent. */
  notDicom: string[];
  target: string;
}

/**
 * The reason column of one file. A stored file has no failure reason: the batch it went in
 * may have been answered 400 for another file (Orthanc answers 400 when one part of many
 * is bad, and still stores the others), so the HTTP status is a reason for failed files
 * only, and only when neither a FailureReason nor the message already says why
 * ("HTTP 400 — HTTP 400").
 */
export function describeOutcome(outcome: FileOutcome): string {
  const parts: string[] = [];
  if (outcome.reasonCode !== undefined) {
    const code = `${outcome.reasonText} (${outcome.reasonCode}, 0x${outcome.reasonCode.toString(16).toUpperCase()})`;
    parts.push(
      outcome.reasonCode === DUPLICATE_INSTANCE && outcome.status === 'failed'
        ? `${code}: ${DUPLICATE_EXPLANATION}`
        : code,
    );
  }
  if (outcome.message) parts.push(outcome.message);
  if (
    outcome.status === 'failed' &&
    outcome.httpStatus !== undefined &&
    outcome.reasonCode === undefined &&
    !parts.some((part) => new RegExp(`\\b${outcome.httpStatus}\\b`).test(part))
  ) {
    parts.push(`HTTP ${outcome.httpStatus}`);
  }
  return [...new Set(parts)].join(' — ');
}

export function headline(result: UploadReportInput): string {
  const parts = [`${result.stored} stored`];
  if (result.warnings) parts.push(`${result.warnings} stored with warnings`);
  if (result.failed) parts.push(`${result.failed} failed`);
  const skipped = result.skipped - result.notDicom.length;
  if (skipped) parts.push(`${skipped} skipped`);
  if (result.notDicom.length) parts.push(`${result.notDicom.length} not DICOM (not sent)`);
  return parts.join(', ') + replacedCounts(result.outcomes);
}

/**
 * Upsert ("Upload and Replace"): of the stored files (with warnings or not), how many replaced
 * an instance and how many were new, when the upload knew (FileOutcome.replaced); empty for a
 * plain upload.
 */
function replacedCounts(outcomes: readonly FileOutcome[]): string {
  const known = outcomes.filter((o) => o.replaced !== undefined);
  if (known.length === 0) return '';
  const replaced = known.filter((o) => o.replaced).length;
  return `; ${replaced} replaced, ${known.length - replaced} new`;
}

/**
 * A file's outcome as the report's first column: an upsert's stored files read "replaced" or
 * "new" (with warnings: "replaced, with warnings"), every other file its status.
 */
export function outcomeLabel(outcome: FileOutcome): string {
  if (outcome.replaced === undefined) return outcome.status;
  const label = outcome.replaced ? 'replaced' : 'new';
  return outcome.status === 'warning' ? `${label}, with warnings` : label;
}

/**
 * The one message for a selection with no DICOM file in it (the Explorer offers upload on
 * every extension-less file, LICENSE and Makefile included): one sentence, not one toast a file.
 */
export function notDicomMessage(files: readonly string[]): string {
  const name = (file: string): string => file.split(/[\\/]/).pop() ?? file;
  if (files.length === 1)
    return `${name(files[0]!)} is not a DICOM file (no DICM preamble, PS3.10 §7.1); nothing was sent.`;
  const shown = files.slice(0, 3).map(name).join(', ');
  const more = files.length > 3 ? ` and ${files.length - 3} more` : '';
  return `${files.length} files (${shown}${more}) are not DICOM files (no DICM preamble, PS3.10 §7.1); nothing was sent.`;
}

/** The Markdown report: one row per file with the server's reason. */
export function reportMarkdown(result: UploadReportInput): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# Upload to ${result.target}`,
    '',
    headline(result),
    '',
    '| Outcome | File | SOPInstanceUID | Reason |',
    '| --- | --- | --- | --- |',
  ];
  for (const outcome of result.outcomes) {
    lines.push(
      `| ${outcomeLabel(outcome)} | ${cell(outcome.file)} | ${outcome.sopInstanceUid ?? ''} | ${cell(describeOutcome(outcome))} |`,
    );
  }
  for (const file of result.notDicom)
    lines.push(`| not DICOM | ${cell(file)} | | no DICM preamble (PS3.10 §7.1); not sent |`);
  if (result.serverWarnings.length)
    lines.push(
      '',
      '## Server warnings',
      '',
      ...result.serverWarnings.map((warning) => `- ${warning}`),
    );
  return lines.join('\n') + '\n';
}

/**
 * Upload reports kept for reopening (uploadReport.ts); an older one reads as "no longer kept". A
 * report is a few KB.
 */
export const KEPT_REPORTS = 20;

/** The last `max` texts by key, oldest dropped first: the reports a session may reopen. */
export class KeptTexts {
  private readonly texts = new Map<string, string>();

  constructor(private readonly max = KEPT_REPORTS) {}

  set(key: string, text: string): void {
    this.texts.delete(key);
    this.texts.set(key, text);
    while (this.texts.size > this.max) this.texts.delete(this.texts.keys().next().value!);
  }

  get(key: string): string | undefined {
    return this.texts.get(key);
  }

  get size(): number {
    return this.texts.size;
  }
}
