/** The Part 10 writer moved to src/dicom/writer.ts (the local server seeds with it); tests keep this path. */
export * from '../../src/dicom/writer';
