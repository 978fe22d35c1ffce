/**
 * The local server's state files (the index, the partitions' list, the extended query tags and
 * their operations) are replaced whole, never edited in place: a crash or a power loss at any
 * point leaves the old file or the new one, never a mix. Plain Node: no `vscode` import.
 */
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `text` to `path` through a temporary file beside it: the temporary file is written and
 * fsynced, renamed over `path` (atomic on POSIX and NTFS), then the folder is fsynced so that
 * the rename itself survives a power loss (POSIX: a rename is durable once its directory is).
 * A leftover temporary file (or a link planted in its place) is removed first, and `wx` never
 * opens through a link.
 */
export async function replaceFileDurably(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await rm(temp, { force: true });
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await syncDirectory(dirname(path));
}

/** fsync on a directory makes a rename in it durable (POSIX); not possible on Windows. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    /* some file systems refuse fsync on directories */
  } finally {
    await handle.close();
  }
}
