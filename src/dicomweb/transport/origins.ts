/**
 * Which requests carry the connection's credentials. A DICOMweb answer names URLs the
 * client then fetches — BulkDataURI (PS3.18 §F.2.6), RetrieveURL (0008,1190), paging and
 * operation links — and a server may name any host there. Credentials (the auth provider's
 * Authorization, and the headers configured for the connection, which often carry an API
 * key) are meant for the server the user named, so they go only to its origin: scheme,
 * host and port as the WHATWG URL standard defines an origin, the unit browsers (Fetch
 * standard §4.4 "HTTP-redirect fetch" drops Authorization on a cross-origin redirect) and
 * curl (`--location` drops it when the host changes, CVE-2018-1000007) keep them to.
 * The user may name further origins that are trusted the same way.
 *
 * Redirects are not followed at all (undici's `request` without `maxRedirections`, and
 * socketGet.ts): a 3xx reaches the caller as an HTTP error, so no redirect can carry the
 * credentials anywhere either.
 */

/**
 * The WHATWG origin (`https://host:port`, default port omitted) of an http(s) URL; undefined
 * otherwise.
 */
export function httpOriginOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
    return parsed.origin;
  } catch {
    return undefined;
  }
}

/** Decides, per request URL, whether the connection's credentials may be attached. */
export class CredentialScope {
  private readonly origins: ReadonlySet<string>;
  /**
   * Without a base URL nor trusted origins there is no connection to confine to: everything is in
   * scope (a bare transport).
   */
  readonly unrestricted: boolean;

  /**
   * @param baseUrl the connection's service URL; its origin gets credentials.
   * @param trusted extra origins (or URLs, whose origin is taken) the user allowed; entries
   *   that are not http(s) URLs grant nothing.
   */
  constructor(baseUrl: string | undefined, trusted: ReadonlyArray<string> = []) {
    const origins = new Set<string>();
    for (const entry of [baseUrl, ...trusted]) {
      const origin = entry === undefined ? undefined : httpOriginOf(entry);
      if (origin) origins.add(origin);
    }
    this.origins = origins;
    this.unrestricted = baseUrl === undefined && trusted.length === 0;
  }

  /** Whether a request to `url` may carry the connection's credentials. */
  allows(url: string): boolean {
    if (this.unrestricted) return true;
    const origin = httpOriginOf(url);
    return origin !== undefined && this.origins.has(origin);
  }
}
