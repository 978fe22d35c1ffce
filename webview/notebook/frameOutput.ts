/**
 * Reads the custom frame output src/notebook/frameOutput.ts writes: a 4-byte little endian
 * length, the JSON header, the frame's bytes. The webview room imports only webview, so the
 * reader lives here; test/unit/notebookFrames.test.ts checks the two agree.
 */
import type { ImageInfo } from '../protocol';

export interface FrameOutput {
  info: ImageInfo;
  mediaType: string;
  transferSyntaxUid?: string;
  frameNumber: number;
  bytes: Uint8Array;
}

export function decodeFrameOutput(data: Uint8Array): FrameOutput {
  if (data.length < 4) throw new Error('The frame output is empty.');
  const length = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
  if (4 + length > data.length) throw new Error('The frame output is cut short.');
  const header = JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + length))) as Omit<
    FrameOutput,
    'bytes'
  >;
  return { ...header, bytes: data.subarray(4 + length) };
}
