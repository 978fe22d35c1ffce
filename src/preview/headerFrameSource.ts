/**
 * Frames of a local file on disk, read one at a time with positioned reads: the header
 * comes from src/dicom/headerReader.ts (Pixel Data located, never loaded), so a 1 GB
 * multi-frame file costs one frame's bytes per frame shown. Native frames are found by
 * arithmetic (PS3.5 §8.1.1), encapsulated ones by the Basic Offset Table or the fragments
 * (PS3.5 §A.4). No `vscode` import: tested in plain Node.
 */
import type * as dicomParser from 'dicom-parser';
import {
  locateFragments,
  readDicomHeader,
  readFileRange,
  type DicomHeader,
  type PixelDataFragment,
} from '../dicom/headerReader';
import type { ImageInfo, OverlayAttributes } from '../../webview/protocol';
import { nativeFrameLength } from '../imaging/decode/native';
import { checkPixelBudget } from '../imaging/decode/budget';
import { fileFrame } from '../imaging/header/fileFrames';
import { NotAnImageError, imageInfoFromDataSet } from '../imaging/header/imageInfo';
import type { FrameSource, SourcedFrame } from './frameSource';
import { overlayFromDataSet } from './overlay';

export class HeaderFrameSource implements FrameSource {
  private info?: ImageInfo;
  private header?: DicomHeader;
  /** Fragment indexes where a JPEG frame starts (no offset table, fragments ≠ frames). */
  private jpegStarts?: number[];

  /**
   * @param path the file on disk
   * @param header its header, when the caller read it already (the custom editor)
   */
  constructor(
    readonly path: string,
    header?: DicomHeader,
  ) {
    this.header = header;
  }

  get label(): string {
    return this.path;
  }

  async open(): Promise<{ info: ImageInfo; attributes: OverlayAttributes }> {
    this.header ??= await readDicomHeader(this.path);
    await locateFragments(this.header);
    const { dataSet, pixelData } = this.header;
    if (!dataSet) throw new NotAnImageError(this.header.problems[0] ?? 'Nothing could be read.');
    const inFile = pixelData && !pixelData.encapsulated && !this.header.inMemory;
    const available = inFile
      ? Math.max(0, Math.min(pixelData.length, this.header.fileSize - pixelData.dataOffset))
      : undefined;
    this.info = imageInfoFromDataSet(dataSet, available);
    return { info: this.info, attributes: overlayFromDataSet(dataSet) };
  }

  async frame(frameNumber: number): Promise<SourcedFrame> {
    if (!this.info) await this.open();
    const info = this.info!;
    const header = this.header!;
    if (frameNumber < 1 || frameNumber > info.numberOfFrames) {
      throw new Error(
        `Frame ${frameNumber} does not exist; the instance has ${info.numberOfFrames}.`,
      );
    }
    checkPixelBudget(info);
    const bytes = header.inMemory
      ? fileFrame(header.dataSet as dicomParser.DataSet, info, frameNumber)
      : header.pixelData?.encapsulated
        ? await this.encapsulatedFrame(frameNumber - 1)
        : await this.nativeFrame(frameNumber - 1);
    const frame: SourcedFrame = { path: 'stored', mediaType: 'application/octet-stream', bytes };
    if (info.transferSyntaxUid) frame.transferSyntaxUid = info.transferSyntaxUid;
    return frame;
  }

  private async nativeFrame(index: number): Promise<Uint8Array> {
    const info = this.info!;
    const extent = this.header!.pixelData!;
    if (info.bitsAllocated === 1) {
      // Bits of a frame need not start on a byte (PS3.5 §8.1.1): read the bytes holding
      // them, repack from the bit offset.
      const bitsPerFrame = info.rows * info.columns * info.samplesPerPixel;
      const startBit = index * bitsPerFrame;
      const firstByte = startBit >> 3;
      const byteCount = Math.ceil(((startBit & 7) + bitsPerFrame) / 8);
      const source = await this.readPixels(extent.dataOffset + firstByte, byteCount, index);
      const out = new Uint8Array(Math.ceil(bitsPerFrame / 8));
      for (let i = 0; i < bitsPerFrame; i++) {
        const bit = (startBit & 7) + i;
        if ((source[bit >> 3]! >> (bit & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
      }
      return out;
    }
    const length = nativeFrameLength(info);
    const start = index * length;
    if (start + length > extent.length) {
      throw new Error(
        `Pixel Data is too short for frame ${index + 1}: needs ${length} bytes at ${start}.`,
      );
    }
    return this.readPixels(extent.dataOffset + start, length, index);
  }

  private async readPixels(position: number, length: number, index: number): Promise<Uint8Array> {
    const bytes = await readFileRange(this.path, position, length);
    if (bytes.length !== length) {
      throw new Error(`The file ends inside frame ${index + 1} (truncated).`);
    }
    return bytes;
  }

  private async encapsulatedFrame(index: number): Promise<Uint8Array> {
    const { fragments, basicOffsetTable } = this.header!.pixelData!.encapsulated!;
    const frames = this.info!.numberOfFrames;
    let chosen: PixelDataFragment[];
    if (frames === 1) {
      // One frame: all fragments belong to it, whatever the offset table says (§A.4).
      chosen = fragments;
    } else if (basicOffsetTable.length > 0) {
      const start = basicOffsetTable[index] ?? Infinity;
      const end = basicOffsetTable[index + 1] ?? Infinity;
      chosen = fragments.filter((f) => f.itemOffset >= start && f.itemOffset < end);
    } else if (fragments.length === frames) {
      chosen = [fragments[index]!];
    } else {
      // No offset table and frames spread over fragments: a JPEG frame starts with SOI.
      const starts = this.findJpegStarts(fragments);
      const first = starts[index];
      chosen = first === undefined ? [] : fragments.slice(first, starts[index + 1]);
    }
    if (chosen.length === 0) throw new Error(`No fragment of frame ${index + 1} was found.`);
    const parts = await Promise.all(
      chosen.map((fragment) => readFileRange(this.path, fragment.offset, fragment.length)),
    );
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Indexes of the fragments where a JPEG frame starts (the walk noted their SOI). */
  private findJpegStarts(fragments: PixelDataFragment[]): number[] {
    this.jpegStarts ??= fragments.flatMap((fragment, index) =>
      fragment.startsWithSoi ? [index] : [],
    );
    return this.jpegStarts;
  }
}
