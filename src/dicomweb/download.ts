/**
 * WADO-RS retrieve streamed to disk: each multipart part goes to its own file as it
 * arrives (never the whole study in memory), then is named by its SOPInstanceUID read
 * from the file's header. A study of many gigabytes passes with memory bounded by a chunk.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { readInstanceIdentity } from '../dicom/part10';
import type { DicomWebClient } from './client';
import { DicomWebError } from './errors';
import { assertUid, type InstancePath, type RetrieveOptions } from './requests';

export interface DownloadOptions extends RetrieveOptions {
  signal?: AbortSignal;
  /** After each file: how many so far and bytes written. */
  onProgress?: (progress: { files: number; bytes: number }) => void;
  /** `flat` (default): `{SOPInstanceUID}.dcm`; `tree`: `{study}/{series}/{SOPInstanceUID}.dcm`. */
  layout?: 'flat' | 'tree';
}

export interface DownloadedFile {
  path: string;
  bytes: number;
  mediaType: string;
  transferSyntaxUid?: string;
  sopInstanceUid?: string;
}

export interface DownloadResult {
  files: DownloadedFile[];
  bytes: number;
}

export async function retrieveToDirectory(client: DicomWebClient, target: InstancePath, directory: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  await mkdir(directory, { recursive: true });
  const files: DownloadedFile[] = [];
  let total = 0;
  let index = 0;
  for await (const part of client.retrieve(target, options)) {
    index++;
    const temporary = join(directory, `.part-${process.pid}-${Date.now()}-${index}.tmp`);
    let bytes = 0;
    try {
      const counted = async function* (): AsyncGenerator<Uint8Array> {
        for await (const chunk of part.body) {
          bytes += chunk.byteLength;
          yield chunk;
        }
      };
      await pipeline(Readable.from(counted()), createWriteStream(temporary), { signal: options.signal });
    } catch (error) {
      await rm(temporary, { force: true });
      // pipeline() rejects with a bare AbortError: callers expect the client's typed error.
      if (options.signal?.aborted && !(error instanceof DicomWebError)) {
        throw new DicomWebError('CANCELLED', `download of ${target.studyInstanceUid} was cancelled`, { cause: error });
      }
      throw error;
    }
    let name = `part-${index}.dcm`;
    let sopInstanceUid: string | undefined;
    let transferSyntaxUid = part.transferSyntaxUid;
    let folder = directory;
    try {
      const identity = await readInstanceIdentity(temporary);
      // UIDs become file names: only digits, letters, '.' and '-' may pass (no '../').
      assertUid(identity.sopInstanceUid, 'SOPInstanceUID');
      assertUid(identity.studyInstanceUid, 'StudyInstanceUID');
      assertUid(identity.seriesInstanceUid, 'SeriesInstanceUID');
      sopInstanceUid = identity.sopInstanceUid;
      // PS3.18 §8.7.8.2: the file's own (0002,0010) wins over what the part says (or omits).
      transferSyntaxUid = identity.transferSyntaxUid || transferSyntaxUid;
      name = `${identity.sopInstanceUid}.dcm`;
      if (options.layout === 'tree') {
        folder = join(directory, identity.studyInstanceUid, identity.seriesInstanceUid);
        await mkdir(folder, { recursive: true });
      }
    } catch {
      // Not a Part 10 file (a server's bulk part?): keep it under a numbered name.
      name = `part-${index}.bin`;
    }
    const path = join(folder, name);
    await rename(temporary, path);
    files.push({ path, bytes, mediaType: part.mediaType, transferSyntaxUid, sopInstanceUid });
    total += bytes;
    options.onProgress?.({ files: files.length, bytes: total });
  }
  return { files, bytes: total };
}
