/**
 * STOW-RS against a real Orthanc: one exact outcome per file for mixed uploads, many files
 * in concurrent batches, progress, cancellation, and Orthanc's ambiguous 400 answers,
 * every reported outcome checked against what the server then holds.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { DicomWebClient, FileOutcome, StoreProgress } from '../../src/dicomweb';
import { writeSmallInstances, type GeneratedInstance } from '../support/bulkData';
import { orthancClient, resetOrthanc, tempDir } from '../support/env';
import { SEED, writeSeedFiles } from '../support/seedData';

/** Fails the test instead of hanging. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function byName(outcomes: FileOutcome[]): Record<string, FileOutcome> {
  return Object.fromEntries(outcomes.map((outcome) => [outcome.file.split('/').pop()!, outcome]));
}

describe('STOW-RS against Orthanc', () => {
  let client: DicomWebClient;
  let dir: string;
  let green: string;
  let red: string;
  let blue: string;
  let notDicom: string;
  let otherStudy: GeneratedInstance;

  /** The SOPInstanceUIDs of the list that Orthanc holds (QIDO with a UID list). */
  async function storedOf(uids: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < uids.length; i += 100) {
      const chunk = uids.slice(i, i + 100);
      const result = await client.searchForInstances({
        match: { SOPInstanceUID: chunk },
        limit: chunk.length,
      });
      for (const item of result.items) found.add(String(item['00080018']?.Value?.[0]));
    }
    return found;
  }

  before(async () => {
    await resetOrthanc();
    client = orthancClient();
    dir = tempDir('store');
    [green, red, blue] = await writeSeedFiles(join(dir, 'seed'));
    notDicom = join(dir, 'notes.dcm');
    await writeFile(notDicom, 'These are notes, not a DICOM file.\n'.repeat(20));
    [otherStudy] = await writeSmallInstances(join(dir, 'other'), 1, { seed: 'store-other-study' });
  });
  after(() => client.close());

  describe('a mixed upload to POST /studies/{study}', () => {
    beforeEach(async () => {
      await resetOrthanc();
      // red-triangle is already on the server: the upload sends it again.
      const first = await client.storeInstances([red]);
      assert.equal(first.stored, 1);
    });

    it('letting the server judge the foreign file (checkStudyLocally: false): 409, FailureReason 272 for it, the rest stored', async () => {
      const progress: StoreProgress[] = [];
      const summary = await client.storeInstances([green, red, notDicom, otherStudy.path, blue], {
        studyInstanceUid: SEED.studyInstanceUid,
        checkStudyLocally: false,
        onProgress: (p) => progress.push(p),
      });
      const o = byName(summary.outcomes);
      assert.equal(summary.outcomes.length, 5);

      assert.equal(o['green-square.dcm']?.status, 'stored');
      assert.equal(o['green-square.dcm']?.sopInstanceUid, SEED.greenSquare.sopInstanceUid);
      assert.match(
        o['green-square.dcm']?.retrieveUrl ?? '',
        new RegExp(`/instances/${SEED.greenSquare.sopInstanceUid}$`),
      );
      assert.equal(
        o['red-triangle.dcm']?.status,
        'stored',
        'Orthanc takes a duplicate and keeps its copy',
      );
      assert.equal(o['blue-circle.dcm']?.status, 'stored');
      for (const name of ['green-square.dcm', 'red-triangle.dcm', 'blue-circle.dcm'])
        assert.equal(o[name]?.httpStatus, 409, name);

      assert.equal(o['notes.dcm']?.status, 'skipped');
      assert.match(o['notes.dcm']?.message ?? '', /DICM|not a DICOM/i);
      assert.equal(o['notes.dcm']?.httpStatus, undefined, 'never sent');

      const foreign = o[otherStudy.path.split('/').pop()!];
      assert.equal(foreign?.status, 'failed');
      assert.equal(foreign?.reasonCode, 272);
      assert.equal(foreign?.reasonText, 'Processing failure');
      assert.equal(foreign?.httpStatus, 409);

      assert.deepEqual(
        [summary.stored, summary.warnings, summary.failed, summary.skipped],
        [3, 0, 1, 1],
      );
      const held = await storedOf([
        SEED.greenSquare.sopInstanceUid,
        SEED.redTriangle.sopInstanceUid,
        SEED.blueCircle.sopInstanceUid,
        otherStudy.sopInstanceUid,
      ]);
      assert.deepEqual(
        [...held].sort(),
        [
          SEED.greenSquare.sopInstanceUid,
          SEED.redTriangle.sopInstanceUid,
          SEED.blueCircle.sopInstanceUid,
        ].sort(),
      );
      assert.deepEqual(progress.at(-1), {
        filesDone: 5,
        filesTotal: 5,
        bytesSent: progress.at(-1)!.bytesTotal,
        bytesTotal: progress.at(-1)!.bytesTotal,
      });
    });

    it('with the default local check: the foreign file is refused unsent (0xA901), the rest stored with 200', async () => {
      const summary = await client.storeInstances([green, red, notDicom, otherStudy.path, blue], {
        studyInstanceUid: SEED.studyInstanceUid,
      });
      const o = byName(summary.outcomes);
      for (const name of ['green-square.dcm', 'red-triangle.dcm', 'blue-circle.dcm']) {
        assert.equal(o[name]?.status, 'stored', name);
        assert.equal(o[name]?.httpStatus, 200, name);
      }
      assert.equal(o['notes.dcm']?.status, 'skipped');
      const foreign = o[otherStudy.path.split('/').pop()!];
      assert.equal(foreign?.status, 'failed');
      assert.equal(foreign?.reasonCode, 0xa901);
      assert.equal(foreign?.httpStatus, undefined);
      assert.match(foreign?.message ?? '', /not sent/);
      assert.equal(foreign?.studyInstanceUid, otherStudy.studyInstanceUid);
      assert.equal((await storedOf([otherStudy.sopInstanceUid])).size, 0);
    });

    it('the same file twice in one upload is sent once; the second is skipped', async () => {
      const copy = join(dir, 'green-copy.dcm');
      await writeFile(copy, await readFile(green));
      const summary = await client.storeInstances([green, copy]);
      assert.deepEqual(
        summary.outcomes.map((o) => o.status),
        ['stored', 'skipped'],
      );
      assert.match(summary.outcomes[1]?.message ?? '', /same SOPInstanceUID/);
    });
  });

  describe('many files', () => {
    let many: GeneratedInstance[];
    before(async () => {
      await resetOrthanc();
      many = await writeSmallInstances(join(dir, 'many'), 230, { seed: 'store-many', studies: 2 });
    });

    it('230 instances in batches of 20, 3 requests in flight: all stored, all found by QIDO, progress reaches the totals', async () => {
      let inFlight = 0;
      let mostInFlight = 0;
      let requests = 0;
      const send = client.send.bind(client);
      client.send = async (...args: Parameters<DicomWebClient['send']>) => {
        if (args[0].method === 'POST') {
          requests++;
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          try {
            return await send(...args);
          } finally {
            inFlight--;
          }
        }
        return send(...args);
      };
      const progress: StoreProgress[] = [];
      try {
        const summary = await within(
          60_000,
          client.storeInstances(
            many.map((i) => i.path),
            { batchSize: 20, concurrency: 3, onProgress: (p) => progress.push(p) },
          ),
          'storing 230 files',
        );
        assert.equal(
          summary.stored,
          230,
          JSON.stringify(summary.outcomes.find((o) => o.status !== 'stored')),
        );
        assert.deepEqual(
          summary.outcomes.map((o) => o.file),
          many.map((i) => i.path),
          'outcomes in the order given',
        );
        assert.ok(
          summary.outcomes.every(
            (o, index) => o.sopInstanceUid === many[index]!.sopInstanceUid && o.httpStatus === 200,
          ),
        );
      } finally {
        client.send = send;
      }
      assert.equal(requests, 12, 'ceil(230 / 20) requests');
      assert.equal(mostInFlight, 3);

      const last = progress.at(-1)!;
      assert.equal(last.filesDone, 230);
      assert.equal(last.filesTotal, 230);
      assert.equal(last.bytesSent, last.bytesTotal);
      assert.ok(last.bytesTotal >= 230 * 12_000, `bytesTotal ${last.bytesTotal}`);
      for (let i = 1; i < progress.length; i++) {
        assert.ok(
          progress[i]!.filesDone >= progress[i - 1]!.filesDone &&
            progress[i]!.bytesSent >= progress[i - 1]!.bytesSent,
          'progress never goes back',
        );
      }

      const found = await storedOf(many.map((i) => i.sopInstanceUid));
      assert.equal(found.size, 230);
      for (const study of new Set(many.map((i) => i.studyInstanceUid))) {
        const inStudy = await client.searchForInstances(
          { limit: 1000 },
          { studyInstanceUid: study },
        );
        assert.equal(inStudy.items.length, many.filter((i) => i.studyInstanceUid === study).length);
      }
    });
  });

  describe('cancellation', () => {
    it('an abort mid-upload reports every file, never hangs, and what it calls stored is stored', async () => {
      await resetOrthanc();
      const files = await writeSmallInstances(join(dir, 'cancel'), 200, { seed: 'store-cancel' });
      const controller = new AbortController();
      let aborted = false;
      const summary = await within(
        30_000,
        client.storeInstances(
          files.map((f) => f.path),
          {
            batchSize: 10,
            concurrency: 2,
            signal: controller.signal,
            onProgress: (p) => {
              if (!aborted && p.filesDone >= 30) {
                aborted = true;
                controller.abort();
              }
            },
          },
        ),
        'a cancelled upload',
      );
      assert.ok(aborted, 'the upload was cancelled while running');
      assert.equal(summary.outcomes.length, 200);
      assert.ok(
        summary.outcomes.every((o) => ['stored', 'failed', 'skipped'].includes(o.status)),
        'every file has an outcome',
      );
      assert.equal(summary.stored + summary.failed + summary.skipped + summary.warnings, 200);
      assert.ok(summary.stored >= 30 && summary.stored < 200, `stored ${summary.stored}`);
      assert.ok(summary.skipped > 0, 'batches not yet sent are reported skipped');

      const held = await storedOf(files.map((f) => f.sopInstanceUid));
      for (const outcome of summary.outcomes) {
        if (outcome.status === 'stored')
          assert.ok(
            held.has(outcome.sopInstanceUid!),
            `${outcome.file} reported stored is on the server`,
          );
        if (outcome.status === 'failed') {
          // The batch in flight at the abort: its fate is checked by a query, never guessed;
          // when it cannot be known the outcome says so instead of claiming either way.
          if (outcome.verified)
            assert.ok(
              !held.has(outcome.sopInstanceUid!),
              `${outcome.file} reported failed is not on the server`,
            );
          else
            assert.match(
              outcome.message ?? '',
              /may still store/,
              `${outcome.file}: ${outcome.message}`,
            );
        }
        if (outcome.status === 'skipped') {
          assert.match(outcome.message ?? '', /cancelled/);
          assert.ok(
            !held.has(outcome.sopInstanceUid!),
            `${outcome.file} reported unsent is not on the server`,
          );
        }
      }
    });

    it('a signal aborted before the call stores nothing and reports every file', async () => {
      await resetOrthanc();
      const files = await writeSmallInstances(join(dir, 'precancel'), 5, {
        seed: 'store-precancel',
      });
      const summary = await within(
        10_000,
        client.storeInstances(
          files.map((f) => f.path),
          { signal: AbortSignal.abort() },
        ),
        'a pre-cancelled upload',
      );
      assert.deepEqual(
        summary.outcomes.map((o) => o.status),
        ['skipped', 'skipped', 'skipped', 'skipped', 'skipped'],
      );
      assert.equal((await storedOf(files.map((f) => f.sopInstanceUid))).size, 0);
    });
  });

  describe("Orthanc's ambiguous answers", () => {
    let good: GeneratedInstance[];
    let broken: GeneratedInstance;

    before(async () => {
      await resetOrthanc();
      const made = await writeSmallInstances(join(dir, 'ambiguous'), 4, {
        seed: 'store-ambiguous',
      });
      good = [made[0]!, made[2]!, made[3]!];
      broken = made[1]!;
      // A valid header (every UID readable, Pixel Data complete) followed by garbage:
      // the local identity read accepts it, Orthanc's parser refuses the file.
      await writeFile(
        broken.path,
        Buffer.concat([await readFile(broken.path), Buffer.alloc(64, 0xab)]),
      );
    });

    it('one broken part in a batch: Orthanc answers 400 yet stores the good ones; each outcome is right', async () => {
      const summary = await client.storeInstances([good[0]!.path, broken.path, good[1]!.path]);
      const [first, bad, second] = summary.outcomes;
      assert.equal(
        bad?.status,
        'failed',
        'the broken file was sent (it passed the local read) and failed',
      );
      assert.equal(bad?.httpStatus, 400);
      assert.equal(bad?.verified, true, 'failure confirmed by a query, not guessed');
      for (const ok of [first, second]) {
        assert.equal(ok?.status, 'stored');
        assert.equal(ok?.httpStatus, 400);
      }
      const held = await storedOf([
        good[0]!.sopInstanceUid,
        broken.sopInstanceUid,
        good[1]!.sopInstanceUid,
      ]);
      assert.deepEqual([...held].sort(), [good[0]!.sopInstanceUid, good[1]!.sopInstanceUid].sort());
    });

    it('a batch of only the broken part: 400 with an empty FailedSOPSequence, verified as failed', async () => {
      const summary = await client.storeInstances([broken.path]);
      assert.equal(summary.outcomes[0]?.status, 'failed');
      assert.equal(summary.outcomes[0]?.verified, true);
      assert.equal((await storedOf([broken.sopInstanceUid])).size, 0);
    });

    it('a broken copy of an instance already stored: the verification finds it and says stored', async () => {
      // Ambiguity cuts both ways: the query sees the instance, so the outcome is "stored" (it is on
      // the server).
      const corrupt = join(dir, 'ambiguous', 'corrupt-copy.dcm');
      await writeFile(
        corrupt,
        Buffer.concat([await readFile(good[0]!.path), Buffer.alloc(64, 0xab)]),
      );
      const summary = await client.storeInstances([corrupt]);
      assert.equal(summary.outcomes[0]?.status, 'stored');
      assert.equal(summary.outcomes[0]?.verified, true);
      assert.match(summary.outcomes[0]?.message ?? '', /answered 400/);
    });

    it('without verification the broken part is failed, unverified', async () => {
      const summary = await client.storeInstances([broken.path, good[2]!.path], {
        verifyAmbiguous: false,
      });
      assert.equal(summary.outcomes[0]?.status, 'failed');
      assert.notEqual(summary.outcomes[0]?.verified, true);
      assert.equal(summary.outcomes[1]?.status, 'stored');
      assert.equal((await storedOf([good[2]!.sopInstanceUid])).size, 1);
    });
  });
});
