/**
 * Reading a message body (RFC 9110 §6.4) whole, for the small answers that are used at once:
 * DICOM JSON, a single frame, an error text, a STOW-RS response. Large bodies are streamed
 * instead and never go through here. Shared by the client and the local server, so the one
 * loop that collects chunks, counts them and stops at a cap is written once.
 */

/**
 * Collects `source` into one Buffer. Past `maxBytes` it stops reading and throws
 * `tooLarge()` (the caller's typed error: the client's TOO_LARGE, the server's 413), so a
 * body without end costs at most `maxBytes` of memory.
 */
export async function readWholeBody(
  source: AsyncIterable<Uint8Array>,
  maxBytes = Number.POSITIVE_INFINITY,
  tooLarge: (maxBytes: number) => Error = (limit) =>
    new RangeError(`the body is larger than ${limit} bytes`),
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
