/**
 * The served folder is a jail (issue 10, finding 1): the server reads, writes and deletes
 * only files that are inside it at the moment it does so, never through a symbolic link.
 *
 * Rules, the same for the start-up scan, the watcher and every request:
 * - Symbolic links are ignored everywhere, inside the folder too (scan and watcher use
 *   `lstat`; a link is neither a file nor a folder to them). Following links "only when they
 *   stay inside" would need the check below at every level of every walk, and a link that
 *   is inside today can be retargeted tomorrow; ignoring them is the one rule that the scan,
 *   the watcher and the requests can all keep.
 * - An index path is relative, `/`-separated, and none of its segments is empty or starts
 *   with `.` (so no `..`, no `.dicomweb`): {@link isIndexPath}. The index never names
 *   anything else (Catalog.fromJson refuses it and the index is rebuilt from the files).
 * - Reading: the file is opened with O_NOFOLLOW (its last component may not be a link) and
 *   O_NONBLOCK (a FIFO swapped in cannot hang a thread), then the OPENED descriptor is
 *   checked: a regular file, whose device and inode are those of the entry found at the
 *   real path (realpath of its folder, which must lie inside the real root). A file swapped
 *   for a link, or a folder swapped for a link, between the scan and the request is refused,
 *   whatever the timing: the check is about the descriptor that will be read.
 * - Writing and deleting: the folder is resolved with realpath and must lie inside the real
 *   root; folders are created one level at a time, each checked with lstat to be a real
 *   folder; the rename or unlink then uses that real path. (Node has no renameat/unlinkat,
 *   so a folder swapped for a link in the microseconds between the check and the call is
 *   the one race left; it needs write access to the folder and exact timing.)
 *
 * Plain Node: no `vscode` import.
 */
import { constants, type ReadStream } from 'node:fs';
import { lstat, mkdir, open, realpath, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { HttpError } from './httpUtil';

/**
 * Refused because it would leave the served folder (or is not a plain file in it). As an
 * answer: 404, the instance's file is not there to serve (the watcher drops the entry).
 */
export class OutsideRootError extends HttpError {
  readonly code = 'OUTSIDE_ROOT';
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(404, `${file}: ${why}; the server reads and writes only plain files inside its folder`);
  }
}

// Windows has neither flag (Node leaves them undefined): there the descriptor check still holds.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

/** Whether `rel` may name a file in the index: see the module comment. */
export function isIndexPath(rel: string): boolean {
  if (typeof rel !== 'string' || rel === '' || rel.length > 4096) return false;
  if (rel.includes('\\') || rel.includes('\0')) return false;
  // A drive letter or stream name (`C:`, `a.dcm:x`) would leave the folder on Windows only.
  if (process.platform === 'win32' && rel.includes(':')) return false;
  return rel.split('/').every((segment) => segment !== '' && !segment.startsWith('.'));
}

/** Whether the real path `real` is `root` or lies below it (both already real). */
export function isInside(root: string, real: string): boolean {
  if (real === root) return true;
  return real.startsWith(root.endsWith(sep) ? root : root + sep);
}

const realRoots = new Map<string, Promise<string>>();

/**
 * The real path of a served folder (cached: the folder itself is the user's choice, link or not).
 */
export function realRoot(root: string): Promise<string> {
  let real = realRoots.get(root);
  if (!real) {
    real = realpath(root);
    real.catch(() => realRoots.delete(root));
    realRoots.set(root, real);
  }
  return real;
}

/** A stored file: the served folder and an index path in it. */
export interface StoredFile {
  readonly root: string;
  readonly file: string;
}

export function storedFile(root: string, file: string): StoredFile {
  return { root, file };
}

/**
 * Opens a file of the served folder for reading, refusing anything that is not a regular
 * file inside it at the moment of opening (see the module comment). The caller closes it.
 */
export async function openInside(root: string, rel: string): Promise<FileHandle> {
  if (!isIndexPath(rel)) throw new OutsideRootError(rel, 'not a path inside the served folder');
  const base = await realRoot(root);
  const path = join(base, ...rel.split('/'));
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP')
      throw new OutsideRootError(rel, 'is a symbolic link');
    throw error;
  }
  try {
    const opened = await handle.stat({ bigint: true });
    if (!opened.isFile()) throw new OutsideRootError(rel, 'is not a regular file');
    const folder = await realpath(dirname(path));
    if (!isInside(base, folder))
      throw new OutsideRootError(rel, 'lies in a folder that links outside');
    const entry = await lstat(join(folder, basename(path)), { bigint: true });
    if (entry.dev !== opened.dev || entry.ino !== opened.ino)
      throw new OutsideRootError(rel, 'changed into another file while being opened');
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The real path of a folder inside the served folder, created level by level when missing;
 * refuses when a level is a link or not a folder. `rel` may be '' (the root itself).
 * Returns the real path and the first folder it created, if any (for fsyncing parents).
 */
export async function folderInside(
  root: string,
  rel: string,
): Promise<{ real: string; firstCreated?: string }> {
  const base = await realRoot(root);
  let current = base;
  let firstCreated: string | undefined;
  for (const segment of rel.split('/').filter(Boolean)) {
    if (segment === '.' || segment === '..')
      throw new OutsideRootError(rel, 'climbs out of the served folder');
    const next = join(current, segment);
    let info = await lstat(next).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      return undefined;
    });
    if (!info) {
      await mkdir(next).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      firstCreated ??= next;
      info = await lstat(next);
    }
    if (info.isSymbolicLink()) throw new OutsideRootError(rel, `${segment} is a symbolic link`);
    if (!info.isDirectory()) throw new OutsideRootError(rel, `${segment} is not a folder`);
    current = next;
  }
  // The levels were checked one by one; realpath confirms none was swapped meanwhile.
  const real = await realpath(current);
  if (!isInside(base, real)) throw new OutsideRootError(rel, 'resolves outside the served folder');
  return firstCreated ? { real, firstCreated } : { real };
}

/**
 * The real absolute path for an index path whose folder already exists inside the root,
 * for a rename into place or an unlink; undefined when its folder is gone.
 */
export async function realTarget(root: string, rel: string): Promise<string | undefined> {
  if (!isIndexPath(rel)) throw new OutsideRootError(rel, 'not a path inside the served folder');
  const base = await realRoot(root);
  const segments = rel.split('/');
  let folder: string;
  try {
    folder = await realpath(join(base, ...segments.slice(0, -1)));
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ENOTDIR'
    )
      return undefined;
    throw error;
  }
  if (!isInside(base, folder))
    throw new OutsideRootError(rel, 'lies in a folder that links outside');
  return join(folder, segments[segments.length - 1]!);
}

/**
 * Removes a file of the served folder: through its real folder, so a linked folder never
 * makes the unlink land outside; a link at the path itself is removed as a link (unlink
 * never follows the last component). Returns the real folder it was removed from.
 */
export async function unlinkInside(root: string, rel: string): Promise<string | undefined> {
  const target = await realTarget(root, rel);
  if (!target) return undefined;
  try {
    await unlink(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return dirname(target);
}

/**
 * A read stream of a stored file, opened through {@link openInside} (it closes the file when
 * it ends or is destroyed). For WADO-RS answers that send a file as it is.
 */
export async function openStoredStream(
  root: string,
  rel: string,
  highWaterMark = 256 * 1024,
): Promise<ReadStream> {
  const handle = await openInside(root, rel);
  return handle.createReadStream({ highWaterMark });
}

/** The bytes of a stored file, opened only when the consumer reaches it (a multipart part). */
export async function* storedFileChunks(
  file: StoredFile,
  highWaterMark = 256 * 1024,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of await openStoredStream(file.root, file.file, highWaterMark))
    yield chunk as Buffer;
}
