/** The seed's three shapes moved to src/dicom/seedShapes.ts (the local server and the demo seed with them); tests keep this path. */
export * from '../../src/dicom/seedShapes';
