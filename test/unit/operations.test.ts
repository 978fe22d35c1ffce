/**
 * The operations' registry as restored from the state file (src/server/operations.ts): a
 * reindex's checkpoint is written before the percent it reached is answered, so a crash in
 * between leaves a checkpoint ahead of the operation's percent; restored, the percent is the
 * larger of the two and never goes back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperationRegistry, operationJson, type Operation } from '../../src/server/operations';

function persisted(percentComplete: number, checkpointPercent?: number): Operation {
  return {
    id: 'a'.repeat(32),
    type: 'reindex',
    createdTime: '2026-12-05T00:00:00.000Z',
    lastUpdatedTime: '2026-12-05T00:00:01.000Z',
    status: 'running',
    percentComplete,
    resources: ['00101030'],
    ...(checkpointPercent === undefined
      ? {}
      : { checkpoint: { watermark: 'k', errorCounts: {}, percent: checkpointPercent } }),
  };
}

describe('restored operations', () => {
  for (const [answered, checkpoint, expected] of [
    [8, 16, 16],
    [16, 16, 16],
    [20, 16, 20],
    [0, undefined, 0],
  ] as const) {
    it(`answered ${answered}%, checkpoint ${checkpoint ?? 'none'}: restored at ${expected}%`, () => {
      const registry = new OperationRegistry();
      registry.restore([persisted(answered, checkpoint)]);
      const restored = registry.get('a'.repeat(32))!;
      assert.equal(restored.percentComplete, expected);
      const json = operationJson(restored, 'http://h/v2', 2);
      assert.equal(json.percentComplete, expected);
      assert.equal('checkpoint' in json, false, 'the checkpoint is never answered');
    });
  }
});
