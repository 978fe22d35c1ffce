/**
 * Where a preview's frames come from: a DICOMweb service (through the client, with the
 * fallback chain of issue 4) or a local Part 10 file. No `vscode` import: plain Node.
 */
import type * as dicomParser from 'dicom-parser';
import type { DicomWebClient } from '../dicomweb';
import { DicomWebHttpError, redactUrl } from '../dicomweb/transport/errors';
import { readDataSet } from '../dicom/part10';
import type { FramePath, ImageInfo, OverlayAttributes } from '../../webview/protocol';
import { fileFrame } from '../imaging/header/fileFrames';
import { imageInfoFromDataSet, imageInfoFromJson } from '../imaging/header/imageInfo';
import { overlayFromDataSet, overlayFromJson } from './overlay';

/** The bytes of one frame and how they were obtained. */
export interface SourcedFrame {
  path: FramePath;
  mediaType: string;
  transferSyntaxUid?: string;
  bytes: Uint8Array;
}

export interface FrameSource {
  /** Shown in the panel ("Orthanc at http://…", a file path). */
  readonly label: string;
  /** Reads the header. @throws NotAnImageError, or the transport's error. */
  open(signal?: AbortSignal): Promise<{ info: ImageInfo; attributes: OverlayAttributes }>;
  /** Frame `frameNumber` (1-based), starting at path `from` of the fallback chain. */
  frame(frameNumber: number, from?: FramePath, signal?: AbortSignal): Promise<SourcedFrame>;
}

/** The instance a preview shows. */
export interface InstanceTarget {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

/** Explicit VR Little Endian: the transcoded form every server must offer (PS3.18 §8.7.3.5.2). */
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

const PATHS: FramePath[] = ['stored', 'transcoded', 'rendered'];

/** One line per fallback step, for the log. */
export type FallbackLogger = (message: string) => void;

/**
 * Frames over WADO-RS (PS3.18 §10.4.1.1.3): `transfer-syntax=*` first (the frame as stored,
 * decoded in the webview, so nothing depends on the server transcoding); when the server
 * refuses or fails, Explicit VR Little Endian (the server transcodes); last, `/rendered`
 * as PNG (§10.4.1.1.4), which has no pixel values. The first path that worked is where the
 * next frame starts.
 */
export class DicomWebFrameSource implements FrameSource {
  readonly label: string;
  private startPath: FramePath = 'stored';

  constructor(
    private readonly client: DicomWebClient,
    private readonly target: InstanceTarget,
    private readonly log: FallbackLogger = () => undefined,
  ) {
    // Posted to the webview and shown: never a URL's user info (issue 10, finding 4c).
    this.label = redactUrl(client.baseUrl);
  }

  async open(signal?: AbortSignal): Promise<{ info: ImageInfo; attributes: OverlayAttributes }> {
    const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = this.target;
    const datasets = await this.client.retrieveInstanceMetadata(
      studyInstanceUid,
      seriesInstanceUid,
      sopInstanceUid,
      { signal },
    );
    const dataset = datasets[0];
    if (!dataset) throw new Error('The server returned no metadata for this instance.');
    const info = await imageInfoFromJson(dataset, async (uri) => {
      const parts = await this.client.retrieveBulkData(uri, { signal });
      return parts[0]?.data ?? new Uint8Array();
    });
    return { info, attributes: overlayFromJson(dataset) };
  }

  async frame(
    frameNumber: number,
    from: FramePath = 'stored',
    signal?: AbortSignal,
  ): Promise<SourcedFrame> {
    // A path that failed once (or that the webview could not decode) fails for every frame
    // of the instance: the next frames start where the last one succeeded.
    const start = Math.max(PATHS.indexOf(from), PATHS.indexOf(this.startPath));
    let lastError: unknown;
    for (const path of PATHS.slice(start)) {
      try {
        const frame = await this.fetch(path, frameNumber, signal);
        this.startPath = path;
        return frame;
      } catch (error) {
        if (signal?.aborted) throw error;
        lastError = error;
        this.log(`frame ${frameNumber}: ${path} failed (${describe(error)}), trying the next path`);
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  private async fetch(
    path: FramePath,
    frameNumber: number,
    signal?: AbortSignal,
  ): Promise<SourcedFrame> {
    if (path === 'rendered') {
      const rendered = await this.client.retrieveRendered(this.target, frameNumber, {
        mediaType: 'image/png',
        signal,
      });
      return { path, mediaType: rendered.mediaType, bytes: rendered.data };
    }
    const transferSyntax = path === 'stored' ? '*' : EXPLICIT_VR_LITTLE_ENDIAN;
    const [frame] = await this.client.retrieveInstanceFrames(this.target, [frameNumber], {
      transferSyntax,
      signal,
    });
    if (!frame) throw new Error(`The server returned no part for frame ${frameNumber}.`);
    const sourced: SourcedFrame = { path, mediaType: frame.mediaType, bytes: frame.data };
    const syntax =
      frame.transferSyntaxUid ?? (path === 'transcoded' ? EXPLICIT_VR_LITTLE_ENDIAN : undefined);
    if (syntax && syntax !== '*') sourced.transferSyntaxUid = syntax;
    return sourced;
  }
}

function describe(error: unknown): string {
  if (error instanceof DicomWebHttpError) return `HTTP ${error.status}`;
  return error instanceof Error ? error.message : String(error);
}

/** Frames of a local Part 10 file, read whole once (dicom-parser inflates deflated files). */
export class FileFrameSource implements FrameSource {
  private dataSet?: dicomParser.DataSet;
  private info?: ImageInfo;

  constructor(
    readonly label: string,
    private readonly read: () => Promise<Uint8Array>,
  ) {}

  async open(): Promise<{ info: ImageInfo; attributes: OverlayAttributes }> {
    const dataSet = readDataSet(await this.read());
    const info = imageInfoFromDataSet(dataSet);
    this.dataSet = dataSet;
    this.info = info;
    return { info, attributes: overlayFromDataSet(dataSet) };
  }

  async frame(frameNumber: number): Promise<SourcedFrame> {
    if (!this.dataSet || !this.info) await this.open();
    const bytes = fileFrame(this.dataSet!, this.info!, frameNumber);
    const frame: SourcedFrame = { path: 'stored', mediaType: 'application/octet-stream', bytes };
    if (this.info!.transferSyntaxUid) frame.transferSyntaxUid = this.info!.transferSyntaxUid;
    return frame;
  }
}
