/**
 * Test data: image instances with exact UIDs and known pixels (the seed shapes, benchmark
 * instances), written with the extension's own Part 10 writer (src/dicom/part10Writer.ts,
 * re-exported here so tests keep one import).
 */
import {
  SECONDARY_CAPTURE_IMAGE_STORAGE,
  mergeElements,
  writePart10,
  type WritePart10Options,
  type WriterElement,
} from '../../src/dicom/part10Writer';

export * from '../../src/dicom/part10Writer';

/** The parameters of a simple image instance, see {@link makeImageInstance}. */
export interface ImageInstanceParams {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  /** Default Secondary Capture Image Storage (1.2.840.10008.5.1.4.1.1.7). */
  sopClassUid?: string;
  patientName: string;
  patientId: string;
  /** YYYYMMDD */
  studyDate: string;
  /** HHMMSS; default "120000". */
  studyTime?: string;
  modality: string;
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  photometric: string;
  bitsAllocated: 8 | 16 | 32;
  /** Default bitsAllocated. */
  bitsStored?: number;
  /** 0 unsigned (default), 1 two's complement. */
  pixelRepresentation?: 0 | 1;
  /** Only when samplesPerPixel is 3; default 0 (color-by-pixel, R1G1B1R2G2B2...). */
  planarConfiguration?: 0 | 1;
  /**
   * Native pixel data of all frames. A Uint16Array is encoded in the data set's byte
   * order. Omit it to get every element but Pixel Data, e.g. to stream Pixel Data after
   * the header (see {@link pixelDataElementHeader}).
   */
  pixelData?: Uint8Array | Uint16Array;
  numberOfFrames?: number;
  instanceNumber: number;
  seriesNumber: number;
  studyDescription: string;
  seriesDescription: string;
  accessionNumber: string;
  studyId?: string;
  patientBirthDate?: string;
  patientSex?: string;
  /** Extra elements, added to (or replacing) the generated ones. */
  extraElements?: WriterElement[];
  /** Default Explicit VR Little Endian. */
  transferSyntaxUid?: string;
}

/**
 * The elements of a minimal but complete single- or multi-frame image instance:
 * Patient, General Study, General Series, SC Equipment, General Image, Image Pixel and
 * SOP Common modules (PS3.3 §A.8 for Secondary Capture).
 */
export function imageInstanceElements(params: ImageInstanceParams): WriterElement[] {
  const frames = params.numberOfFrames ?? 1;
  const expectedBytes =
    params.rows * params.columns * params.samplesPerPixel * (params.bitsAllocated / 8) * frames;
  const actualBytes = params.pixelData?.byteLength ?? expectedBytes;
  if (actualBytes !== expectedBytes) {
    throw new Error(`pixelData has ${actualBytes} bytes, the image needs ${expectedBytes}`);
  }
  const bitsStored = params.bitsStored ?? params.bitsAllocated;
  const sopClassUid = params.sopClassUid ?? SECONDARY_CAPTURE_IMAGE_STORAGE;
  const elements: WriterElement[] = [
    { tag: 0x00080016, vr: 'UI', value: sopClassUid },
    { tag: 0x00080018, vr: 'UI', value: params.sopInstanceUid },
    { tag: 0x00080020, vr: 'DA', value: params.studyDate },
    { tag: 0x00080030, vr: 'TM', value: params.studyTime ?? '120000' },
    { tag: 0x00080050, vr: 'SH', value: params.accessionNumber },
    { tag: 0x00080060, vr: 'CS', value: params.modality },
    { tag: 0x00080090, vr: 'PN', value: '' },
    { tag: 0x00081030, vr: 'LO', value: params.studyDescription },
    { tag: 0x0008103e, vr: 'LO', value: params.seriesDescription },
    { tag: 0x00100010, vr: 'PN', value: params.patientName },
    { tag: 0x00100020, vr: 'LO', value: params.patientId },
    { tag: 0x00100030, vr: 'DA', value: params.patientBirthDate ?? '' },
    { tag: 0x00100040, vr: 'CS', value: params.patientSex ?? '' },
    { tag: 0x0020000d, vr: 'UI', value: params.studyUid },
    { tag: 0x0020000e, vr: 'UI', value: params.seriesUid },
    { tag: 0x00200010, vr: 'SH', value: params.studyId ?? '1' },
    { tag: 0x00200011, vr: 'IS', value: params.seriesNumber },
    { tag: 0x00200013, vr: 'IS', value: params.instanceNumber },
    { tag: 0x00200020, vr: 'CS', value: '' }, // Patient Orientation, type 2C in General Image
    { tag: 0x00280002, vr: 'US', value: params.samplesPerPixel },
    { tag: 0x00280004, vr: 'CS', value: params.photometric },
    { tag: 0x00280010, vr: 'US', value: params.rows },
    { tag: 0x00280011, vr: 'US', value: params.columns },
    { tag: 0x00280100, vr: 'US', value: params.bitsAllocated },
    { tag: 0x00280101, vr: 'US', value: bitsStored },
    { tag: 0x00280102, vr: 'US', value: bitsStored - 1 },
    { tag: 0x00280103, vr: 'US', value: params.pixelRepresentation ?? 0 },
  ];
  if (params.pixelData) {
    elements.push({
      tag: 0x7fe00010,
      vr: params.bitsAllocated <= 8 ? 'OB' : 'OW',
      value: params.pixelData,
    });
  }
  if (sopClassUid === SECONDARY_CAPTURE_IMAGE_STORAGE) {
    // SC Equipment Module, PS3.3 §C.8.6.1: Conversion Type is type 1. WSD = workstation.
    elements.push({ tag: 0x00080064, vr: 'CS', value: 'WSD' });
  }
  if (params.samplesPerPixel > 1) {
    // PS3.3 §C.7.6.3.1.3: Planar Configuration is required when Samples per Pixel > 1.
    elements.push({ tag: 0x00280006, vr: 'US', value: params.planarConfiguration ?? 0 });
  }
  if (params.numberOfFrames !== undefined) {
    elements.push({ tag: 0x00280008, vr: 'IS', value: frames });
  }
  return mergeElements(elements, params.extraElements ?? []);
}

/** A Part 10 file for {@link imageInstanceElements}. */
export function makeImageInstance(params: ImageInstanceParams): Uint8Array {
  const options: WritePart10Options = {};
  if (params.transferSyntaxUid) options.transferSyntaxUid = params.transferSyntaxUid;
  return writePart10(imageInstanceElements(params), options);
}
