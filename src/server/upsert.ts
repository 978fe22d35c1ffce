/**
 * Upsert: `PUT /studies` and `PUT /studies/{study}` of the Azure DICOM service (conformance
 * statement v2, "Store (STOW-RS)": "PUT ../studies — Upsert instances"; "For upsert (PUT)
 * requests, the existing data is replaced by the new data received"). The body, the checks
 * and the answer are STOW's (stow.ts); only an instance whose SOP Instance UID is already
 * stored is treated differently: it replaces the stored one instead of failing with 45070.
 *
 * The statement documents no mark of a replaced instance in the answer: the local server
 * answers a replaced instance exactly as a new one (a ReferencedSOPSequence item, 200), and
 * tells its own callers (the change feed) through {@link StoredInstance.replaced}.
 *
 * On disk a replacement is one `rename` of the fsynced new file over the old one, so a crash
 * leaves the old file or the new one, never none (POSIX rename(2) replaces atomically). An
 * instance that moves to another series keeps that promise too: the new file is renamed into
 * place first and the old one unlinked after, so a crash in between leaves both, never none.
 *
 * Plain Node: no `vscode` import.
 */
import type { InstanceIdentity } from '../dicom/part10';
import type { AddResult, InstanceEntry, InstanceNode } from './catalog';
import type { Storage } from './storage';

/** What a STOW or an upsert stored, for whoever records changes (the change feed). */
export interface StoredInstance {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  /** True when an upsert replaced an instance with this SOP Instance UID (feed: `update`). */
  replaced: boolean;
}

/**
 * Where an upserted instance goes: over the stored instance's own file when it stays in the
 * same study and series (one atomic rename), else a fresh path of the STOW layout.
 */
export function upsertTarget(storage: Storage, identity: InstanceIdentity): string {
  const existing = storage.catalog.instancesByUid.get(identity.sopInstanceUid);
  if (
    existing &&
    existing.series.uid === identity.seriesInstanceUid &&
    existing.series.study.uid === identity.studyInstanceUid
  )
    return existing.file;
  return storage.targetFor(
    identity.studyInstanceUid,
    identity.seriesInstanceUid,
    identity.sopInstanceUid,
  );
}

/**
 * The stored instance an upsert will replace, looked up again when the new file is moved
 * into place (a DELETE may have removed it since the part was received). Its path is marked
 * as being committed, so the folder watcher leaves it alone until {@link finishReplace}.
 */
export function beginReplace(storage: Storage, entry: InstanceEntry): InstanceNode | undefined {
  const current = storage.catalog.instancesByUid.get(entry.sopUid);
  if (current) storage.committing.add(current.file);
  return current;
}

/**
 * The new file is in place: the index swaps the old instance for the new one (the catalog
 * never replaces on its own: `add` refuses a second file of one SOP Instance UID), and an
 * old file at another path is unlinked, after the new one is durable.
 */
export async function finishReplace(
  storage: Storage,
  entry: InstanceEntry,
  replaced: InstanceNode | undefined,
): Promise<AddResult> {
  try {
    if (replaced) storage.catalog.removeInstance(replaced);
    const outcome = storage.catalog.add(entry);
    if (replaced && replaced.file !== entry.file && outcome.kind === 'added')
      await storage.removeFile(replaced.file);
    return outcome;
  } finally {
    if (replaced) storage.committing.delete(replaced.file);
  }
}
