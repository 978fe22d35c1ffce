/**
 * Who may talk to the local server. It listens on loopback for its user; a web page the
 * user happens to open must not be able to read or delete the served studies (issue 10,
 * finding 3). Three checks, in this order, before any route runs:
 *
 * 1. `Host` names this server (its loopback name and port). A page on `evil.example` whose
 *    name is re-bound to 127.0.0.1 (DNS rebinding) still sends `Host: evil.example:PORT`:
 *    421 Misdirected Request (RFC 9110 §15.5.20), as the request is not meant for us.
 * 2. A browser request from another origin (an `Origin` header, or `Sec-Fetch-Site:
 *    cross-site`/`same-site`, Fetch standard §3.1 and Fetch Metadata) is refused with 403
 *    unless that origin is configured. Browsers send `Origin` on every cross-origin POST and
 *    DELETE, so a page cannot make the server act even where it could not read the answer.
 *    Only configured origins get CORS headers (Fetch standard §3.2.3); none by default.
 * 3. The bearer token, when one is set (RFC 6750 §2.1): the scheme is matched without
 *    regard to case (RFC 9110 §11.1), the token in constant time.
 *
 * Plain Node: no `vscode` import.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import { HttpError } from './httpUtil';

export interface GuardOptions {
  /** The interface the server listens on (127.0.0.1 by default). */
  listenHost: string;
  port: number;
  /** Origins (`scheme://host[:port]`) whose pages may use the server; `null` for opaque origins. */
  allowedOrigins?: readonly string[];
  /** Extra host names a client may put in `Host` (e.g. the machine's name on a LAN). */
  allowedHosts?: readonly string[];
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);
/** RFC 9110 §5.6.2 token characters: what a request header name listed in a preflight may hold. */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;
/** RFC 9110 §11.6.2 `credentials = auth-scheme [ 1*SP token68 ]` (the part we accept). */
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(\S+) *$/;

/** The bracketed form of an IPv6 literal as it appears in a Host header or URL. */
function hostForm(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Configured origins as `scheme://host[:port]`, lower case (or `null`).
 * @throws {Error} for an entry that is not an origin
 */
export function normalizeOrigins(origins: readonly string[]): string[] {
  return origins.map(normalizeOrigin);
}

function normalizeOrigin(origin: string): string {
  if (origin === 'null') return 'null';
  try {
    return new URL(origin).origin.toLowerCase();
  } catch {
    throw new Error(`"${origin}" is not an origin (scheme://host[:port])`);
  }
}

export class RequestGuard {
  private readonly hosts: Set<string>;
  private readonly ownOrigins: Set<string>;
  private readonly origins: Set<string>;
  private readonly tokenDigest: Buffer | undefined;

  constructor(options: GuardOptions) {
    const names = new Set([
      ...LOOPBACK_NAMES,
      hostForm(options.listenHost.toLowerCase()),
      ...(options.allowedHosts ?? []).map((h) => hostForm(h.toLowerCase())),
    ]);
    if (WILDCARDS.has(options.listenHost)) {
      // Listening on every interface: any address of this machine names it.
      for (const list of Object.values(networkInterfaces()))
        for (const entry of list ?? []) names.add(hostForm(entry.address.toLowerCase()));
    }
    this.hosts = new Set([...names].map((name) => `${name}:${options.port}`));
    if (options.port === 80) for (const name of names) this.hosts.add(name);
    this.ownOrigins = new Set(
      [...names].map((name) => `http://${name}${options.port === 80 ? '' : `:${options.port}`}`),
    );
    this.origins = new Set(normalizeOrigins(options.allowedOrigins ?? []));
    this.tokenDigest = options.token ? digest(options.token) : undefined;
  }

  /**
   * Accepts one more `host[:port]` in `Host`: the forwarded address a remote window gives
   * for this server (VS Code's asExternalUri, e.g. code-server's `/proxy/PORT/` on its own
   * host and port). A name only the person's own browser reaches the server by; a page of
   * another origin is still refused by the Origin check.
   */
  allowHost(authority: string): void {
    const normalized = authority.trim().toLowerCase();
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/.test(normalized))
      throw new Error(`"${authority}" is not a host[:port]`);
    this.hosts.add(normalized);
  }

  /**
   * Runs the checks. Returns true when the request is answered already (a CORS preflight),
   * false when it may proceed to its route.
   * @throws {HttpError} 421 foreign Host, 403 foreign origin, 401 missing or wrong token
   */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    this.checkHost(req);
    const origin = this.checkOrigin(req);
    res.setHeader('vary', 'Origin');
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader(
        'access-control-expose-headers',
        'Content-Type, Content-Length, Content-Location, Warning, Location',
      );
    }
    if (req.method === 'OPTIONS') {
      this.answerOptions(req, res, origin);
      return true;
    }
    this.checkToken(req);
    return false;
  }

  private checkHost(req: IncomingMessage): void {
    const host = req.headers.host;
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is 400 (Node answers that itself); HTTP/1.0
    // may omit it.
    if (host === undefined) return;
    if (!this.hosts.has(host.trim().toLowerCase())) {
      // The foreign name is not repeated: nothing a page sends is reflected into an answer.
      throw new HttpError(
        421,
        'this server answers only requests addressed to it by its loopback address and port',
      );
    }
  }

  /**
   * The origin to answer with CORS headers, or undefined (no CORS, same-origin or not a browser).
   */
  private checkOrigin(req: IncomingMessage): string | undefined {
    const raw = req.headers.origin;
    const origin = raw === undefined ? undefined : raw.trim().toLowerCase();
    if (origin !== undefined && this.origins.has(origin)) return raw!.trim();
    if (origin !== undefined && !this.ownOrigins.has(origin)) {
      throw new HttpError(
        403,
        'requests from web pages of other origins are refused; add the origin to the allowed origins to permit it',
      );
    }
    const site = req.headers['sec-fetch-site'];
    if (origin === undefined && (site === 'cross-site' || site === 'same-site')) {
      throw new HttpError(403, 'requests from web pages of other sites are refused');
    }
    return undefined;
  }

  private answerOptions(
    req: IncomingMessage,
    res: ServerResponse,
    origin: string | undefined,
  ): void {
    const headers: Record<string, string> = { allow: 'GET, POST, PUT, DELETE, OPTIONS' };
    if (origin && req.headers['access-control-request-method']) {
      const asked = req.headers['access-control-request-headers'];
      headers['access-control-allow-methods'] = 'GET, POST, PUT, DELETE';
      headers['access-control-allow-headers'] =
        asked && HEADER_LIST.test(asked) ? asked : 'Authorization, Content-Type, Accept';
      headers['access-control-max-age'] = '600';
      // Private Network Access (WICG): a configured public page may reach this loopback server.
      if (req.headers['access-control-request-private-network'] === 'true')
        headers['access-control-allow-private-network'] = 'true';
    }
    res.writeHead(204, headers);
    res.end();
  }

  private checkToken(req: IncomingMessage): void {
    if (!this.tokenDigest) return;
    const match = CREDENTIALS.exec(req.headers.authorization ?? '');
    // RFC 9110 §11.1: the auth-scheme is case-insensitive ("bearer", "BEARER" are "Bearer").
    const given = match && match[1]!.toLowerCase() === 'bearer' ? match[2]! : undefined;
    // Equal-length digests: the comparison takes the same time whatever was sent (no length leak).
    if (given === undefined || !timingSafeEqual(digest(given), this.tokenDigest)) {
      const error = given === undefined ? '' : ', error="invalid_token"';
      // RFC 6750 §3.1: a token that was sent but is wrong is `invalid_token`, not a missing one.
      const message =
        given === undefined
          ? 'a bearer token is required (Authorization: Bearer <token>)'
          : 'the bearer token was refused (invalid_token)';
      throw new HttpError(401, message, { 'www-authenticate': `Bearer realm="dicomweb"${error}` });
    }
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
