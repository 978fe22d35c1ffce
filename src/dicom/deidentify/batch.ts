/**
 * One de-identification batch: the options chosen and a secret key that makes replaced UIDs
 * and shifted dates consistent across every file of the batch, so studies and series stay
 * whole (PS3.15 §E.3.9: a UID is replaced by the same new UID wherever it occurs).
 *
 * Nothing is remembered per UID: the new UID is a keyed hash of the old one, so a batch of a
 * million files costs no memory and two runs with the same key agree. Without the key the
 * mapping cannot be reversed or recomputed; it never leaves this object.
 *
 * Plain module: no `vscode` import (see docs/style.md, `src/dicom/`).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { EXCLUSIVE_OPTIONS, type DeidentifyOption } from './profile';

/** Bytes of the per-batch key (HMAC-SHA-256 key, as long as its output). */
export const BATCH_KEY_BYTES = 32;
/** Dates move back by 1 to this many days (about ten years), one offset per patient. */
export const MAX_DATE_SHIFT_DAYS = 3650;

export class DeidentifyBatch {
  readonly options: ReadonlySet<DeidentifyOption>;
  readonly #key: Buffer;

  /**
   * @param options the PS3.15 §E.3 options picked
   * @param key the batch secret; random when omitted (tests pass one to be reproducible)
   * @throws Error when two options contradict each other (full and modified dates)
   */
  constructor(options: Iterable<DeidentifyOption>, key: Uint8Array = randomBytes(BATCH_KEY_BYTES)) {
    this.options = new Set(options);
    for (const [a, b] of EXCLUSIVE_OPTIONS) {
      if (this.options.has(a) && this.options.has(b)) {
        throw new Error(`De-identification options ${a} and ${b} cannot be used together.`);
      }
    }
    if (key.length < 16) throw new Error('A de-identification batch key needs at least 16 bytes.');
    this.#key = Buffer.from(key);
  }

  /**
   * The new UID for `uid` in this batch: "2.25." and the decimal form of a UUID (PS3.5 §B.2)
   * whose 122 free bits are an HMAC-SHA-256 of the old UID under the batch key, marked as an
   * RFC 9562 version 8 (custom) UUID. At most 44 characters, within UI's 64 (PS3.5 §9.1).
   */
  replaceUid(uid: string): string {
    const hash = createHmac('sha256', this.#key).update('uid\0').update(uid).digest();
    hash[6] = (hash[6]! & 0x0f) | 0x80; // version 8
    hash[8] = (hash[8]! & 0x3f) | 0x80; // variant 10xx
    return `2.25.${BigInt(`0x${hash.subarray(0, 16).toString('hex')}`).toString()}`;
  }

  /**
   * Days every date of one patient moves back, for "Retain Longitudinal Temporal Information
   * with Modified Dates" (PS3.15 §E.3.6): the same for all of a patient's files in this batch,
   * so intervals between studies stay true, and unrelated between patients.
   */
  dateShiftDays(patientKey: string): number {
    const hash = createHmac('sha256', this.#key).update('date\0').update(patientKey).digest();
    return 1 + (hash.readUInt32BE(0) % MAX_DATE_SHIFT_DAYS);
  }
}
