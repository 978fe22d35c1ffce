/**
 * A small 8-bit greyscale image instance for tests that store one and look it up: every UID
 * derived from `name` (uidFromString), so the same name is the same instance in any run, and
 * the attributes QIDO matches on (PS3.18 §10.6.1.2.1: patient, date, modality, descriptions,
 * accession) set. A test overrides only what it is about.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { uidFromString } from './bulkData';
import { makeImageInstance, type ImageInstanceParams } from './dicomWriter';
import { makeTempDir } from './tempDirs';

/** The parameters of an 8×8 instance named `name`, with `overrides` applied. */
export function smallImageParams(
  name: string,
  overrides: Partial<ImageInstanceParams> = {},
): ImageInstanceParams {
  return {
    studyUid: uidFromString(`${name}/study`),
    seriesUid: uidFromString(`${name}/series`),
    sopInstanceUid: uidFromString(`${name}/instance`),
    patientName: 'Doe^Jane',
    patientId: `PID-${name}`,
    studyDate: '20240101',
    modality: 'OT',
    rows: 8,
    columns: 8,
    samplesPerPixel: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: 8,
    pixelData: new Uint8Array(64).map((_, i) => i),
    instanceNumber: 1,
    seriesNumber: 1,
    studyDescription: `Study ${name}`,
    seriesDescription: `Series ${name}`,
    accessionNumber: `ACC-${name}`.slice(0, 16),
    ...overrides,
  };
}

/** Writes the instance as a Part 10 file in a fresh temporary folder; returns its path. */
export async function writeInstanceFile(params: ImageInstanceParams): Promise<string> {
  const file = join(makeTempDir('dicomweb-explorer-instance-'), 'instance.dcm');
  await writeFile(file, makeImageInstance(params));
  return file;
}
