/**
 * A small HTTP proxy on 127.0.0.1 for tests of the client behind a corporate proxy: it
 * forwards absolute-form requests (RFC 9112 §3.2.2) and opens CONNECT tunnels (RFC 9110
 * §9.3.6) to whatever they name, optionally asking for Basic proxy credentials (407).
 * It counts what passed, so a test can tell the proxy was used. The DICOMweb server
 * behind it is the real one.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { listenOnLoopback } from './loopback';

export interface TestProxy {
  url: string;
  /** Absolute-form requests forwarded, and CONNECT tunnels opened. */
  forwarded: string[];
  tunnels: string[];
  /** Requests refused for missing or wrong credentials. */
  refused: number;
  close(): Promise<void>;
}

export async function startTestProxy(credentials?: {
  username: string;
  password: string;
}): Promise<TestProxy> {
  const expected = credentials
    ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    : undefined;
  const allowed = (headers: IncomingHttpHeaders): boolean =>
    expected === undefined || headers['proxy-authorization'] === expected;
  const state = { forwarded: [] as string[], tunnels: [] as string[], refused: 0 };
  const server = createServer((req, res) => {
    if (!allowed(req.headers)) {
      state.refused++;
      res
        .writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-length': '0' })
        .end();
      return;
    }
    const target = new URL(req.url ?? '');
    state.forwarded.push(`${req.method} ${target.pathname}`);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket, head) => {
    if (!allowed(req.headers)) {
      state.refused++;
      socket.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    state.tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const { port, close } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    get forwarded() {
      return state.forwarded;
    },
    get tunnels() {
      return state.tunnels;
    },
    get refused() {
      return state.refused;
    },
    close,
  };
}
