/**
 * The three sample instances of the seed tutorial (Azure DICOM service "Using DICOMweb
 * Standard APIs with cURL"): green-square, red-triangle, blue-circle.
 *
 * The originals are not available here, so they are drawn: small RGB Secondary Capture
 * images with the tutorial's exact Study/Series/SOP Instance UIDs, so every request the
 * tutorial shows (and every test that follows it) works against them. Green square and
 * red triangle share a series; the blue circle is in a second series of the same study.
 *
 * Test support, not shipped: scripts/gen-samples.mjs writes the product's copies
 * (media/samples/, copied by src/server/samples.ts) with this file, and
 * test/server/samples.test.ts keeps the two byte-identical.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SECONDARY_CAPTURE_IMAGE_STORAGE, makeImageInstance } from './dicomWriter';

/** Image size of every seed instance, in pixels. */
export const SEED_IMAGE_SIZE = 64;

/** A point in image coordinates: x = column, y = row, origin top left. */
export interface Point {
  x: number;
  y: number;
}

/** One seed instance: where it belongs, what it shows, where to write it. */
export interface SeedInstance {
  fileName: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  seriesNumber: number;
  instanceNumber: number;
  seriesDescription: string;
  /** 8-bit RGB of the filled shape; the background is black. */
  color: readonly [number, number, number];
}

const STUDY_UID = '1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420';
const SHAPES_SERIES_UID = '1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652';
const CIRCLE_SERIES_UID = '1.2.826.0.1.3680043.8.498.77033797676425927098669402985243398207';

/** Geometry of the drawn shapes, so a UI test can check pixels at known places. */
export const SEED_GEOMETRY = {
  /** Filled square: columns x0..x1-1, rows y0..y1-1. */
  greenSquare: { x0: 16, y0: 16, x1: 48, y1: 48 },
  /**
   * Filled triangle, apex up. A pixel is red when its centre (x+0.5, y+0.5) lies inside
   * or on the triangle with these vertices.
   */
  redTriangle: {
    vertices: [
      { x: 32, y: 8 },
      { x: 56, y: 56 },
      { x: 8, y: 56 },
    ] as const satisfies readonly Point[],
    /** A pixel well inside (the centroid, rounded). */
    interior: { x: 32, y: 40 } as const satisfies Point,
    /** Pixels that are black: the corners and a point beside the apex. */
    exterior: [
      { x: 0, y: 0 },
      { x: 63, y: 0 },
      { x: 0, y: 63 },
      { x: 63, y: 63 },
      { x: 16, y: 12 },
    ] as const satisfies readonly Point[],
  },
  /** Filled circle: pixels whose centre is within `radius` of `center`. */
  blueCircle: { center: { x: 32, y: 32 }, radius: 20 },
} as const;

/** The seed's UIDs and file names, exactly as the tutorial's table gives them. */
export const SEED = {
  studyInstanceUid: STUDY_UID,
  patientName: 'Test^Shapes',
  patientId: 'SHAPES-0001',
  studyDate: '20210716',
  studyTime: '093000',
  studyDescription: 'DICOMweb tutorial shapes',
  accessionNumber: 'ACC-SHAPES-1',
  greenSquare: {
    fileName: 'green-square.dcm',
    studyInstanceUid: STUDY_UID,
    seriesInstanceUid: SHAPES_SERIES_UID,
    sopInstanceUid: '1.2.826.0.1.3680043.8.498.12714725698140337137334606354172323212',
    sopClassUid: SECONDARY_CAPTURE_IMAGE_STORAGE,
    seriesNumber: 1,
    instanceNumber: 1,
    seriesDescription: 'Square and triangle',
    color: [0, 255, 0],
  },
  redTriangle: {
    fileName: 'red-triangle.dcm',
    studyInstanceUid: STUDY_UID,
    seriesInstanceUid: SHAPES_SERIES_UID,
    sopInstanceUid: '1.2.826.0.1.3680043.8.498.47359123102728459884412887463296905395',
    sopClassUid: SECONDARY_CAPTURE_IMAGE_STORAGE,
    seriesNumber: 1,
    instanceNumber: 2,
    seriesDescription: 'Square and triangle',
    color: [255, 0, 0],
  },
  blueCircle: {
    fileName: 'blue-circle.dcm',
    studyInstanceUid: STUDY_UID,
    seriesInstanceUid: CIRCLE_SERIES_UID,
    sopInstanceUid: '1.2.826.0.1.3680043.8.498.13273713909719068980354078852867170114',
    sopClassUid: SECONDARY_CAPTURE_IMAGE_STORAGE,
    seriesNumber: 2,
    instanceNumber: 1,
    seriesDescription: 'Circle',
    color: [0, 0, 255],
  },
} as const satisfies Record<'greenSquare' | 'redTriangle' | 'blueCircle', SeedInstance> &
  Record<string, unknown>;

/** The three instances in the tutorial's table order. */
export const SEED_INSTANCES: readonly SeedInstance[] = [
  SEED.greenSquare,
  SEED.redTriangle,
  SEED.blueCircle,
];

type Shape = 'greenSquare' | 'redTriangle' | 'blueCircle';

/** Whether the pixel at column x, row y is inside the given shape. */
export function isInsideShape(shape: Shape, x: number, y: number): boolean {
  const px = x + 0.5;
  const py = y + 0.5;
  switch (shape) {
    case 'greenSquare': {
      const s = SEED_GEOMETRY.greenSquare;
      return x >= s.x0 && x < s.x1 && y >= s.y0 && y < s.y1;
    }
    case 'redTriangle': {
      const [a, b, c] = SEED_GEOMETRY.redTriangle.vertices;
      // Same sign of the three edge cross products = inside (or on an edge).
      const d1 = cross(a, b, px, py);
      const d2 = cross(b, c, px, py);
      const d3 = cross(c, a, px, py);
      const hasNegative = d1 < 0 || d2 < 0 || d3 < 0;
      const hasPositive = d1 > 0 || d2 > 0 || d3 > 0;
      return !(hasNegative && hasPositive);
    }
    case 'blueCircle': {
      const { center, radius } = SEED_GEOMETRY.blueCircle;
      return (px - center.x) ** 2 + (py - center.y) ** 2 <= radius * radius;
    }
  }
}

function cross(p: Point, q: Point, x: number, y: number): number {
  return (q.x - p.x) * (y - p.y) - (q.y - p.y) * (x - p.x);
}

/** RGB pixels (PlanarConfiguration 0: R,G,B per pixel, row by row) of one shape on black. */
export function drawShape(shape: Shape): Uint8Array {
  const size = SEED_IMAGE_SIZE;
  const color = SEED[shape].color;
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!isInsideShape(shape, x, y)) continue;
      pixels.set(color, (y * size + x) * 3);
    }
  }
  return pixels;
}

/** The Part 10 bytes of one seed instance. */
export function makeSeedInstance(shape: Shape): Uint8Array {
  const seed = SEED[shape];
  return makeImageInstance({
    studyUid: seed.studyInstanceUid,
    seriesUid: seed.seriesInstanceUid,
    sopInstanceUid: seed.sopInstanceUid,
    sopClassUid: seed.sopClassUid,
    patientName: SEED.patientName,
    patientId: SEED.patientId,
    studyDate: SEED.studyDate,
    studyTime: SEED.studyTime,
    modality: 'OT',
    rows: SEED_IMAGE_SIZE,
    columns: SEED_IMAGE_SIZE,
    samplesPerPixel: 3,
    photometric: 'RGB',
    planarConfiguration: 0,
    bitsAllocated: 8,
    pixelData: drawShape(shape),
    instanceNumber: seed.instanceNumber,
    seriesNumber: seed.seriesNumber,
    studyDescription: SEED.studyDescription,
    seriesDescription: seed.seriesDescription,
    accessionNumber: SEED.accessionNumber,
    studyId: 'SHAPES',
    patientSex: 'O',
  });
}

/**
 * Writes green-square.dcm, red-triangle.dcm and blue-circle.dcm into `dir` (created if
 * needed) and returns their paths in the tutorial's table order.
 */
export async function writeSeedFiles(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const shapes: Shape[] = ['greenSquare', 'redTriangle', 'blueCircle'];
  return Promise.all(
    shapes.map(async (shape) => {
      const path = join(dir, SEED[shape].fileName);
      await writeFile(path, makeSeedInstance(shape));
      return path;
    }),
  );
}
