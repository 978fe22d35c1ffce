/**
 * The fuzz suite's served folder and its canary: a folder beside the served root holding
 * files that carry a unique marker, reached from inside the root only through symbolic
 * links (issue 10, finding 1). The server must never read them (the marker must appear in
 * no answer), write them or delete them (the canary tree is hashed before and after).
 *
 *   parent/
 *     canary/                         ← outside the root
 *       secret.dcm  secret.txt  swap-secret.dcm  late.dcm
 *       study-dir/a.dcm b.dcm   late-dir/c.dcm   stow-target/keep.txt
 *     root/                           ← served
 *       seed/*.dcm                    real instances (one multi-frame)
 *       linked-file.dcm → ../canary/secret.dcm
 *       linked-text.dcm → ../canary/secret.txt
 *       linked-dir      → ../canary/study-dir
 *       <study UID>     → ../canary/stow-target      (a study folder a STOW would write into)
 *     and once the server runs (the watcher's path, not the start-up scan's):
 *       late-link.dcm   → ../canary/late.dcm
 *       late-dir        → ../canary/late-dir
 *       seed/swap.dcm   replaced by a link → ../../canary/swap-secret.dcm (same UIDs)
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { smallInstance } from '../server/helpers';
import { uidFromString } from './bulkData';
import type { ImageInstanceParams } from './dicomWriter';
import { LONG_DESCRIPTION, type KnownInstance } from './fuzzRequests';

export const CANARY_DIR = 'canary';

export interface FuzzFolders {
  parent: string;
  root: string;
  canary: string;
  /** Bytes that only the canary's files hold. */
  marker: Buffer;
  seeded: KnownInstance[];
  multiFrame: KnownInstance & { frames: number };
  /** The canary's instances and the study kept for deleting. */
  deletable: KnownInstance[];
  linkedStudyUid: string;
  canaryNames: string[];
}

/**
 * The server tests' small 8×8 instance, with the fuzz suite's long description (its QIDO wildcards
 * match on it).
 */
function instance(
  name: string,
  overrides: Partial<ImageInstanceParams> = {},
): { known: KnownInstance; bytes: Buffer } {
  const { bytes, params } = smallInstance(name, {
    patientName: 'PELVIS^ABDOMEN',
    modality: 'CT',
    studyDescription: LONG_DESCRIPTION,
    ...overrides,
  });
  return {
    known: { study: params.studyUid, series: params.seriesUid, sop: params.sopInstanceUid },
    bytes,
  };
}

/**
 * An instance whose text attributes carry the marker (so QIDO, metadata and WADO would show it).
 */
function canaryInstance(
  name: string,
  marker: string,
  overrides: Partial<ImageInstanceParams> = {},
): { known: KnownInstance; bytes: Buffer } {
  return instance(`canary-${name}`, {
    patientId: marker,
    studyDescription: marker,
    seriesDescription: marker,
    extraElements: [{ tag: 0x00081080, vr: 'LO', value: marker }],
    ...overrides,
  });
}

/** Writes the canary, the served root with its seeded instances and its first links. */
export async function makeFuzzFolders(parent: string, seed: number): Promise<FuzzFolders> {
  const marker = `CANARY-${randomBytes(12).toString('hex')}`;
  const root = join(parent, 'root');
  const canary = join(parent, CANARY_DIR);
  for (const dir of [
    join(root, 'seed'),
    join(canary, 'study-dir'),
    join(canary, 'late-dir'),
    join(canary, 'stow-target'),
  ]) {
    await mkdir(dir, { recursive: true });
  }
  const seeded: KnownInstance[] = [];
  for (let i = 0; i < 6; i++) {
    const made = instance(`fuzz-seed-${seed}-${i % 3}-${i}`, {
      studyUid: uidFromString(`fuzz-seed-${seed}-study-${i % 3}`),
    });
    await writeFile(join(root, 'seed', `s${i}.dcm`), made.bytes);
    seeded.push(made.known);
  }
  // 8 frames of 256×256×16 bits (128 KiB each): a frame list of duplicates multiplies them.
  const frames = 8;
  const multi = instance(`fuzz-seed-${seed}-multi`, {
    rows: 256,
    columns: 256,
    bitsAllocated: 16,
    numberOfFrames: frames,
    pixelData: new Uint16Array(256 * 256 * frames).map((_, i) => i & 0xffff),
  });
  await writeFile(join(root, 'seed', 'multi.dcm'), multi.bytes);
  const swap = instance(`fuzz-seed-${seed}-swap`);
  await writeFile(join(root, 'seed', 'swap.dcm'), swap.bytes);
  seeded.push(swap.known);
  const doomed = instance(`fuzz-seed-${seed}-doomed`);
  await writeFile(join(root, 'seed', 'doomed.dcm'), doomed.bytes);

  const deletable: KnownInstance[] = [doomed.known];
  const put = async (
    path: string,
    made: { known: KnownInstance; bytes: Buffer },
  ): Promise<void> => {
    await writeFile(path, made.bytes);
    deletable.push(made.known);
  };
  await put(join(canary, 'secret.dcm'), canaryInstance(`${seed}-secret`, marker));
  await put(
    join(canary, 'study-dir', 'a.dcm'),
    canaryInstance(`${seed}-dir-a`, marker, {
      studyUid: uidFromString(`canary-${seed}-dir/study`),
    }),
  );
  await put(
    join(canary, 'study-dir', 'b.dcm'),
    canaryInstance(`${seed}-dir-b`, marker, {
      studyUid: uidFromString(`canary-${seed}-dir/study`),
    }),
  );
  await put(join(canary, 'late.dcm'), canaryInstance(`${seed}-late`, marker));
  await put(join(canary, 'late-dir', 'c.dcm'), canaryInstance(`${seed}-late-dir`, marker));
  // The swapped-in file claims the UIDs of a seeded instance: served, it would show the marker.
  await writeFile(
    join(canary, 'swap-secret.dcm'),
    canaryInstance('swap', marker, {
      studyUid: swap.known.study,
      seriesUid: swap.known.series,
      sopInstanceUid: swap.known.sop,
    }).bytes,
  );
  await writeFile(join(canary, 'secret.txt'), `${marker}\n`.repeat(64));
  await writeFile(join(canary, 'stow-target', 'keep.txt'), `${marker}\n`);

  const linkedStudyUid = uidFromString(`fuzz-${seed}-linked-study`);
  await symlink(`../${CANARY_DIR}/secret.dcm`, join(root, 'linked-file.dcm'));
  await symlink(`../${CANARY_DIR}/secret.txt`, join(root, 'linked-text.dcm'));
  await symlink(`../${CANARY_DIR}/study-dir`, join(root, 'linked-dir'));
  await symlink(`../${CANARY_DIR}/stow-target`, join(root, linkedStudyUid));
  return {
    parent,
    root,
    canary,
    marker: Buffer.from(marker),
    seeded,
    multiFrame: { ...multi.known, frames },
    deletable,
    linkedStudyUid,
    canaryNames: ['secret.dcm', 'secret.txt', 'study-dir/a.dcm', 'late.dcm', 'swap-secret.dcm'],
  };
}

/** The links made while the server runs: its folder watcher sees them arrive. */
export async function addLateLinks(folders: FuzzFolders): Promise<void> {
  await symlink(`../${CANARY_DIR}/late.dcm`, join(folders.root, 'late-link.dcm'));
  await symlink(`../${CANARY_DIR}/late-dir`, join(folders.root, 'late-dir'));
  // An indexed file swapped for a link (rename is atomic: the path is never missing).
  const swapLink = join(folders.root, 'seed', 'swap.link');
  await symlink(`../../${CANARY_DIR}/swap-secret.dcm`, swapLink);
  await rename(swapLink, join(folders.root, 'seed', 'swap.dcm'));
}

/**
 * Every entry below `dir` (links not followed): path, type, size and the SHA-256 of a
 * file's bytes or a link's target, sorted. Two equal lists: nothing written or deleted.
 */
export async function hashTree(dir: string, prefix = ''): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await readdir(join(dir, prefix))).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const path = join(dir, rel);
    const info = await lstat(path);
    if (info.isSymbolicLink()) {
      lines.push(`${rel}\tlink\t${await readlink(path)}`);
    } else if (info.isDirectory()) {
      lines.push(`${rel}/\tdir`);
      lines.push(...(await hashTree(dir, rel)));
    } else {
      const digest = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
      lines.push(`${rel}\t${info.isFile() ? 'file' : 'other'}\t${info.size}\t${digest}`);
    }
  }
  return lines;
}
