// A node:test reporter that writes one JSON line of counts, for scripts/test.mjs to add up
// instead of reading numbers out of the spec reporter's text. Used as a second reporter:
//   node --test --test-reporter=spec --test-reporter-destination=stdout \
//     --test-reporter=./scripts/test-summary-reporter.mjs --test-reporter-destination=<file>
// It counts what node:test's own closing lines (`ℹ pass N`, `ℹ fail N`) count: every test
// that is not a suite (describe); a skipped or todo test is neither passed nor failed, and a
// test stopped by its timeout or its parent's end is cancelled. Node's own totals of the
// whole run (its last `test:summary` event) are written beside them as runnerTotals, which
// scripts/test.mjs holds the counts against.

/** failureType of the errors node:test gives a test it stopped, not one that threw. */
const CANCELLED = new Set(['cancelledByParent', 'testTimeoutFailure']);

export default async function* summaryReporter(source) {
  const counts = { passed: 0, failed: 0, cancelled: 0, skipped: 0, todo: 0 };
  const failedNames = [];
  let runnerTotals;
  for await (const { type, data } of source) {
    if (type === 'test:summary' && data.file === undefined) {
      // The run's total (one per file comes before it, each with data.file set).
      const { passed, failed, cancelled } = data.counts;
      runnerTotals = { passed, failed: failed + cancelled };
      continue;
    }
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    if (data.details?.type === 'suite') continue;
    if (data.skip !== undefined) counts.skipped++;
    else if (data.todo !== undefined) counts.todo++;
    else if (type === 'test:pass') counts.passed++;
    else if (CANCELLED.has(data.details?.error?.failureType)) counts.cancelled++;
    else {
      counts.failed++;
      failedNames.push(data.file ? `${data.name} (${data.file})` : data.name);
    }
  }
  yield `${JSON.stringify({ ...counts, failedNames, runnerTotals })}\n`;
}
