/**
 * Replaced or new: what an upsert (`PUT /studies`, Azure DICOM service API v2) did with each
 * stored file. The service's answer is STOW's (PS3.18 §10.5.3 Store Instances Response): it
 * names every stored instance alike and has no mark of a replacement (the conformance
 * statement v2 documents none; the local server answers the same way, as an emulator must).
 * So the client asks before it sends: a QIDO of the batch's SOPInstanceUIDs (UID list
 * matching, PS3.18 §8.3.4.1) just before the batch goes out (store.ts `sendBatch`). An
 * instance found there and stored by the PUT was replaced; one not found was new.
 *
 * Why before, not after: after the PUT every stored instance is found, old or new alike.
 * The one window left open is another client storing the same instance between the search
 * and the PUT: then "new" is reported for what was, a moment earlier, a replacement.
 */
import type { StoreStatus } from './stowResponse';

/** The fields of a file's outcome this decides on (store.ts FileOutcome). */
export interface UpsertOutcome {
  status: StoreStatus;
  sopInstanceUid?: string;
  message?: string;
  verified?: boolean;
  replaced?: boolean;
}

/**
 * A file's outcome with `replaced` set from the instances stored before its batch was sent
 * (`storedBefore`: undefined when that search failed, and then nothing is claimed).
 */
export function markReplaced<T extends UpsertOutcome>(
  outcome: T,
  storedBefore: ReadonlySet<string> | undefined,
): T {
  if (outcome.status !== 'stored' && outcome.status !== 'warning') return outcome;
  const uid = outcome.sopInstanceUid;
  if (!storedBefore || uid === undefined) {
    return {
      ...outcome,
      message: joined(outcome.message, 'replaced or new: unknown (the search before it failed)'),
    };
  }
  const existed = storedBefore.has(uid);
  if (outcome.verified && existed) {
    // Known only from a search after an unclear answer: the instance found may be the old one.
    return {
      ...outcome,
      status: 'failed',
      verified: false,
      message: joined(
        outcome.message,
        'the answer was unclear and this instance was already stored: whether it was replaced is unknown',
      ),
    };
  }
  return { ...outcome, replaced: existed };
}

function joined(first: string | undefined, second: string): string {
  return first ? `${first}; ${second}` : second;
}
