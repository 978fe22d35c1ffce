/**
 * Benchmarks of the local server's extended query tags (issue 14), run by `npm run bench`
 * (`npm run bench -- --only eqt`). The issue sets no target: the figures are reported only.
 *
 *   reindex  POST of a study-level tag (PatientWeight, DS) over 2,000 stored instances, each
 *            in its own study, until its operation answers 200 (polled every 5 ms); median of
 *            3 runs, the tag deleted between them. Includes the checkpoints (index written
 *            whole, then the state, fsynced: extendedQueryTagService.ts).
 *   qido     `/studies?PatientWeight=v` over those 2,000 studies (20 match), median of 60.
 *
 * The server runs in this process (client and server share the event loop): the reindex is
 * the server's own work, and a QIDO page is small.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLocalServer, type LocalServer } from '../src/server';
import { smallInstance } from '../test/server/helpers';
import { median, round } from './stats';
import type { BenchContext, BenchResult } from './types';

type Context = Pick<BenchContext, 'tmpDir' | 'log'>;

const INSTANCES = 2_000;
const VALUES = 100;
const REINDEX_RUNS = 3;
const QIDO_ROUNDS = 60;
const PATIENT_WEIGHT = '00101030';

async function plant(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < INSTANCES; i++) {
    const instance = smallInstance(`eqt-bench-${i}`, {
      extraElements: [
        { tag: parseInt(PATIENT_WEIGHT, 16), vr: 'DS', value: String(40 + (i % VALUES)) },
      ],
    });
    await writeFile(join(dir, `${i}.dcm`), instance.bytes);
  }
}

/** One reindex: POST until its operation ends; the wall time in ms. */
async function reindexOnce(server: LocalServer): Promise<number> {
  const started = performance.now();
  const added = await fetch(`${server.url}/v2/extendedquerytags`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ Path: 'PatientWeight', Level: 'Study' }]),
  });
  if (added.status !== 202) throw new Error(`POST /extendedquerytags answered ${added.status}`);
  const { href } = (await added.json()) as { href: string };
  for (;;) {
    const state = await fetch(href);
    const body = (await state.json()) as { status: string };
    if (state.status === 200) {
      if (body.status !== 'succeeded') throw new Error(`the reindex ended ${body.status}`);
      return performance.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function timeQido(server: LocalServer): Promise<{ median: number; max: number }> {
  const read = async (value: number): Promise<void> => {
    const response = await fetch(`${server.url}/v2/studies?PatientWeight=${40 + value}`);
    const studies = (await response.json()) as unknown[];
    const expected = INSTANCES / VALUES;
    if (studies.length !== expected)
      throw new Error(`QIDO found ${studies.length} studies, not ${expected}`);
  };
  for (let n = 0; n < 5; n++) await read(n);
  const times: number[] = [];
  for (let n = 0; n < QIDO_ROUNDS; n++) {
    const started = performance.now();
    await read(n % VALUES);
    times.push(performance.now() - started);
  }
  return { median: median(times), max: Math.max(...times) };
}

export async function run(ctx: Context): Promise<BenchResult[]> {
  const dir = join(ctx.tmpDir, 'served');
  ctx.log(`writing ${INSTANCES} instances`);
  await plant(dir);
  const server = await startLocalServer({ dir, port: 0, watch: false });
  try {
    const times: number[] = [];
    for (let n = 0; n < REINDEX_RUNS; n++) {
      if (n > 0) {
        const deleted = await fetch(`${server.url}/v2/extendedquerytags/${PATIENT_WEIGHT}`, {
          method: 'DELETE',
        });
        if (deleted.status !== 204) throw new Error(`DELETE answered ${deleted.status}`);
      }
      times.push(await reindexOnce(server));
      ctx.log(`reindex ${n + 1}: ${times.at(-1)!.toFixed(0)} ms`);
    }
    const qido = await timeQido(server);
    return [
      {
        name: 'eqt.reindex',
        value: Math.round(median(times)),
        unit: 'ms',
        details: `POST of a study-level DS tag until its operation ended, over ${INSTANCES} small instances (one study each), checkpoints included; median of ${REINDEX_RUNS} (${times.map((t) => t.toFixed(0)).join(', ')} ms); server in this process, no target`,
      },
      {
        name: 'eqt.qido',
        value: round(qido.median, 2),
        unit: 'ms',
        details: `/v2/studies?PatientWeight=v over ${INSTANCES} studies (${INSTANCES / VALUES} match), median of ${QIDO_ROUNDS} after 5 warm-up, max ${qido.max.toFixed(2)} ms; server in this process, no target`,
      },
    ];
  } finally {
    await server.close();
  }
}
