/**
 * Speed and memory target of issue 13 for the DICOM editor, on the extension host's side
 * (plain Node, the modules src/editor/DicomDocument.ts runs): opening a 1 GB multi-frame
 * file, the tag table's rows ready (header read through a file handle, Pixel Data located,
 * model built, top-level rows made) < 300 ms, memory growth < 50 MB.
 *
 *   native        1,000 frames of 1024×512 16-bit, Explicit VR Little Endian (1,048,576,000
 *                 bytes of Pixel Data): the frames are found by arithmetic;
 *   encapsulated  the same 1 GiB as 16,000 fragments of 64 KiB (16 per frame, empty Basic
 *                 Offset Table): the rows are ready from the header; every fragment's item
 *                 header is then read to locate them (timed for information: the editor
 *                 does it after posting the rows, before the first frame).
 *
 * Each file is opened 5 times (a fresh read each time; the first is reported on its own,
 * the median of all five is the figure). Memory: RSS and heap+external+arrayBuffers before
 * the first open and after the fifth, with the last table still referenced. Also frame 500
 * read alone, to show a frame costs one frame. The webview's drawing of the rows is not in
 * these figures (the integration test checks it happens; the log states its time).
 * Parts: `npm run bench -- --only editor:native,editor:encapsulated`. No Orthanc needed.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { locateFragments, readDicomHeader } from '../src/dicom/headerReader';
import { buildTagTable, refreshPixelDataRow, type TagTable } from '../src/dicom/tagTable';
import { HeaderFrameSource } from '../src/preview/headerFrameSource';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  imageInstanceElements,
  pixelDataElementHeader,
  writePart10,
} from '../test/support/dicomWriter';
import { median, round } from './stats';
import type { BenchContext, BenchResult } from './types';

const FRAMES = 1000;
const ROWS = 512;
const COLUMNS = 1024;
const FRAME_BYTES = ROWS * COLUMNS * 2;
const FRAGMENTS_PER_FRAME = 16;
const OPENS = 5;
const JPEG_LS = '1.2.840.10008.1.2.4.80';

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const kind of ['native', 'encapsulated'] as const) {
    if (!ctx.wants(kind)) continue;
    const path = join(ctx.tmpDir, `${kind}-1gb.dcm`);
    ctx.log(`writing ${path}`);
    await (kind === 'native' ? writeNative(path) : writeEncapsulated(path));
    results.push(...(await measure(ctx, kind, path)));
  }
  return results;
}

function headerElements(transferSyntaxUid: string) {
  return writePart10(
    imageInstanceElements({
      studyUid: '1.2.826.0.1.3680043.10.1.1',
      seriesUid: '1.2.826.0.1.3680043.10.1.1.1',
      sopInstanceUid: '1.2.826.0.1.3680043.10.1.1.1.1',
      patientName: 'Bench^Gigabyte',
      patientId: 'BENCH-1GB',
      studyDate: '20261204',
      modality: 'XA',
      rows: ROWS,
      columns: COLUMNS,
      samplesPerPixel: 1,
      photometric: 'MONOCHROME2',
      bitsAllocated: 16,
      numberOfFrames: FRAMES,
      instanceNumber: 1,
      seriesNumber: 1,
      studyDescription: 'editor bench',
      seriesDescription: '1 GB multi-frame',
      accessionNumber: 'BENCH',
    }),
    { transferSyntaxUid },
  );
}

async function writeNative(path: string): Promise<void> {
  const file = await open(path, 'w');
  try {
    await file.write(headerElements(EXPLICIT_VR_LITTLE_ENDIAN));
    await file.write(pixelDataElementHeader(FRAMES * FRAME_BYTES, 'OW'));
    const frame = Buffer.alloc(FRAME_BYTES);
    for (let i = 0; i < FRAME_BYTES; i += 2) frame.writeUInt16LE((i / 2) % 4096, i);
    for (let n = 0; n < FRAMES; n++) await file.write(frame);
  } finally {
    await file.close();
  }
}

/** Encapsulated (PS3.5 §A.4): empty BOT, 16 fragments a frame, the delimiter. */
async function writeEncapsulated(path: string): Promise<void> {
  const file = await open(path, 'w');
  const item = (element: number, length: number): Buffer => {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt16LE(0xfffe, 0);
    bytes.writeUInt16LE(element, 2);
    bytes.writeUInt32LE(length, 4);
    return bytes;
  };
  try {
    await file.write(headerElements(JPEG_LS));
    const header = Buffer.alloc(12);
    header.writeUInt16LE(0x7fe0, 0);
    header.writeUInt16LE(0x0010, 2);
    header.write('OB', 4, 'latin1');
    header.writeUInt32LE(0xffffffff, 8);
    await file.write(Buffer.concat([header, item(0xe000, 0)]));
    const fragmentLength = FRAME_BYTES / FRAGMENTS_PER_FRAME;
    const fragment = Buffer.concat([item(0xe000, fragmentLength), Buffer.alloc(fragmentLength, 7)]);
    // A frame's first fragment starts with JPEG's SOI (what JPEG-LS streams start with):
    // without an offset table, that is how the frames are told apart.
    const first = Buffer.from(fragment);
    first.set([0xff, 0xd8, 0xff, 0xf7], 8);
    const frame = Buffer.concat([
      first,
      ...Array.from({ length: FRAGMENTS_PER_FRAME - 1 }, () => fragment),
    ]);
    for (let n = 0; n < FRAMES; n++) await file.write(frame);
    await file.write(item(0xe0dd, 0));
  } finally {
    await file.close();
  }
}

/**
 * What DicomDocument.open does: header (fragments deferred), table, top-level rows; then,
 * for information, what it does once the rows are posted: locate the fragments.
 */
async function openOnce(
  path: string,
): Promise<{ ms: number; fragmentsMs: number; table: TagTable }> {
  const started = performance.now();
  const header = await readDicomHeader(path, {}, { deferFragments: true });
  if (!header.dataSet || header.problems.length > 0)
    throw new Error(`the bench file is not sound: ${header.problems.join(' ')}`);
  const table = buildTagTable(header.dataSet, {
    pixelData: header.pixelData,
    bigEndian: header.bigEndian,
  });
  const rows = table.roots.map((node) => ({ ...node, children: undefined, source: undefined }));
  if (rows.length === 0) throw new Error('no rows');
  const ms = performance.now() - started;
  await locateFragments(header);
  if (header.pixelData) refreshPixelDataRow(table, header.pixelData, header.dataSet);
  return { ms, fragmentsMs: performance.now() - started - ms, table };
}

function memory(): { rss: number; heap: number } {
  const usage = process.memoryUsage();
  return { rss: usage.rss, heap: usage.heapUsed + usage.external + usage.arrayBuffers };
}

async function measure(
  ctx: BenchContext,
  kind: 'native' | 'encapsulated',
  path: string,
): Promise<BenchResult[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = memory();
  const times: number[] = [];
  const fragmentTimes: number[] = [];
  let table: TagTable | undefined;
  for (let i = 0; i < OPENS; i++) {
    const opened = await openOnce(path);
    times.push(opened.ms);
    fragmentTimes.push(opened.fragmentsMs);
    table = opened.table;
  }
  gc?.();
  const after = memory();
  const pixel = table!.roots.find((node) => node.kind === 'pixelData');
  const located =
    kind === 'encapsulated'
      ? `; fragments then located (after the rows, before frame 1) in ${fragmentTimes.map((t) => t.toFixed(1)).join(', ')} ms`
      : '';
  const frameStarted = performance.now();
  const frame = await new HeaderFrameSource(path).frame(500);
  const frameMs = performance.now() - frameStarted;
  const openMs = median(times);
  const rssMb = (after.rss - before.rss) / 1048576;
  const heapMb = (after.heap - before.heap) / 1048576;
  const growth = Math.max(rssMb, heapMb);
  ctx.log(
    `${kind}: opens ${times.map((t) => t.toFixed(1)).join(', ')} ms${located}; RSS +${rssMb.toFixed(1)} MB, heap+external +${heapMb.toFixed(1)} MB; frame 500 (${frame.bytes.length} bytes) in ${frameMs.toFixed(1)} ms; ${pixel?.value}`,
  );
  const details = `${kind === 'native' ? 'native 1,000 × 1024×512×16-bit' : '16,000 fragments of 64 KiB, empty BOT'}; ${OPENS} opens: ${times.map((t) => t.toFixed(1)).join(', ')} ms (first ${times[0]!.toFixed(1)} ms)${located}; Pixel Data row "${pixel?.value}"; frame 500 read alone in ${frameMs.toFixed(1)} ms; RSS ${rssMb >= 0 ? '+' : ''}${rssMb.toFixed(1)} MB, heap+external ${heapMb >= 0 ? '+' : ''}${heapMb.toFixed(1)} MB`;
  return [
    {
      name: `editor.${kind}1GB.tableReadyMs`,
      value: round(openMs),
      unit: 'ms',
      target: '< 300 ms',
      pass: openMs < 300,
      details,
    },
    {
      name: `editor.${kind}1GB.memoryGrowthMb`,
      value: Math.round(growth * 10) / 10,
      unit: 'MB',
      target: '< 50 MB',
      pass: growth < 50,
      details: `the larger of RSS and heap+external growth over ${OPENS} opens (${gc ? 'after gc' : 'no gc exposed'})`,
    },
  ];
}
