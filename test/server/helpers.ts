/**
 * Helpers of the local server's tests: a server on a fresh temporary folder, a client for
 * it, and raw HTTP requests for the malformed input no well-behaved client would send.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { DicomWebClient } from '../../src/dicomweb';
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../src/server';
import { makeTempDir } from '../support/tempDirs';

/** A new folder under the system's temporary one, removed when the test file's process exits. */
export function tempDir(prefix: string): string {
  return makeTempDir(`dicomweb-local-${prefix}-`);
}

/** A server over a new temporary folder (or the one given), on a free port. */
export async function startTestServer(
  options: Partial<LocalServerOptions> = {},
): Promise<LocalServer> {
  return startLocalServer({
    dir: options.dir ?? tempDir('serve'),
    port: 0,
    indexSaveDelayMs: 50,
    ...options,
  });
}

/** The project's client on the server's `/v2` root with the `local` profile. */
export function localClient(server: Pick<LocalServer, 'url'>, version = 'v2'): DicomWebClient {
  return new DicomWebClient({ baseUrl: `${server.url}/${version}`, serverKind: 'local' });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json(): unknown;
}

/** One HTTP request with exactly the given path (no URL normalisation), headers and body. */
export function rawRequest(
  server: Pick<LocalServer, 'port'>,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes,
            text,
            json: () => JSON.parse(text),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends raw bytes on a TCP connection and returns what comes back until the server closes. */
export function rawSocket(
  server: Pick<LocalServer, 'port'>,
  bytes: string | Buffer,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

/** A multipart/related body of the given parts (each with its own headers). */
export function multipart(
  boundary: string,
  parts: Array<{ headers?: Record<string, string>; body: Buffer | string }>,
): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const head = Object.entries(part.headers ?? { 'Content-Type': 'application/dicom' })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    chunks.push(
      Buffer.from(`--${boundary}\r\n${head}\r\n`),
      Buffer.from(part.body),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** First string value of an attribute of a DICOM JSON dataset. */
export function stringOf(
  dataset: Record<string, { Value?: unknown[] } | undefined>,
  tag: string,
): string | undefined {
  const value = dataset[tag]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}

import { makeImageInstance, type ImageInstanceParams } from '../support/dicomWriter';
import { smallImageParams } from '../support/smallInstance';

/** A small 8×8 grey image instance; UIDs derived from `name` unless given. */
export function smallInstance(
  name: string,
  overrides: Partial<ImageInstanceParams> = {},
): { bytes: Buffer; params: ImageInstanceParams } {
  const params = smallImageParams(name, overrides);
  return { bytes: Buffer.from(makeImageInstance(params)), params };
}

/** The FailureReason codes and ReferencedSOPInstanceUIDs of a STOW-RS answer. */
export function stowOutcome(body: unknown): {
  stored: string[];
  failed: Array<{ uid?: string; reason?: number }>;
  retrieveUrl?: string;
} {
  type Item = Record<string, { Value?: unknown[] } | undefined>;
  const root = body as Item;
  const items = (tag: string) => (root[tag]?.Value ?? []) as Item[];
  return {
    stored: items('00081199').map((item) => String(item['00081155']?.Value?.[0])),
    failed: items('00081198').map((item) => ({
      uid: item['00081155']?.Value?.[0] as string | undefined,
      reason: item['00081197']?.Value?.[0] as number | undefined,
    })),
    retrieveUrl: root['00081190']?.Value?.[0] as string | undefined,
  };
}
