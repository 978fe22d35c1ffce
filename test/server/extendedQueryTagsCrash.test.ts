/**
 * A reindex interrupted by `kill -9` resumes where it was, as the Azure DICOM service's does
 * (its ReindexDurableFunction continues from a ReindexCheckpoint's watermark). The server
 * runs as a child process over a few thousand instances, one in ten with a value that does
 * not fit the tag's VR; it is killed once the operation has reported progress, then started
 * again on the same folder. The operation then ends succeeded, its percent never went back
 * across the restart, every instance is indexed under its own value, and every bad one is
 * listed once among the tag's errors (no duplicate, none missing).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CHECKPOINT_MIN_INSTANCES } from '../../src/server/extendedQueryTagService';
import { killHard, startChild, type Child } from './childServer';
import { smallInstance, tempDir } from './helpers';

const ACQUISITION_NUMBER = '00200012';
/** Instances: enough checkpoints that the kill falls between two of them on any machine. */
const COUNT = 12 * CHECKPOINT_MIN_INSTANCES;
/** Distinct good values, so a few QIDO searches cover every instance. */
const BUCKETS = 5;

interface Planted {
  sop: string;
  value: string;
  bad: boolean;
}

async function plant(dir: string): Promise<Planted[]> {
  const planted: Planted[] = [];
  for (let i = 0; i < COUNT; i++) {
    const bad = i % 10 === 3;
    const value = bad ? `n${i}` : String(i % BUCKETS);
    const instance = smallInstance(`eqt-crash-${i}`, {
      extraElements: [{ tag: parseInt(ACQUISITION_NUMBER, 16), vr: 'IS', value }],
    });
    await writeFile(join(dir, `${i}.dcm`), instance.bytes);
    planted.push({ sop: instance.params.sopInstanceUid, value, bad });
  }
  return planted;
}

interface OperationState {
  httpStatus: number;
  status: string;
  percentComplete: number;
}

async function operationState(child: Child, id: string): Promise<OperationState> {
  const response = await fetch(`${child.url}/v2/operations/${id}`);
  const body = (await response.json()) as { status: string; percentComplete: number };
  return { httpStatus: response.status, ...body };
}

/** Every SOP Instance UID QIDO finds with this value of the tag, all pages. */
async function instancesWith(child: Child, value: string): Promise<string[]> {
  const found: string[] = [];
  for (;;) {
    const response = await fetch(
      `${child.url}/v2/instances?${ACQUISITION_NUMBER}=${value}&limit=200&offset=${found.length}`,
    );
    if (response.status === 204) return found;
    assert.equal(response.status, 200);
    const page = (await response.json()) as Array<Record<string, { Value?: string[] }>>;
    found.push(...page.map((item) => item['00080018']!.Value![0]!));
    if (page.length < 200) return found;
  }
}

describe('a reindex interrupted by kill -9', () => {
  let child: Child | undefined;
  after(async () => {
    if (child) await killHard(child);
  });

  it('resumes after the restart: percent never back, each instance indexed once', async () => {
    const dir = tempDir('eqt-crash');
    const planted = await plant(dir);
    child = await startChild(dir);
    const added = await fetch(`${child.url}/v2/extendedquerytags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ Path: ACQUISITION_NUMBER, Level: 'Instance' }]),
    });
    assert.equal(added.status, 202);
    const { id } = (await added.json()) as { id: string };

    // Polled until the operation shows progress (a checkpoint is on disk), then killed.
    const seen: number[] = [];
    for (;;) {
      const state = await operationState(child, id);
      assert.equal(state.httpStatus, 202, `ended before the kill: ${JSON.stringify(state)}`);
      seen.push(state.percentComplete);
      if (state.percentComplete > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await killHard(child);
    const beforeKill = seen.at(-1)!;
    assert.ok(beforeKill > 0 && beforeKill < 100, `killed at ${beforeKill}%`);

    child = await startChild(dir);
    const afterRestart: number[] = [];
    let final: OperationState;
    for (let i = 0; ; i++) {
      final = await operationState(child, id);
      afterRestart.push(final.percentComplete);
      if (final.httpStatus === 200) break;
      assert.ok(i < 12_000, 'the resumed reindex ends within a minute');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(final.status, 'succeeded');
    assert.equal(final.percentComplete, 100);
    const percents = [...seen, ...afterRestart];
    for (let i = 1; i < percents.length; i++)
      assert.ok(percents[i]! >= percents[i - 1]!, `percent went back: ${percents.join(',')}`);
    assert.ok(afterRestart[0]! >= beforeKill, `${beforeKill}% before, ${afterRestart[0]}% after`);

    const badOnes = planted.filter((p) => p.bad);
    const tag = (await (
      await fetch(`${child.url}/v2/extendedquerytags/${ACQUISITION_NUMBER}`)
    ).json()) as { Status: string; QueryStatus: string; Errors: { Count: number } };
    assert.equal(tag.Status, 'Ready');
    assert.equal(tag.Errors.Count, badOnes.length, 'each bad instance counted once');
    const errors: Array<{ SopInstanceUid: string }> = [];
    for (;;) {
      const page = (await (
        await fetch(
          `${child.url}/v2/extendedquerytags/${ACQUISITION_NUMBER}/errors?limit=200&offset=${errors.length}`,
        )
      ).json()) as Array<{ SopInstanceUid: string }>;
      errors.push(...page);
      if (page.length < 200) break;
    }
    const listed = errors.map((e) => e.SopInstanceUid);
    assert.equal(new Set(listed).size, listed.length, 'no instance listed twice');
    assert.deepEqual(new Set(listed), new Set(badOnes.map((p) => p.sop)));

    // A tag with errors is queried once enabled again (Azure: PATCH QueryStatus).
    const patched = await fetch(`${child.url}/v2/extendedquerytags/${ACQUISITION_NUMBER}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ QueryStatus: 'Enabled' }),
    });
    assert.equal(patched.status, 200);
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const value = String(bucket);
      const expected = planted.filter((p) => p.value === value).map((p) => p.sop);
      const found = await instancesWith(child, value);
      assert.equal(new Set(found).size, found.length, `value ${value}: no instance twice`);
      assert.deepEqual(new Set(found), new Set(expected), `value ${value}: every instance`);
    }
  });
});
