/**
 * `/rendered` of the local server (issue 14), run by `npm run bench -- --only rendered`:
 * a 512×512 16-bit CT-like frame (a smooth ramp and a disc, values −1024…3071 HU through
 * Rescale Intercept, a header window) stored natively and as JPEG-LS lossless (encoded here
 * with CharLS's own encoder, the full build of the codec package the preview decodes with),
 * rendered over HTTP as JPEG (the default, quality 100) and PNG. Every request reads the
 * file, decodes, windows and encodes: the server caches nothing. The server runs in this
 * process; the figure is the client's wall time per request (keep-alive), median and p95 of
 * 40 after 5 warm-ups. Target (issue 14): median < 30 ms.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { request, Agent } from 'node:http';
import { join } from 'node:path';
import { startLocalServer } from '../src/server';
import { encapsulatedPixelData } from '../src/dicom/part10Writer';
import { makeImageInstance } from '../test/support/dicomWriter';
import { median, percentile, round } from './stats';
import { encodeLossless } from '../test/support/nodeCodecs';
import type { BenchContext, BenchResult } from './types';

const SIZE = 512;
const RUNS = 40;
const WARMUP = 5;
const TARGET_MS = 30;
const STUDY = '1.2.826.0.1.3680043.8.498.14001';
const SERIES = `${STUDY}.1`;

/** Stored values 0…4095 (12 bits in 16): a ramp plus a bright disc, like a CT slice. */
function ctLikePixels(): Uint16Array {
  const pixels = new Uint16Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const disc = (x - 256) ** 2 + (y - 256) ** 2 < 150 ** 2 ? 1500 : 0;
      pixels[y * SIZE + x] = Math.min(4095, ((x + y) * 2) % 1024) + disc + ((x * 7 + y * 13) % 17);
    }
  }
  return pixels;
}

/** JPEG-LS lossless (1.2.840.10008.1.2.4.80) of the frame (CharLS, test/support/nodeCodecs.ts). */
function jpegLs(pixels: Uint16Array): Promise<Uint8Array> {
  const shape = { columns: SIZE, rows: SIZE, bitsStored: 16, signed: false };
  return encodeLossless('charls', new Uint8Array(pixels.buffer), shape);
}

function instance(
  sop: string,
  transferSyntaxUid: string,
  pixels: Uint16Array,
  encoded?: Uint8Array,
) {
  const header = makeImageInstance({
    studyUid: STUDY,
    seriesUid: SERIES,
    sopInstanceUid: sop,
    patientName: 'Bench^Rendered',
    patientId: 'BENCH',
    studyDate: '20260101',
    modality: 'CT',
    rows: SIZE,
    columns: SIZE,
    samplesPerPixel: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: 16,
    bitsStored: 12,
    ...(encoded ? {} : { pixelData: pixels }),
    instanceNumber: 1,
    seriesNumber: 1,
    studyDescription: 'rendered bench',
    seriesDescription: 'rendered bench',
    accessionNumber: 'B1',
    transferSyntaxUid,
    extraElements: [
      { tag: 0x00281050, vr: 'DS', value: '40' },
      { tag: 0x00281051, vr: 'DS', value: '400' },
      { tag: 0x00281052, vr: 'DS', value: '-1024' },
      { tag: 0x00281053, vr: 'DS', value: '1' },
    ],
  });
  return encoded ? Buffer.concat([header, encapsulatedPixelData([encoded])]) : header;
}

function get(agent: Agent, url: string, accept: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { agent, headers: { accept } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
        else resolve(bytes > 0 ? performance.now() - started : NaN);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export async function run(ctx: Pick<BenchContext, 'tmpDir' | 'log'>): Promise<BenchResult[]> {
  const dir = join(ctx.tmpDir, 'rendered');
  await mkdir(dir, { recursive: true });
  const pixels = ctLikePixels();
  const encoded = await jpegLs(pixels);
  await writeFile(join(dir, 'native.dcm'), instance(`${SERIES}.1`, '1.2.840.10008.1.2.1', pixels));
  await writeFile(
    join(dir, 'jpegls.dcm'),
    instance(`${SERIES}.2`, '1.2.840.10008.1.2.4.80', pixels, encoded),
  );
  ctx.log(`JPEG-LS frame: ${encoded.length} bytes (native ${pixels.byteLength})`);
  const server = await startLocalServer({ dir, port: 0, log: () => undefined });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const results: BenchResult[] = [];
  try {
    const cases = [
      ['native.jpeg', `${SERIES}.1`, 'image/jpeg'],
      ['native.png', `${SERIES}.1`, 'image/png'],
      ['jpegls.jpeg', `${SERIES}.2`, 'image/jpeg'],
    ] as const;
    for (const [name, sop, accept] of cases) {
      const url = `${server.url}/v2/studies/${STUDY}/series/${SERIES}/instances/${sop}/rendered`;
      for (let i = 0; i < WARMUP; i++) await get(agent, url, accept);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await get(agent, url, accept));
      const medianMs = median(times);
      ctx.log(
        `${name}: median ${medianMs.toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms`,
      );
      results.push({
        name: `rendered.${name}.median`,
        value: round(medianMs),
        unit: 'ms',
        target: `< ${TARGET_MS} ms`,
        pass: medianMs < TARGET_MS,
        details: `GET …/rendered (${accept}) of a 512×512 16-bit frame stored ${name.startsWith('native') ? 'native' : 'JPEG-LS lossless'}, over HTTP on 127.0.0.1 (keep-alive), server in the same process; ${RUNS} runs after ${WARMUP} warm-ups, p95 ${percentile(times, 95).toFixed(1)} ms, fastest ${Math.min(...times).toFixed(1)} ms (the cost without other work on the machine's 2 cores).`,
      });
    }
  } finally {
    agent.destroy();
    await server.close();
  }
  return results;
}
