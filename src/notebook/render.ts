/**
 * A cell's answer as notebook outputs: HTML a person reads (a table for a search, the list
 * of parts of a retrieve, the per-instance outcomes of a STOW) and the JSON itself as
 * `application/json`. Every output starts with the status line: status, time and size.
 * Pure text; the controller wraps these in `vscode.NotebookCellOutputItem`s.
 */
import type { DicomJsonDataset } from '../dicom/types';
import { toCurl } from '../dicomweb/curl';
import type { RequestSpec } from '../dicomweb/requests';
import { DicomWebError, DicomWebHttpError, STATUS_TEXT } from '../dicomweb/transport/errors';
import { describeOutcome } from '../dicomweb/transfer/outcomeText';
import { encodeFrameOutput, FRAME_MIME } from './frameOutput';
import type { CellAnswer, PartSummary } from './run';
import {
  SEARCH_MIME,
  searchColumns,
  searchOutput,
  searchValue,
  TABLE_ROWS,
  type SearchOutput,
} from './searchOutput';

export { TABLE_ROWS } from './searchOutput';

export interface RenderedOutput {
  /**
   * text/html, application/json, text/plain; image/png, image/jpeg, image/gif; FRAME_MIME;
   * SEARCH_MIME (a search's rows for the renderer, shown instead of its HTML).
   */
  mime: string;
  /** The text of a text output ('' for an image or a frame). */
  data: string;
  /** The bytes of an image or a frame output. */
  bytes?: Uint8Array;
}

/**
 * The outputs of an answer. `frameInfo` is the image header of a frames answer's instance
 * (the host reads it from the instance's metadata); without it frames are listed, not drawn.
 * `connectionId`, the kernel's connection, lets a search's rows be shown in the tree.
 */
export function renderAnswer(
  answer: CellAnswer,
  notes: readonly string[] = [],
  frameInfo?: unknown,
  connectionId?: string,
): RenderedOutput[] {
  const allNotes = [...notes, ...answer.warnings];
  const html = [statusLine(answer), ...noteList(allNotes), body(answer)];
  const outputs: RenderedOutput[] = [];
  if (answer.kind === 'search') {
    const rows = searchOutput(answer.datasets ?? [], statusParts(answer), allNotes, connectionId);
    outputs.push({ mime: SEARCH_MIME, data: JSON.stringify(rows satisfies SearchOutput) });
  }
  outputs.push({ mime: 'text/html', data: html.join('\n') });
  outputs.push(...imageOutputs(answer, frameInfo));
  if (answer.json !== undefined) {
    outputs.push({ mime: 'application/json', data: JSON.stringify(answer.json, null, 2) });
  }
  return outputs;
}

/**
 * The outputs as VS Code's cell outputs: the items of one output are one thing in several
 * mime types, of which VS Code shows one (its display order puts a mime type of ours
 * first, then application/json before text/html). So a search's rows, HTML and JSON are one
 * output (the renderer's table; the HTML and the JSON by "Change Presentation"), and every
 * other output stands alone: the status line and the JSON below it, each image.
 */
export function cellOutputGroups(outputs: readonly RenderedOutput[]): RenderedOutput[][] {
  if (!outputs.some((output) => output.mime === SEARCH_MIME)) {
    return outputs.map((output) => [output]);
  }
  const answer = new Set([SEARCH_MIME, 'text/html', 'application/json']);
  return [
    outputs.filter((output) => answer.has(output.mime)),
    ...outputs.filter((output) => !answer.has(output.mime)).map((output) => [output]),
  ];
}

/** A rendered answer as itself (VS Code shows PNG, JPEG, GIF); frames as FRAME_MIME. */
export function imageOutputs(answer: CellAnswer, frameInfo?: unknown): RenderedOutput[] {
  const images = answer.images ?? [];
  if (!answer.frameInstance)
    return images.map((image) => ({ mime: image.mediaType, data: '', bytes: image.bytes }));
  if (frameInfo === undefined) return [];
  return images.map((image) => ({
    mime: FRAME_MIME,
    data: '',
    bytes: encodeFrameOutput(
      {
        info: frameInfo,
        mediaType: image.mediaType,
        ...(image.transferSyntaxUid ? { transferSyntaxUid: image.transferSyntaxUid } : {}),
        frameNumber: image.frameNumber ?? 1,
      },
      image.bytes,
    ),
  }));
}

function body(answer: CellAnswer): string {
  switch (answer.kind) {
    case 'search':
      return searchTable(answer.datasets ?? []);
    case 'parts':
      return partsTable(answer.parts ?? [], answer.partCount ?? 0);
    case 'store':
      return storeTable(answer);
    case 'delete':
      return deleteText(answer);
    case 'metadata':
      return `<p>${count(answer.datasets?.length ?? 0, 'instance')} of metadata (DICOM JSON below).</p>`;
    default:
      return answer.json === undefined
        ? `<p>${escapeHtml(answer.contentType ?? 'no content type')}, ${size(answer.bytes)}.</p>`
        : '';
  }
}

/** Status, time, size and request of an answer: the first line of every output. */
function statusParts(answer: CellAnswer): SearchOutput['status'] {
  const what =
    answer.kind === 'store'
      ? `${size(answer.bytes)} sent`
      : answer.kind === 'delete'
        ? `${answer.deleteRequests?.length ?? 0} request(s)`
        : size(answer.bytes);
  const status = answer.status
    ? `${answer.status} ${STATUS_TEXT[answer.status] ?? ''}`.trim()
    : 'done';
  return {
    status,
    ms: Math.round(answer.ms),
    size: what,
    request: `${answer.request.method} ${answer.request.path}`,
  };
}

function statusLine(answer: CellAnswer): string {
  const parts = statusParts(answer);
  return `<p class="dicomweb-status"><strong>${escapeHtml(parts.status)}</strong> · ${parts.ms} ms · ${escapeHtml(parts.size)} · <code>${escapeHtml(parts.request)}</code></p>`;
}

function noteList(notes: readonly string[]): string[] {
  return notes.length
    ? [`<ul>${notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`]
    : [];
}

/** Keywords as columns, in tag order; values as the DICOM JSON has them (UIDs whole). */
export function searchTable(datasets: readonly DicomJsonDataset[]): string {
  if (!datasets.length) return '<p>No match.</p>';
  const columns = searchColumns(datasets);
  const shown = datasets.slice(0, TABLE_ROWS);
  const head = columns
    .map((column) => `<th title="${column.tag}">${escapeHtml(column.keyword)}</th>`)
    .join('');
  const rows = shown.map(
    (row) =>
      `<tr>${columns.map((column) => `<td>${cellValue(row, column.tag)}</td>`).join('')}</tr>`,
  );
  const more =
    datasets.length > shown.length
      ? `<p>First ${shown.length} of ${datasets.length} rows; all are in the JSON.</p>`
      : '';
  return `<p>${count(datasets.length, 'row')}.</p><table><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>${more}`;
}

function cellValue(row: DicomJsonDataset, tag: string): string {
  const text = escapeHtml(searchValue(row, tag));
  return row[tag]?.vr === 'UI' ? `<code>${text}</code>` : text;
}

function partsTable(parts: readonly PartSummary[], partCount: number): string {
  const rows = parts.map(
    (part, index) =>
      `<tr><td>${index + 1}</td><td>${escapeHtml(part.mediaType)}</td><td>${escapeHtml(part.transferSyntaxUid ?? '')}</td><td>${size(part.bytes)}</td><td><code>${escapeHtml(part.sopInstanceUid ?? '')}</code></td></tr>`,
  );
  const more =
    partCount > parts.length
      ? `<p>${partCount - parts.length} more part(s) counted, not listed.</p>`
      : '';
  return `<p>${count(partCount, 'part')}.</p><table><thead><tr><th>#</th><th>Media type</th><th>Transfer syntax</th><th>Size</th><th>SOP Instance UID</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}`;
}

function storeTable(answer: CellAnswer): string {
  const store = answer.store!;
  const rows = store.outcomes.map(
    (outcome) =>
      `<tr><td>${escapeHtml(baseName(outcome.file))}</td><td>${escapeHtml(outcome.status)}</td><td><code>${escapeHtml(outcome.sopInstanceUid ?? '')}</code></td><td>${escapeHtml(describeOutcome(outcome))}</td></tr>`,
  );
  const headline = [`${store.stored} stored`];
  if (store.warnings) headline.push(`${store.warnings} with warnings`);
  if (store.failed) headline.push(`${store.failed} failed`);
  if (store.skipped) headline.push(`${store.skipped} skipped`);
  return `<p>${headline.join(', ')}.</p><table><thead><tr><th>File</th><th>Outcome</th><th>SOP Instance UID</th><th>Reason</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function deleteText(answer: CellAnswer): string {
  const sent = (answer.deleteRequests ?? []).map(
    (request) => `<li><code>${escapeHtml(`${request.method} ${request.path}`)}</code></li>`,
  );
  return `<p>Deleted <code>${escapeHtml(answer.request.path)}</code>. Sent:</p><ul>${sent.join('')}</ul>`;
}

/**
 * A failed cell: the status, the server's own message, and the request sent as cURL with
 * the credential as a placeholder (never the real one).
 */
export function renderError(
  error: unknown,
  request: RequestSpec | undefined,
  connection: { baseUrl: string; serverRoot?: string; authKind: 'none' | 'bearer' | 'basic' },
): RenderedOutput[] {
  const status =
    error instanceof DicomWebHttpError
      ? `${error.status} ${error.statusText}`
      : error instanceof DicomWebError
        ? error.code
        : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const server =
    error instanceof DicomWebError && error.serverMessage
      ? `<p>The server said: ${escapeHtml(error.serverMessage)}</p>`
      : '';
  const sent = request
    ? `<p>Request sent:</p><pre>${escapeHtml(toCurl(request, { ...connection }))}</pre>`
    : '';
  return [
    {
      mime: 'text/html',
      data: `<p class="dicomweb-error"><strong>${escapeHtml(status)}</strong></p><p>${escapeHtml(message)}</p>${server}${sent}`,
    },
  ];
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
