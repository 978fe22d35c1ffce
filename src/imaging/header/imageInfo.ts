/**
 * Builds the image model ({@link ImageInfo}) of an instance from its header: a dicom-parser
 * DataSet (local file, PS3.10) or DICOM JSON metadata (WADO-RS, PS3.18 Annex F). The
 * preview, the thumbnails and the local server (`/rendered`, transcoding) read an instance
 * through this one reader, so they agree on its pixels. No `vscode` import: tested in plain Node.
 */
import type * as dicomParser from 'dicom-parser';
import type { ImageInfo, PaletteChannel, WindowPreset } from '../types';
import {
  getAttribute,
  getNumber,
  getNumbers,
  getString,
  getStrings,
  type DicomJsonDataset,
} from '../../dicom/json';
import { isEncapsulatedTransferSyntax, sopClassLabel } from '../../dicom/uids';
import { checkNativeLength, checkPixelBudget } from '../decode/budget';
import { Tag, ParserTag } from '../../dicom/tags';

/** Why an instance cannot be previewed at all. */
export class NotAnImageError extends Error {
  override readonly name = 'NotAnImageError';
}

/** Pixel Data (7FE0,0010), Float/Double Float Pixel Data. */
const PIXEL_DATA = ParserTag.PixelData;

// ---------------------------------------------------------------------------------------
// Local files (dicom-parser)

/**
 * ImageInfo of a parsed Part 10 file. @throws NotAnImageError without Pixel Data or Rows/Columns.
 */
export function imageInfoFromDataSet(
  dataSet: dicomParser.DataSet,
  pixelBytesInFile?: number,
): ImageInfo {
  const rows = dataSet.uint16(ParserTag.Rows);
  const columns = dataSet.uint16(ParserTag.Columns);
  if (!dataSet.elements[PIXEL_DATA] || !rows || !columns) {
    const sopClass = headerText(dataSet, ParserTag.SOPClassUID);
    throw new NotAnImageError(
      `This instance has no image to show (no Pixel Data${sopClass ? `; SOP class ${sopClassLabel(sopClass)}` : ''}).`,
    );
  }
  const transferSyntaxUid = headerText(dataSet, ParserTag.TransferSyntaxUID);
  const bitsAllocated = dataSet.uint16(ParserTag.BitsAllocated) ?? 16;
  const bitsStored = dataSet.uint16(ParserTag.BitsStored) ?? bitsAllocated;
  const info: ImageInfo = {
    rows,
    columns,
    samplesPerPixel: dataSet.uint16(ParserTag.SamplesPerPixel) ?? 1,
    bitsAllocated,
    bitsStored,
    highBit: dataSet.uint16(ParserTag.HighBit) ?? bitsStored - 1,
    pixelRepresentation: dataSet.uint16(ParserTag.PixelRepresentation) === 1 ? 1 : 0,
    planarConfiguration: dataSet.uint16(ParserTag.PlanarConfiguration) === 1 ? 1 : 0,
    photometricInterpretation: (
      headerText(dataSet, ParserTag.PhotometricInterpretation) ?? 'MONOCHROME2'
    ).toUpperCase(),
    numberOfFrames: Math.max(
      1,
      parseInt(headerText(dataSet, ParserTag.NumberOfFrames) ?? '1', 10) || 1,
    ),
    rescaleSlope: numberOf(dataSet, ParserTag.RescaleSlope) ?? 1,
    rescaleIntercept: numberOf(dataSet, ParserTag.RescaleIntercept) ?? 0,
    windows: windowsOf(
      numbersOf(dataSet, ParserTag.WindowCenter),
      numbersOf(dataSet, ParserTag.WindowWidth),
      textsOf(dataSet, ParserTag.WindowCenterWidthExplanation),
    ),
    bigEndian: transferSyntaxUid === '1.2.840.10008.1.2.2',
    pixelDataVr: dataSet.elements[PIXEL_DATA].vr,
  };
  if (transferSyntaxUid) info.transferSyntaxUid = transferSyntaxUid;
  const rescaleType = headerText(dataSet, ParserTag.RescaleType);
  if (rescaleType) info.rescaleType = rescaleType;
  const voiFunction = headerText(dataSet, ParserTag.VOILUTFunction);
  if (voiFunction) info.voiLutFunction = voiFunction.toUpperCase();
  const padding = dataSet.elements[ParserTag.PixelPaddingValue];
  if (padding)
    info.pixelPaddingValue =
      info.pixelRepresentation === 1
        ? dataSet.int16(ParserTag.PixelPaddingValue)
        : dataSet.uint16(ParserTag.PixelPaddingValue);
  const frameTime = frameTimeOf(
    numberOf(dataSet, ParserTag.FrameTime),
    numberOf(dataSet, ParserTag.CineRate),
  );
  if (frameTime) info.frameTimeMs = frameTime;
  // Before anything is allocated for a frame: the header is the file's word (issue 10, 5).
  checkPixelBudget(info);
  checkFilePixelLength(dataSet, info, pixelBytesInFile);
  if (info.photometricInterpretation === 'PALETTE COLOR')
    info.palette = paletteFromDataSet(dataSet);
  return info;
}

/**
 * Native Pixel Data has exactly the length the header implies (PS3.5 §8.1.1, §A.1): a
 * file that declares more frames or larger ones than its Pixel Data holds is refused
 * here, from its length, instead of by slicing (or repacking bit by bit) a frame that
 * is not there. Encapsulated Pixel Data is split by its fragments (PS3.5 §A.4) instead.
 * @throws PixelBudgetError
 */
export function checkFilePixelLength(
  dataSet: dicomParser.DataSet,
  info: ImageInfo,
  pixelBytesInFile?: number,
): void {
  const element = dataSet.elements[PIXEL_DATA];
  const syntax = info.transferSyntaxUid ?? '1.2.840.10008.1.2.1';
  if (
    !element ||
    element.encapsulatedPixelData ||
    (isEncapsulatedTransferSyntax(syntax) && element.fragments)
  )
    return;
  const samples =
    info.rows *
    info.columns *
    (info.photometricInterpretation === 'YBR_FULL_422' && info.bitsAllocated > 1
      ? 2
      : info.samplesPerPixel);
  // A header read without its Pixel Data (headerReader.ts) says what the file holds.
  const available = Math.max(
    0,
    Math.min(element.length, pixelBytesInFile ?? dataSet.byteArray.length - element.dataOffset),
  );
  checkNativeLength(samples * info.bitsAllocated, info.numberOfFrames, available);
}

function paletteFromDataSet(dataSet: dicomParser.DataSet): ImageInfo['palette'] {
  const channel = (descriptorTag: string, dataTag: string): PaletteChannel => {
    const descriptor = dataSet.elements[descriptorTag];
    const data = dataSet.elements[dataTag];
    if (!descriptor || !data) {
      throw new NotAnImageError(
        'PALETTE COLOR image without its Palette Color Lookup Tables (PS3.3 C.7.6.3.1.5); segmented palettes are not supported.',
      );
    }
    // C.7.6.3.1.5: entries (0 means 65536), first mapped value (US or SS), bits per entry.
    const entriesRaw = dataSet.uint16(descriptorTag, 0) ?? 0;
    const entries = entriesRaw === 0 ? 65536 : entriesRaw;
    const firstMapped = dataSet.uint16(descriptorTag, 1) ?? 0;
    const bitsPerEntry = dataSet.uint16(descriptorTag, 2) ?? 16;
    const values: number[] = [];
    if (bitsPerEntry <= 8 && data.length === entries) {
      for (let i = 0; i < entries; i++) values.push(dataSet.byteArray[data.dataOffset + i]);
    } else {
      const count = Math.min(entries, Math.floor(data.length / 2));
      for (let i = 0; i < count; i++) values.push(dataSet.uint16(dataTag, i) ?? 0);
    }
    return { entries, firstMapped, bitsPerEntry, data: values };
  };
  return {
    red: channel(
      ParserTag.RedPaletteColorLookupTableDescriptor,
      ParserTag.RedPaletteColorLookupTableData,
    ),
    green: channel(
      ParserTag.GreenPaletteColorLookupTableDescriptor,
      ParserTag.GreenPaletteColorLookupTableData,
    ),
    blue: channel(
      ParserTag.BluePaletteColorLookupTableDescriptor,
      ParserTag.BluePaletteColorLookupTableData,
    ),
  };
}

/** A string value of a parsed header without its trailing NUL/space padding (PS3.5 §6.2). */
export function headerText(dataSet: dicomParser.DataSet, tag: string): string | undefined {
  try {
    const value = dataSet.string(tag);
    return value ? value.replace(/[\0 ]+$/, '') || undefined : undefined;
  } catch {
    return undefined;
  }
}

function textsOf(dataSet: dicomParser.DataSet, tag: string): string[] {
  const value = headerText(dataSet, tag);
  return value ? value.split('\\').map((v) => v.trim()) : [];
}

function numbersOf(dataSet: dicomParser.DataSet, tag: string): number[] {
  return textsOf(dataSet, tag).map((v) => Number(v));
}

function numberOf(dataSet: dicomParser.DataSet, tag: string): number | undefined {
  const value = numbersOf(dataSet, tag)[0];
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

// ---------------------------------------------------------------------------------------
// DICOMweb metadata (DICOM JSON)

/** A PALETTE COLOR LUT data attribute sent as BulkDataURI needs fetching. */
export interface BulkDataFetcher {
  (uri: string): Promise<Uint8Array>;
}

/**
 * ImageInfo of an instance's WADO-RS metadata (PS3.18 §10.4.1.1.2). Pixel Data may be
 * absent from metadata (Azure omits OB/OW values, Orthanc gives a BulkDataURI): Rows and
 * Columns decide whether there is an image.
 */
export async function imageInfoFromJson(
  ds: DicomJsonDataset,
  fetchBulkData?: BulkDataFetcher,
): Promise<ImageInfo> {
  const rows = getNumber(ds, Tag.Rows);
  const columns = getNumber(ds, Tag.Columns);
  if (!rows || !columns) {
    const sopClass = getString(ds, Tag.SOPClassUID);
    throw new NotAnImageError(
      `This instance has no image to show (no Rows/Columns${sopClass ? `; SOP class ${sopClassLabel(sopClass)}` : ''}).`,
    );
  }
  const bitsAllocated = getNumber(ds, Tag.BitsAllocated) ?? 16;
  const bitsStored = getNumber(ds, Tag.BitsStored) ?? bitsAllocated;
  const info: ImageInfo = {
    rows,
    columns,
    samplesPerPixel: getNumber(ds, Tag.SamplesPerPixel) ?? 1,
    bitsAllocated,
    bitsStored,
    highBit: getNumber(ds, Tag.HighBit) ?? bitsStored - 1,
    pixelRepresentation: getNumber(ds, Tag.PixelRepresentation) === 1 ? 1 : 0,
    planarConfiguration: getNumber(ds, Tag.PlanarConfiguration) === 1 ? 1 : 0,
    photometricInterpretation: (getString(ds, Tag.PhotometricInterpretation) ?? 'MONOCHROME2')
      .trim()
      .toUpperCase(),
    numberOfFrames: Math.max(1, getNumber(ds, Tag.NumberOfFrames) ?? 1),
    rescaleSlope: getNumber(ds, Tag.RescaleSlope) ?? 1,
    rescaleIntercept: getNumber(ds, Tag.RescaleIntercept) ?? 0,
    windows: windowsOf(
      numbers(getNumbers(ds, Tag.WindowCenter)),
      numbers(getNumbers(ds, Tag.WindowWidth)),
      getStrings(ds, Tag.WindowCenterWidthExplanation),
    ),
  };
  const transferSyntaxUid =
    getString(ds, Tag.TransferSyntaxUID) ?? getString(ds, Tag.AvailableTransferSyntaxUID);
  if (transferSyntaxUid) info.transferSyntaxUid = transferSyntaxUid;
  const rescaleType = getString(ds, Tag.RescaleType);
  if (rescaleType) info.rescaleType = rescaleType;
  const voiFunction = getString(ds, Tag.VOILUTFunction);
  if (voiFunction) info.voiLutFunction = voiFunction.toUpperCase();
  const padding = getNumber(ds, Tag.PixelPaddingValue);
  if (padding !== undefined) info.pixelPaddingValue = padding;
  const frameTime = frameTimeOf(getNumber(ds, Tag.FrameTime), getNumber(ds, Tag.CineRate));
  if (frameTime) info.frameTimeMs = frameTime;
  // Before any frame is asked for: the server's metadata is its word (issue 10, 5).
  checkPixelBudget(info);
  if (info.photometricInterpretation === 'PALETTE COLOR')
    info.palette = await paletteFromJson(ds, fetchBulkData);
  return info;
}

async function paletteFromJson(
  ds: DicomJsonDataset,
  fetchBulkData?: BulkDataFetcher,
): Promise<ImageInfo['palette']> {
  const channel = async (descriptorTag: string, dataTag: string): Promise<PaletteChannel> => {
    const descriptor = numbers(getNumbers(ds, descriptorTag));
    const attribute = getAttribute(ds, dataTag);
    if (descriptor.length < 3 || !attribute) {
      throw new NotAnImageError(
        'PALETTE COLOR image without its Palette Color Lookup Tables (PS3.3 C.7.6.3.1.5).',
      );
    }
    const entries = descriptor[0] === 0 ? 65536 : descriptor[0];
    const bitsPerEntry = descriptor[2];
    let bytes: Uint8Array | undefined;
    if (attribute.InlineBinary) bytes = Buffer.from(attribute.InlineBinary, 'base64');
    else if (attribute.BulkDataURI && fetchBulkData)
      bytes = await fetchBulkData(attribute.BulkDataURI);
    if (!bytes)
      throw new NotAnImageError(
        'The Palette Color Lookup Table Data is not in the metadata and could not be fetched.',
      );
    const data: number[] = [];
    if (bitsPerEntry <= 8 && bytes.length === entries) {
      for (let i = 0; i < entries; i++) data.push(bytes[i]);
    } else {
      // OW in DICOMweb bulk data is little endian (PS3.18 §8.7.3.3.2).
      const count = Math.min(entries, bytes.length >> 1);
      for (let i = 0; i < count; i++) data.push(bytes[2 * i] | (bytes[2 * i + 1] << 8));
    }
    return { entries, firstMapped: descriptor[1], bitsPerEntry, data };
  };
  return {
    red: await channel(
      Tag.RedPaletteColorLookupTableDescriptor,
      Tag.RedPaletteColorLookupTableData,
    ),
    green: await channel(
      Tag.GreenPaletteColorLookupTableDescriptor,
      Tag.GreenPaletteColorLookupTableData,
    ),
    blue: await channel(
      Tag.BluePaletteColorLookupTableDescriptor,
      Tag.BluePaletteColorLookupTableData,
    ),
  };
}

function numbers(values: Array<number | undefined>): number[] {
  return values.map((v) => (v === undefined ? NaN : v));
}

// ---------------------------------------------------------------------------------------

/** Pairs centres, widths and explanations (C.11.2.1.2: value i of each belongs together). */
function windowsOf(centers: number[], widths: number[], explanations: string[]): WindowPreset[] {
  const windows: WindowPreset[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    if (!Number.isFinite(centers[i]) || !Number.isFinite(widths[i]) || widths[i] < 1) continue;
    const preset: WindowPreset = { center: centers[i], width: widths[i] };
    if (explanations[i]) preset.explanation = explanations[i];
    windows.push(preset);
  }
  return windows;
}

/** Frame Time (0018,1063) in ms, else 1000 / Cine Rate (0018,0040). */
function frameTimeOf(
  frameTime: number | undefined,
  cineRate: number | undefined,
): number | undefined {
  if (frameTime && frameTime > 0) return frameTime;
  if (cineRate && cineRate > 0) return 1000 / cineRate;
  return undefined;
}
