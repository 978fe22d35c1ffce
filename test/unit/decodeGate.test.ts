/**
 * The local server's decode gate (src/server/decodeGate.ts): at most `maxActive` decodes at
 * once, at most `maxQueued` waiting, a wait longer than the timeout is a 503 with Retry-After.
 * Driven by promises the test resolves itself: no timing of real work.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DecodeGate,
  MAX_ACTIVE_DECODES,
  MAX_QUEUED_DECODES,
  decodeGate,
} from '../../src/server/decodeGate';
import { HttpError } from '../../src/server/httpUtil';

/** A job that runs until the test lets it finish. */
function held(): { work: () => Promise<string>; started: Promise<void>; finish: () => void } {
  let finish!: () => void;
  let started!: () => void;
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    work: async () => {
      started();
      await done;
      return 'done';
    },
    started: startedPromise,
    finish,
  };
}

function isBusy(error: unknown): boolean {
  return error instanceof HttpError && error.status === 503 && error.headers['retry-after'] === '1';
}

describe('server/decodeGate', () => {
  it('runs at most maxActive at once, queues up to maxQueued, refuses the next with 503', async () => {
    const gate = new DecodeGate(2, 1, 60_000);
    const [a, b, c] = [held(), held(), held()];
    const runA = gate.run(a.work);
    const runB = gate.run(b.work);
    await Promise.all([a.started, b.started]);
    let cStarted = false;
    const runC = gate.run(() => ((cStarted = true), c.work()));
    assert.deepEqual(gate.load, { active: 2, queued: 1 });
    await assert.rejects(
      gate.run(async () => 'never'),
      isBusy,
    );
    assert.equal(cStarted, false, 'the third waits for a slot');
    a.finish();
    assert.equal(await runA, 'done');
    await c.started;
    assert.deepEqual(gate.load, { active: 2, queued: 0 });
    b.finish();
    c.finish();
    assert.deepEqual(await Promise.all([runB, runC]), ['done', 'done']);
    assert.deepEqual(gate.load, { active: 0, queued: 0 });
  });

  it('gives up on a wait longer than its timeout with 503, and frees the place in the queue', async () => {
    const gate = new DecodeGate(1, 1, 20);
    const a = held();
    const runA = gate.run(a.work);
    await a.started;
    await assert.rejects(
      gate.run(async () => 'late'),
      isBusy,
    );
    assert.deepEqual(gate.load, { active: 1, queued: 0 });
    a.finish();
    await runA;
    assert.equal(await gate.run(async () => 'next'), 'next');
  });

  it('releases the slot when the work fails', async () => {
    const gate = new DecodeGate(1, 0, 1000);
    await assert.rejects(
      gate.run(() => Promise.reject(new Error('corrupt'))),
      /corrupt/,
    );
    assert.equal(await gate.run(async () => 'ok'), 'ok');
  });

  it('the server’s gate has the stated limits', () => {
    assert.equal(decodeGate.maxActive, MAX_ACTIVE_DECODES);
    assert.equal(decodeGate.maxQueued, MAX_QUEUED_DECODES);
  });
});
