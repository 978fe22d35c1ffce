/**
 * The custom output a frame of a `/frames/…` answer becomes: the frame's bytes as the server
 * sent them, with what the notebook renderer (webview/notebook/) needs to decode and draw
 * them like the preview: the instance's image header (from its WADO-RS metadata, PS3.18
 * §10.4.1.1.2), the part's media type and transfer syntax (PS3.18 §8.7.3.5.2).
 *
 * Layout: a 4-byte little endian length, that many bytes of UTF-8 JSON (the header below),
 * then the frame's bytes. One copy of the frame, no base64.
 */

/** The renderer's mime type; package.json's notebookRenderer lists it. */
export const FRAME_MIME = 'application/vnd.dicomweb-explorer.frame';

export interface FrameOutputHeader {
  /** The preview's ImageInfo (webview/protocol.ts), built from the instance's metadata. */
  info: unknown;
  mediaType: string;
  transferSyntaxUid?: string;
  frameNumber: number;
}

export function encodeFrameOutput(header: FrameOutputHeader, bytes: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(4 + json.length + bytes.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.set(bytes, 4 + json.length);
  return out;
}
