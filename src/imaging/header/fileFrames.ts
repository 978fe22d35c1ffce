/**
 * Frames of a local Part 10 file: native Pixel Data sliced frame by frame (PS3.5 §8.1.1,
 * §8.2), encapsulated Pixel Data split into frames by the Basic Offset Table or its
 * fragments (PS3.5 §A.4). No `vscode` import: tested in plain Node.
 */
import * as dicomParser from 'dicom-parser';
import type { ImageInfo } from '../types';
import { nativeFrameLength } from '../decode/native';
import { isEncapsulatedTransferSyntax } from '../../dicom/uids';
import { checkPixelBudget } from '../decode/budget';
import { checkFilePixelLength } from './imageInfo';

/** Returns frame `frameNumber` (1-based) of a parsed file, as the bytes a decoder takes. */
export function fileFrame(
  dataSet: dicomParser.DataSet,
  info: ImageInfo,
  frameNumber: number,
): Uint8Array {
  const element = dataSet.elements.x7fe00010;
  if (!element) throw new Error('The file has no Pixel Data (7FE0,0010).');
  if (frameNumber < 1 || frameNumber > info.numberOfFrames) {
    throw new Error(
      `Frame ${frameNumber} does not exist; the instance has ${info.numberOfFrames}.`,
    );
  }
  // Again here, whoever built `info`: no frame buffer beyond the budget or the bytes present.
  checkPixelBudget(info);
  checkFilePixelLength(dataSet, info);
  const index = frameNumber - 1;
  const bytes = dataSet.byteArray;
  const syntax = info.transferSyntaxUid ?? '1.2.840.10008.1.2.1';
  const encapsulated =
    element.encapsulatedPixelData || (isEncapsulatedTransferSyntax(syntax) && element.fragments);
  if (!encapsulated) {
    if (info.bitsAllocated === 1) {
      // Bits of a frame need not start on a byte (PS3.5 §8.1.1): repack from bit offset.
      const bitsPerFrame = info.rows * info.columns * info.samplesPerPixel;
      const out = new Uint8Array(Math.ceil(bitsPerFrame / 8));
      const startBit = index * bitsPerFrame;
      for (let i = 0; i < bitsPerFrame; i++) {
        const bit = startBit + i;
        if ((bytes[element.dataOffset + (bit >> 3)] >> (bit & 7)) & 1) out[i >> 3] |= 1 << (i & 7);
      }
      return out;
    }
    const length = nativeFrameLength(info);
    const start = element.dataOffset + index * length;
    if (start + length > element.dataOffset + element.length || start + length > bytes.length) {
      throw new Error(
        `Pixel Data is too short for frame ${frameNumber}: needs ${length} bytes at ${start - element.dataOffset}.`,
      );
    }
    return bytes.subarray(start, start + length);
  }
  const fragments = element.fragments ?? [];
  const basicOffsetTable = element.basicOffsetTable ?? [];
  if (info.numberOfFrames === 1) {
    // One frame: all fragments belong to it, whatever the offset table says (§A.4).
    return dicomParser.readEncapsulatedPixelDataFromFragments(
      dataSet,
      element,
      0,
      fragments.length,
    );
  }
  if (basicOffsetTable.length > 0) {
    return dicomParser.readEncapsulatedImageFrame(dataSet, element, index);
  }
  if (fragments.length === info.numberOfFrames) {
    // No offset table and one fragment a frame (the usual case without a BOT, §A.4).
    return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, index, 1);
  }
  // No offset table and frames spread over several fragments: JPEG frames start with SOI.
  const table = dicomParser.createJPEGBasicOffsetTable(dataSet, element);
  return dicomParser.readEncapsulatedImageFrame(dataSet, element, index, table);
}
