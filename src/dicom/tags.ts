/**
 * The data elements this code reads or writes, by their PS3.6 keyword, so a reader sees
 * `Tag.StudyInstanceUID` where the wire has (0020,000D). Values are the DICOM JSON form
 * (PS3.18 §F.2: 8 upper-case hex digits); `ParserTag` gives dicom-parser's key for the same
 * element (`x` and 8 lower-case hex digits). A unit test holds every entry against the
 * dictionary (dictionaryData.ts), so a typo in a keyword or a number cannot stand.
 */
export const Tag = {
  ErrorComment: '00000902',
  FileMetaInformationGroupLength: '00020000',
  MediaStorageSOPClassUID: '00020002',
  MediaStorageSOPInstanceUID: '00020003',
  TransferSyntaxUID: '00020010',
  SpecificCharacterSet: '00080005',
  ImageType: '00080008',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  SeriesDate: '00080021',
  ContentDate: '00080023',
  StudyTime: '00080030',
  SeriesTime: '00080031',
  ContentTime: '00080033',
  AccessionNumber: '00080050',
  InstanceAvailability: '00080056',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  Manufacturer: '00080070',
  ReferringPhysicianName: '00080090',
  TimezoneOffsetFromUTC: '00080201',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  ManufacturerModelName: '00081090',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  RetrieveURL: '00081190',
  WarningReason: '00081196',
  FailureReason: '00081197',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  AvailableTransferSyntaxUID: '00083002',
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  OtherPatientNames: '00101001',
  PatientAge: '00101010',
  BodyPartExamined: '00180015',
  CineRate: '00180040',
  FrameTime: '00181063',
  RadiopharmaceuticalStartTime: '00181072',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  StudyID: '00200010',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  PlanarConfiguration: '00280006',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  HighBit: '00280102',
  PixelRepresentation: '00280103',
  PixelPaddingValue: '00280120',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  RescaleType: '00281054',
  WindowCenterWidthExplanation: '00281055',
  VOILUTFunction: '00281056',
  RedPaletteColorLookupTableDescriptor: '00281101',
  GreenPaletteColorLookupTableDescriptor: '00281102',
  BluePaletteColorLookupTableDescriptor: '00281103',
  RedPaletteColorLookupTableData: '00281201',
  GreenPaletteColorLookupTableData: '00281202',
  BluePaletteColorLookupTableData: '00281203',
  RequestedProcedureCodeSequence: '00321064',
  PerformedProcedureStepStartDate: '00400244',
  PerformedProcedureStepStartTime: '00400245',
  RadiopharmaceuticalInformationSequence: '00540016',
  FailedAttributesSequence: '00741048',
  FloatPixelData: '7FE00008',
  DoubleFloatPixelData: '7FE00009',
  PixelData: '7FE00010',
} as const;

export type TagKeyword = keyof typeof Tag;

/** dicom-parser's `DataSet.elements` key of a tag: `x` and lower-case hex. */
export function parserKey(tag: string): string {
  return `x${tag.toLowerCase()}`;
}

/** The same elements as {@link Tag}, keyed as dicom-parser keys them. */
export const ParserTag = Object.fromEntries(
  Object.entries(Tag).map(([keyword, tag]) => [keyword, parserKey(tag)]),
) as { readonly [K in TagKeyword]: string };
