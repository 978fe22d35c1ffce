/**
 * One notebook's run state: the answers of its named cells (for `{{name.row.Keyword}}`),
 * and the whole path of one cell from text to outputs: placeholders, reading, sending,
 * rendering. The controller (src/notebookHost/controller.ts) and the tests drive this same
 * code, so what the tests check is what a user sees.
 */
import type { DicomJsonDataset } from '../dicom/types';
import type { DicomWebClient } from '../dicomweb/client';
import type { InstancePath, RequestSpec } from '../dicomweb/requests';
import { renderAnswer, renderError, type RenderedOutput } from './render';
import { parseRequestCell } from './request';
import { runRequest, type CellAnswer, type NotebookLimits } from './run';
import { resolveCellText } from './variables';

export interface CellResult {
  ok: boolean;
  outputs: RenderedOutput[];
  answer?: CellAnswer;
  /** True when the cell's text held an Authorization header (or --user) that was dropped. */
  droppedAuthorization: boolean;
}

export const DROPPED_AUTHORIZATION =
  "The cell's Authorization header was not sent: the connection's own credentials were used (a notebook never stores one).";

/**
 * The image header of an instance (the preview's ImageInfo), read by the host: the notebook
 * room does not build it (src/imaging/header/imageInfo.ts does).
 */
export type FrameInfoReader = (
  client: DicomWebClient,
  instance: Required<InstancePath>,
  signal?: AbortSignal,
) => Promise<unknown>;

/**
 * Said instead of running a cell in Restricted Mode: a notebook is a file of the workspace, and
 * its cells read and upload files (`< ./file`, `--data-binary @file`, `--form file=@…`) and
 * send requests; an untrusted repository must not make them run (the extension's
 * capabilities.untrustedWorkspaces, package.json).
 */
export const RESTRICTED_MODE =
  'Restricted Mode: this notebook sends no request and reads no file until you trust the workspace (its cells can upload files from this machine). Trust it with "Manage Workspace Trust", then run the cell again.';

export class NotebookRun {
  private readonly answers = new Map<string, DicomJsonDataset[]>();

  /**
   * `connectionId`: the kernel's connection, on which a search's rows are shown in the tree.
   * `trusted`: asked before every cell (the host's `workspace.isTrusted`); false, nothing is
   * read or sent and the cell says {@link RESTRICTED_MODE}.
   */
  constructor(
    private readonly folder: string,
    private readonly limits: Partial<NotebookLimits> = {},
    private readonly frameInfo?: FrameInfoReader,
    private readonly connectionId?: string,
    private readonly trusted: () => boolean = () => true,
  ) {}

  /** The answer rows of a named cell, as references read them. */
  answerOf(name: string): readonly DicomJsonDataset[] | undefined {
    return this.answers.get(name);
  }

  /**
   * The cell's result when it may not run now (Restricted Mode), else undefined. The host asks
   * first too, so that not even the local server is started for a cell that will not run.
   */
  refusal(): CellResult | undefined {
    if (this.trusted()) return undefined;
    const outputs = [
      { mime: 'text/html', data: `<p class="dicomweb-error">${RESTRICTED_MODE}</p>` },
    ];
    return { ok: false, outputs, droppedAuthorization: false };
  }

  async runCell(client: DicomWebClient, text: string, signal?: AbortSignal): Promise<CellResult> {
    const refused = this.refusal();
    if (refused) return refused;
    let spec: RequestSpec | undefined;
    let droppedAuthorization = false;
    try {
      const request = parseRequestCell(
        resolveCellText(text, { folder: this.folder, answers: this.answers }),
        client.baseUrl,
      );
      spec = request.spec;
      droppedAuthorization = request.droppedAuthorization;
      const answer = await runRequest(client, request.spec, {
        folder: this.folder,
        signal,
        limits: this.limits,
      });
      if (request.name) this.answers.set(request.name, answer.datasets ?? []);
      const notes = [...(droppedAuthorization ? [DROPPED_AUTHORIZATION] : []), ...request.warnings];
      const info = await this.frameInfoOf(client, answer, notes, signal);
      return {
        ok: true,
        outputs: renderAnswer(answer, notes, info, this.connectionId),
        answer,
        droppedAuthorization,
      };
    } catch (error) {
      const outputs = renderError(error, spec, {
        baseUrl: client.baseUrl,
        serverRoot: client.serverRoot,
        authKind: client.authProvider.kind,
      });
      return { ok: false, outputs, droppedAuthorization };
    }
  }

  /** A frames answer's header; when it cannot be read the frames are listed and a note says why. */
  private async frameInfoOf(
    client: DicomWebClient,
    answer: CellAnswer,
    notes: string[],
    signal?: AbortSignal,
  ): Promise<unknown> {
    if (!answer.frameInstance || !answer.images?.length) return undefined;
    if (!this.frameInfo) return undefined;
    try {
      return await this.frameInfo(client, answer.frameInstance, signal);
    } catch (error) {
      notes.push(
        `The frames are not drawn: the instance's metadata gave no image header (${error instanceof Error ? error.message : String(error)}).`,
      );
      return undefined;
    }
  }
}
