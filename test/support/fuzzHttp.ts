/**
 * Raw HTTP/1.1 for the fuzz suite: a request is bytes written to a new TCP socket exactly
 * as generated (no client library normalises the method, path, headers or lengths), and
 * the answer is parsed just enough to know its status and its body (RFC 9112 §6: chunked,
 * Content-Length, or up to the close). Every exchange has its own deadline, so a request
 * that lies about its length, or a server that never answers, cannot stall the suite.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** How the client side behaves once the request bytes are written. */
export type AfterSend =
  /** Keep reading until the answer is complete, the server closes, or the deadline. */
  | 'read'
  /** Half-close (FIN) right after the bytes, then read: a body that ends before its length. */
  | 'half-close'
  /** Keep the socket open, silent, until `holdMs`, then destroy it: a body that never comes. */
  | 'hold';

export interface RawExchange {
  /** The request bytes, written in one go. */
  bytes: Buffer;
  after: AfterSend;
  /** Deadline of the whole exchange (ms): past it the client destroys the socket. */
  timeoutMs: number;
  /** For 'hold': how long to keep the socket open before destroying it. */
  holdMs?: number;
  /** A HEAD request: its answer has no body whatever its headers say (RFC 9110 §9.3.2). */
  head?: boolean;
}

export type ExchangeEnd = 'answered' | 'closed-by-server' | 'closed-by-client' | 'socket-error';

export interface ExchangeResult {
  /** Final (non-1xx) status, 0 when no status line came back. */
  status: number;
  headers: Record<string, string>;
  /** The answer's body, de-chunked. */
  body: Buffer;
  /** Every byte the server sent (headers and framing included). */
  raw: Buffer;
  end: ExchangeEnd;
  ms: number;
}

interface ParsedAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  complete: boolean;
}

/** Parses an HTTP/1.1 answer so far; interim 1xx answers (100 Continue) are skipped. */
export function parseAnswer(
  buffer: Buffer,
  head: boolean,
  closed: boolean,
): ParsedAnswer | undefined {
  let start = 0;
  for (;;) {
    const headerEnd = buffer.indexOf('\r\n\r\n', start);
    if (headerEnd < 0) return undefined;
    const lines = buffer.toString('latin1', start, headerEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0)
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headerEnd + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      start = bodyStart;
      continue;
    }
    if (head || status === 204 || status === 304)
      return { status, headers, body: Buffer.alloc(0), complete: true };
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const { body, complete } = dechunk(buffer.subarray(bodyStart));
      return { status, headers, body, complete };
    }
    const length =
      headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
    if (length !== undefined && Number.isSafeInteger(length)) {
      const body = buffer.subarray(bodyStart, bodyStart + length);
      return { status, headers, body, complete: body.length === length };
    }
    return { status, headers, body: buffer.subarray(bodyStart), complete: closed };
  }
}

/** The data of a chunked body (RFC 9112 §7.1) and whether its last chunk has arrived. */
function dechunk(bytes: Buffer): { body: Buffer; complete: boolean } {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return { body: Buffer.concat(chunks), complete: false };
    const size = parseInt(bytes.toString('latin1', at, lineEnd).split(';')[0]!, 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(chunks), complete: false };
    if (size === 0)
      return {
        body: Buffer.concat(chunks),
        complete: bytes.indexOf('\r\n\r\n', lineEnd) >= 0 || bytes.length >= lineEnd + 4,
      };
    const dataEnd = lineEnd + 2 + size;
    chunks.push(bytes.subarray(lineEnd + 2, Math.min(dataEnd, bytes.length)));
    if (bytes.length < dataEnd + 2) return { body: Buffer.concat(chunks), complete: false };
    at = dataEnd + 2;
  }
}

/** Answers larger than this are cut off by the client (counted as closed by the client). */
export const MAX_COLLECTED_BYTES = 64 * 1024 * 1024;

/** Whether a chunk may end an answer (a chunked body's last chunk, or any short chunk). */
function endsAnswer(chunk: Buffer): boolean {
  return chunk.length < 16 * 1024 || chunk.subarray(-5).toString('latin1') === '0\r\n\r\n';
}

/** Header block plus Content-Length of a final answer whose headers have arrived, if it says. */
function expectedTotal(buffer: Buffer): number | undefined {
  const headerEnd = buffer.indexOf('\r\n\r\n');
  if (headerEnd < 0 || !/^HTTP\/1\.[01] [2-5]/.test(buffer.toString('latin1', 0, 12)))
    return undefined;
  const length = /\r\ncontent-length:\s*(\d+)\r\n/i.exec(
    buffer.toString('latin1', 0, headerEnd + 2),
  )?.[1];
  return length === undefined ? undefined : headerEnd + 4 + Number(length);
}

/** Sends one raw request on a new connection to 127.0.0.1:`port` and collects the answer. */
export function exchange(port: number, request: RawExchange): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let settled = false;
    const finish = (end: ExchangeEnd): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (holdTimer) clearTimeout(holdTimer);
      socket.destroy();
      const raw = Buffer.concat(received);
      const parsed = parseAnswer(raw, request.head ?? false, true);
      resolve({
        status: parsed?.status ?? 0,
        headers: parsed?.headers ?? {},
        body: parsed?.body ?? Buffer.alloc(0),
        raw,
        end: parsed?.complete && end !== 'socket-error' ? 'answered' : end,
        ms: performance.now() - started,
      });
    };
    const deadline = setTimeout(() => finish('closed-by-client'), request.timeoutMs);
    let holdTimer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(request.bytes);
      if (request.after === 'half-close') socket.end();
      if (request.after === 'hold')
        holdTimer = setTimeout(() => finish('closed-by-client'), request.holdMs ?? 1_000);
    });
    let receivedBytes = 0;
    let checkedAt = 0;
    let expectedBytes: number | undefined;
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      receivedBytes += chunk.length;
      // Past the cap the answer is not worth keeping (the server's memory is measured apart).
      if (receivedBytes > MAX_COLLECTED_BYTES) return finish('closed-by-client');
      // A large answer is re-parsed when its size has doubled, when a chunk may end it, or
      // once the Content-Length it declared has arrived: linear time, not quadratic.
      const due =
        receivedBytes >= 2 * checkedAt ||
        endsAnswer(chunk) ||
        (expectedBytes !== undefined && receivedBytes >= expectedBytes);
      if (!due) return;
      checkedAt = receivedBytes;
      if (expectedBytes === undefined) expectedBytes = expectedTotal(Buffer.concat(received));
      const parsed = parseAnswer(Buffer.concat(received), request.head ?? false, false);
      if (parsed?.complete) finish('answered');
    });
    socket.on('end', () => finish('closed-by-server'));
    socket.on('close', () => finish('closed-by-server'));
    socket.on('error', () => finish('socket-error'));
  });
}

/** One field of /proc/PID/status in KiB (VmRSS: resident now, VmHWM: peak), Linux only. */
export function readProcStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
