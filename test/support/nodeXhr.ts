/**
 * The part of the browser's XMLHttpRequest that the dcmjs `dicomweb-client` uses (open,
 * setRequestHeader, responseType, send, readyState 4, status, response, getResponseHeader,
 * getAllResponseHeaders), over node:http, so the real client runs in Node against the real
 * local server. It carries requests; it answers nothing itself.
 */
import { request } from 'node:http';

export class NodeXhr {
  readyState = 0;
  status = 0;
  responseType: '' | 'arraybuffer' | 'json' | 'text' = '';
  response: unknown = null;
  withCredentials = false;
  onreadystatechange: (() => void) | null = null;
  onloadstart: (() => void) | null = null;
  onloadend: (() => void) | null = null;
  onprogress: (() => void) | null = null;
  private method = 'GET';
  private url = '';
  private readonly headers: Record<string, string> = {};
  private responseHeaders: Record<string, string | string[] | undefined> = {};

  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
    this.readyState = 1;
  }

  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }

  getResponseHeader(name: string): string | null {
    const value = this.responseHeaders[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }

  getAllResponseHeaders(): string {
    return Object.entries(this.responseHeaders)
      .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}`)
      .join('\r\n');
  }

  send(body?: ArrayBuffer | Uint8Array | string): void {
    this.onloadstart?.();
    const req = request(this.url, { method: this.method, headers: this.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        this.status = res.statusCode ?? 0;
        this.responseHeaders = res.headers;
        this.response = this.decode(bytes);
        this.readyState = 4;
        this.onreadystatechange?.();
        this.onloadend?.();
      });
    });
    req.on('error', () => {
      this.status = 0;
      this.readyState = 4;
      this.onreadystatechange?.();
    });
    req.end(body instanceof ArrayBuffer ? Buffer.from(body) : body);
  }

  private decode(bytes: Buffer): unknown {
    if (this.responseType === 'arraybuffer')
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const text = bytes.toString('utf8');
    if (this.responseType === 'json') {
      try {
        return JSON.parse(text);
      } catch {
        return null;
      }
    }
    return text;
  }
}

/** Installs {@link NodeXhr} as the global XMLHttpRequest the client creates. */
export function installNodeXhr(): void {
  (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = NodeXhr;
}
