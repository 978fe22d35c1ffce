/**
 * DICOM UID helpers: validation, the transfer syntaxes a DICOMweb client meets, and
 * display names for the common storage SOP classes.
 *
 * Plain Node module: no `vscode` import (see docs/style.md, `src/dicom/`).
 */

/**
 * True when `uid` is a syntactically valid DICOM UID.
 *
 * PS3.5 §9.1: at most 64 characters, only digits and `.`, components separated by
 * single dots, no empty component, and no leading zero in a component unless the
 * component is exactly "0". Trailing NUL padding (PS3.5 §6.2, VR UI) must already be
 * stripped by the caller: a padded value is not a UID.
 */
export function isValidUid(uid: string): boolean {
  if (uid.length === 0 || uid.length > 64) return false;
  // One regex for the whole grammar: component = "0" | [1-9][0-9]*
  return /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid);
}

/** PS3.5 §9.1: "UIDs shall not exceed 64 total characters". */
export const UID_MAX_LENGTH = 64;

/**
 * What makes `uid` not a UID, in a sentence a person can act on, or undefined when it is
 * valid (the same grammar as {@link isValidUid}, PS3.5 §9.1).
 */
export function uidProblem(uid: string): string | undefined {
  if (uid.length === 0) return 'it is empty';
  const stray = /[^0-9.]/.exec(uid);
  if (stray) {
    const shown = /\s/.test(stray[0]) ? 'a space' : `"${stray[0]}"`;
    return `it contains ${shown} at position ${stray.index + 1}; a UID has only digits and dots`;
  }
  if (uid.length > UID_MAX_LENGTH)
    return `it is ${uid.length} characters long; a UID has at most ${UID_MAX_LENGTH}`;
  const components = uid.split('.');
  const empty = components.findIndex((component) => component === '');
  if (empty >= 0) {
    const where =
      empty === 0 ? 'starts with' : empty === components.length - 1 ? 'ends with' : 'has';
    return `it ${where} ${where === 'has' ? 'two dots in a row' : 'a dot'}; every component needs a digit`;
  }
  const padded = components.find((component) => component.length > 1 && component.startsWith('0'));
  if (padded) return `its component "${padded}" starts with 0; only the component "0" may`;
  return undefined;
}

/** Transfer syntax UIDs (PS3.6 Annex A), named by what they encode. */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  EncapsulatedUncompressedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.98',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  JPEG2000MCLossless: '1.2.840.10008.1.2.4.92',
  JPEG2000MC: '1.2.840.10008.1.2.4.93',
  JPIPReferenced: '1.2.840.10008.1.2.4.94',
  JPIPReferencedDeflate: '1.2.840.10008.1.2.4.95',
  MPEG2MPML: '1.2.840.10008.1.2.4.100',
  MPEG2MPHL: '1.2.840.10008.1.2.4.101',
  MPEG4HP41: '1.2.840.10008.1.2.4.102',
  MPEG4HP41BD: '1.2.840.10008.1.2.4.103',
  MPEG4HP422D: '1.2.840.10008.1.2.4.104',
  MPEG4HP423D: '1.2.840.10008.1.2.4.105',
  MPEG4HP42Stereo: '1.2.840.10008.1.2.4.106',
  HEVCMP51: '1.2.840.10008.1.2.4.107',
  HEVCM10P51: '1.2.840.10008.1.2.4.108',
  JPEGXLLossless: '1.2.840.10008.1.2.4.110',
  JPEGXLJPEGRecompression: '1.2.840.10008.1.2.4.111',
  JPEGXL: '1.2.840.10008.1.2.4.112',
  HTJ2KLossless: '1.2.840.10008.1.2.4.201',
  HTJ2KLosslessRPCL: '1.2.840.10008.1.2.4.202',
  HTJ2K: '1.2.840.10008.1.2.4.203',
  JPIPHTJ2KReferenced: '1.2.840.10008.1.2.4.204',
  JPIPHTJ2KReferencedDeflate: '1.2.840.10008.1.2.4.205',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

/** One of the UIDs in {@link TransferSyntax}. */
export type KnownTransferSyntaxUid = (typeof TransferSyntax)[keyof typeof TransferSyntax];

/** Display names of the transfer syntaxes, as PS3.6 Annex A words them. */
export const TRANSFER_SYNTAX_NAMES: Readonly<Record<string, string>> = {
  [TransferSyntax.ImplicitVRLittleEndian]: 'Implicit VR Little Endian',
  [TransferSyntax.ExplicitVRLittleEndian]: 'Explicit VR Little Endian',
  [TransferSyntax.EncapsulatedUncompressedExplicitVRLittleEndian]:
    'Encapsulated Uncompressed Explicit VR Little Endian',
  [TransferSyntax.DeflatedExplicitVRLittleEndian]: 'Deflated Explicit VR Little Endian',
  [TransferSyntax.ExplicitVRBigEndian]: 'Explicit VR Big Endian (retired)',
  [TransferSyntax.JPEGBaseline8Bit]: 'JPEG Baseline (Process 1)',
  [TransferSyntax.JPEGExtended12Bit]: 'JPEG Extended (Process 2 & 4)',
  [TransferSyntax.JPEGLossless]: 'JPEG Lossless, Non-Hierarchical (Process 14)',
  [TransferSyntax.JPEGLosslessSV1]:
    'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
  [TransferSyntax.JPEGLSLossless]: 'JPEG-LS Lossless',
  [TransferSyntax.JPEGLSNearLossless]: 'JPEG-LS Lossy (Near-Lossless)',
  [TransferSyntax.JPEG2000Lossless]: 'JPEG 2000 (Lossless Only)',
  [TransferSyntax.JPEG2000]: 'JPEG 2000',
  [TransferSyntax.JPEG2000MCLossless]: 'JPEG 2000 Part 2 Multi-component (Lossless Only)',
  [TransferSyntax.JPEG2000MC]: 'JPEG 2000 Part 2 Multi-component',
  [TransferSyntax.JPIPReferenced]: 'JPIP Referenced',
  [TransferSyntax.JPIPReferencedDeflate]: 'JPIP Referenced Deflate',
  [TransferSyntax.MPEG2MPML]: 'MPEG2 Main Profile / Main Level',
  [TransferSyntax.MPEG2MPHL]: 'MPEG2 Main Profile / High Level',
  [TransferSyntax.MPEG4HP41]: 'MPEG-4 AVC/H.264 High Profile / Level 4.1',
  [TransferSyntax.MPEG4HP41BD]: 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
  [TransferSyntax.MPEG4HP422D]: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video',
  [TransferSyntax.MPEG4HP423D]: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video',
  [TransferSyntax.MPEG4HP42Stereo]: 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2',
  [TransferSyntax.HEVCMP51]: 'HEVC/H.265 Main Profile / Level 5.1',
  [TransferSyntax.HEVCM10P51]: 'HEVC/H.265 Main 10 Profile / Level 5.1',
  [TransferSyntax.JPEGXLLossless]: 'JPEG XL Lossless',
  [TransferSyntax.JPEGXLJPEGRecompression]: 'JPEG XL JPEG Recompression',
  [TransferSyntax.JPEGXL]: 'JPEG XL',
  [TransferSyntax.HTJ2KLossless]: 'High-Throughput JPEG 2000 (Lossless Only)',
  [TransferSyntax.HTJ2KLosslessRPCL]: 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
  [TransferSyntax.HTJ2K]: 'High-Throughput JPEG 2000',
  [TransferSyntax.JPIPHTJ2KReferenced]: 'JPIP HTJ2K Referenced',
  [TransferSyntax.JPIPHTJ2KReferencedDeflate]: 'JPIP HTJ2K Referenced Deflate',
  [TransferSyntax.RLELossless]: 'RLE Lossless',
};

/**
 * Transfer syntaxes whose Pixel Data is native (not encapsulated), PS3.5 §A.1-A.3 and
 * §A.5: the client can read frames straight out of the bytes.
 */
export const NATIVE_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
]);

/** True when Pixel Data in this transfer syntax is encapsulated (PS3.5 §A.4). */
export function isEncapsulatedTransferSyntax(uid: string): boolean {
  return !NATIVE_TRANSFER_SYNTAXES.has(uid);
}

/** Display name of a transfer syntax, or the UID itself when unknown. */
export function transferSyntaxName(uid: string): string {
  return TRANSFER_SYNTAX_NAMES[uid] ?? uid;
}

/** UIDs of the storage SOP classes this project refers to by name. */
export const SopClass = {
  Verification: '1.2.840.10008.1.1',
  ComputedRadiographyImage: '1.2.840.10008.5.1.4.1.1.1',
  DigitalXRayImageForPresentation: '1.2.840.10008.5.1.4.1.1.1.1',
  DigitalXRayImageForProcessing: '1.2.840.10008.5.1.4.1.1.1.1.1',
  DigitalMammographyXRayImageForPresentation: '1.2.840.10008.5.1.4.1.1.1.2',
  DigitalMammographyXRayImageForProcessing: '1.2.840.10008.5.1.4.1.1.1.2.1',
  DigitalIntraOralXRayImageForPresentation: '1.2.840.10008.5.1.4.1.1.1.3',
  CTImage: '1.2.840.10008.5.1.4.1.1.2',
  EnhancedCTImage: '1.2.840.10008.5.1.4.1.1.2.1',
  LegacyConvertedEnhancedCTImage: '1.2.840.10008.5.1.4.1.1.2.2',
  UltrasoundMultiFrameImage: '1.2.840.10008.5.1.4.1.1.3.1',
  MRImage: '1.2.840.10008.5.1.4.1.1.4',
  EnhancedMRImage: '1.2.840.10008.5.1.4.1.1.4.1',
  MRSpectroscopy: '1.2.840.10008.5.1.4.1.1.4.2',
  UltrasoundImage: '1.2.840.10008.5.1.4.1.1.6.1',
  EnhancedUSVolume: '1.2.840.10008.5.1.4.1.1.6.2',
  SecondaryCaptureImage: '1.2.840.10008.5.1.4.1.1.7',
  MultiFrameSingleBitSecondaryCaptureImage: '1.2.840.10008.5.1.4.1.1.7.1',
  MultiFrameGrayscaleByteSecondaryCaptureImage: '1.2.840.10008.5.1.4.1.1.7.2',
  MultiFrameGrayscaleWordSecondaryCaptureImage: '1.2.840.10008.5.1.4.1.1.7.3',
  MultiFrameTrueColorSecondaryCaptureImage: '1.2.840.10008.5.1.4.1.1.7.4',
  TwelveLeadECGWaveform: '1.2.840.10008.5.1.4.1.1.9.1.1',
  GeneralECGWaveform: '1.2.840.10008.5.1.4.1.1.9.1.2',
  GrayscaleSoftcopyPresentationState: '1.2.840.10008.5.1.4.1.1.11.1',
  XRayAngiographicImage: '1.2.840.10008.5.1.4.1.1.12.1',
  XRayRadiofluoroscopicImage: '1.2.840.10008.5.1.4.1.1.12.2',
  XRay3DAngiographicImage: '1.2.840.10008.5.1.4.1.1.13.1.1',
  BreastTomosynthesisImage: '1.2.840.10008.5.1.4.1.1.13.1.3',
  NuclearMedicineImage: '1.2.840.10008.5.1.4.1.1.20',
  ParametricMap: '1.2.840.10008.5.1.4.1.1.30',
  RawData: '1.2.840.10008.5.1.4.1.1.66',
  SpatialRegistration: '1.2.840.10008.5.1.4.1.1.66.1',
  Segmentation: '1.2.840.10008.5.1.4.1.1.66.4',
  SurfaceSegmentation: '1.2.840.10008.5.1.4.1.1.66.5',
  VLEndoscopicImage: '1.2.840.10008.5.1.4.1.1.77.1.1',
  VLMicroscopicImage: '1.2.840.10008.5.1.4.1.1.77.1.2',
  VLPhotographicImage: '1.2.840.10008.5.1.4.1.1.77.1.4',
  OphthalmicPhotography8BitImage: '1.2.840.10008.5.1.4.1.1.77.1.5.1',
  VLWholeSlideMicroscopyImage: '1.2.840.10008.5.1.4.1.1.77.1.6',
  BasicTextSR: '1.2.840.10008.5.1.4.1.1.88.11',
  EnhancedSR: '1.2.840.10008.5.1.4.1.1.88.22',
  ComprehensiveSR: '1.2.840.10008.5.1.4.1.1.88.33',
  Comprehensive3DSR: '1.2.840.10008.5.1.4.1.1.88.34',
  KeyObjectSelectionDocument: '1.2.840.10008.5.1.4.1.1.88.59',
  XRayRadiationDoseSR: '1.2.840.10008.5.1.4.1.1.88.67',
  EncapsulatedPDF: '1.2.840.10008.5.1.4.1.1.104.1',
  EncapsulatedCDA: '1.2.840.10008.5.1.4.1.1.104.2',
  PositronEmissionTomographyImage: '1.2.840.10008.5.1.4.1.1.128',
  EnhancedPETImage: '1.2.840.10008.5.1.4.1.1.130',
  RTImage: '1.2.840.10008.5.1.4.1.1.481.1',
  RTDose: '1.2.840.10008.5.1.4.1.1.481.2',
  RTStructureSet: '1.2.840.10008.5.1.4.1.1.481.3',
  RTBeamsTreatmentRecord: '1.2.840.10008.5.1.4.1.1.481.4',
  RTPlan: '1.2.840.10008.5.1.4.1.1.481.5',
  RTIonPlan: '1.2.840.10008.5.1.4.1.1.481.8',
} as const;

/** Display names of the SOP classes in {@link SopClass}, as PS3.6 Annex A words them. */
export const SOP_CLASS_NAMES: Readonly<Record<string, string>> = {
  [SopClass.Verification]: 'Verification',
  [SopClass.ComputedRadiographyImage]: 'Computed Radiography Image',
  [SopClass.DigitalXRayImageForPresentation]: 'Digital X-Ray Image - For Presentation',
  [SopClass.DigitalXRayImageForProcessing]: 'Digital X-Ray Image - For Processing',
  [SopClass.DigitalMammographyXRayImageForPresentation]:
    'Digital Mammography X-Ray Image - For Presentation',
  [SopClass.DigitalMammographyXRayImageForProcessing]:
    'Digital Mammography X-Ray Image - For Processing',
  [SopClass.DigitalIntraOralXRayImageForPresentation]:
    'Digital Intra-Oral X-Ray Image - For Presentation',
  [SopClass.CTImage]: 'CT Image',
  [SopClass.EnhancedCTImage]: 'Enhanced CT Image',
  [SopClass.LegacyConvertedEnhancedCTImage]: 'Legacy Converted Enhanced CT Image',
  [SopClass.UltrasoundMultiFrameImage]: 'Ultrasound Multi-frame Image',
  [SopClass.MRImage]: 'MR Image',
  [SopClass.EnhancedMRImage]: 'Enhanced MR Image',
  [SopClass.MRSpectroscopy]: 'MR Spectroscopy',
  [SopClass.UltrasoundImage]: 'Ultrasound Image',
  [SopClass.EnhancedUSVolume]: 'Enhanced US Volume',
  [SopClass.SecondaryCaptureImage]: 'Secondary Capture Image',
  [SopClass.MultiFrameSingleBitSecondaryCaptureImage]:
    'Multi-frame Single Bit Secondary Capture Image',
  [SopClass.MultiFrameGrayscaleByteSecondaryCaptureImage]:
    'Multi-frame Grayscale Byte Secondary Capture Image',
  [SopClass.MultiFrameGrayscaleWordSecondaryCaptureImage]:
    'Multi-frame Grayscale Word Secondary Capture Image',
  [SopClass.MultiFrameTrueColorSecondaryCaptureImage]:
    'Multi-frame True Color Secondary Capture Image',
  [SopClass.TwelveLeadECGWaveform]: '12-lead ECG Waveform',
  [SopClass.GeneralECGWaveform]: 'General ECG Waveform',
  [SopClass.GrayscaleSoftcopyPresentationState]: 'Grayscale Softcopy Presentation State',
  [SopClass.XRayAngiographicImage]: 'X-Ray Angiographic Image',
  [SopClass.XRayRadiofluoroscopicImage]: 'X-Ray Radiofluoroscopic Image',
  [SopClass.XRay3DAngiographicImage]: 'X-Ray 3D Angiographic Image',
  [SopClass.BreastTomosynthesisImage]: 'Breast Tomosynthesis Image',
  [SopClass.NuclearMedicineImage]: 'Nuclear Medicine Image',
  [SopClass.ParametricMap]: 'Parametric Map',
  [SopClass.RawData]: 'Raw Data',
  [SopClass.SpatialRegistration]: 'Spatial Registration',
  [SopClass.Segmentation]: 'Segmentation',
  [SopClass.SurfaceSegmentation]: 'Surface Segmentation',
  [SopClass.VLEndoscopicImage]: 'VL Endoscopic Image',
  [SopClass.VLMicroscopicImage]: 'VL Microscopic Image',
  [SopClass.VLPhotographicImage]: 'VL Photographic Image',
  [SopClass.OphthalmicPhotography8BitImage]: 'Ophthalmic Photography 8 Bit Image',
  [SopClass.VLWholeSlideMicroscopyImage]: 'VL Whole Slide Microscopy Image',
  [SopClass.BasicTextSR]: 'Basic Text SR',
  [SopClass.EnhancedSR]: 'Enhanced SR',
  [SopClass.ComprehensiveSR]: 'Comprehensive SR',
  [SopClass.Comprehensive3DSR]: 'Comprehensive 3D SR',
  [SopClass.KeyObjectSelectionDocument]: 'Key Object Selection Document',
  [SopClass.XRayRadiationDoseSR]: 'X-Ray Radiation Dose SR',
  [SopClass.EncapsulatedPDF]: 'Encapsulated PDF',
  [SopClass.EncapsulatedCDA]: 'Encapsulated CDA',
  [SopClass.PositronEmissionTomographyImage]: 'Positron Emission Tomography Image',
  [SopClass.EnhancedPETImage]: 'Enhanced PET Image',
  [SopClass.RTImage]: 'RT Image',
  [SopClass.RTDose]: 'RT Dose',
  [SopClass.RTStructureSet]: 'RT Structure Set',
  [SopClass.RTBeamsTreatmentRecord]: 'RT Beams Treatment Record',
  [SopClass.RTPlan]: 'RT Plan',
  [SopClass.RTIonPlan]: 'RT Ion Plan',
};

/** Display name of a SOP class ("MR Image"), or the UID itself when unknown. */
export function sopClassName(uid: string): string {
  return SOP_CLASS_NAMES[uid] ?? uid;
}

/** A SOP class for a message or the viewer's overlay: "MR Image (1.2.…)", or the UID alone. */
export function sopClassLabel(uid: string): string {
  const name = SOP_CLASS_NAMES[uid];
  return name ? `${name} (${uid})` : uid;
}
