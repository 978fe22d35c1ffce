/**
 * Which proxy, if any, a request to a DICOMweb service goes through: the choice curl and
 * most HTTP tools make, so a corporate network that needs a proxy needs no new setting.
 *
 * - A proxy given explicitly (VS Code's `http.proxy`) wins; otherwise `HTTPS_PROXY` for
 *   https services and `HTTP_PROXY` for http ones (either case), as curl reads them.
 * - `NO_PROXY` (and VS Code's `http.noProxy`) exclude hosts: `*`, a host name, a domain
 *   suffix (`example.org` or `.example.org` also covers `a.example.org`), an address, each
 *   optionally with `:port`.
 * - Loopback hosts are never proxied: the extension's local server and a developer's own
 *   Orthanc live there, and a proxy cannot reach them.
 */
import { isIP } from 'node:net';

export interface ProxySettings {
  /** An explicit proxy URL (VS Code's `http.proxy`); empty means none. */
  proxy?: string;
  /** Extra exclusions (VS Code's `http.noProxy`), same forms as NO_PROXY. */
  noProxy?: readonly string[];
  /** The environment to read HTTPS_PROXY / HTTP_PROXY / NO_PROXY from. */
  env?: Record<string, string | undefined>;
}

const PROXY_PROTOCOLS = new Set(['http:', 'https:', 'socks5:', 'socks:']);

/** The proxy URL for requests to `serviceUrl`, or undefined to connect directly. */
export function proxyForUrl(serviceUrl: string, settings: ProxySettings = {}): string | undefined {
  let target: URL;
  try {
    target = new URL(serviceUrl);
  } catch {
    return undefined;
  }
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (isLoopback(host)) return undefined;
  const env = settings.env ?? {};
  const noProxy = [...splitList(env.NO_PROXY ?? env.no_proxy), ...(settings.noProxy ?? [])];
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  if (noProxy.some((entry) => excludes(entry, host, port))) return undefined;
  const https = target.protocol === 'https:';
  const candidate =
    nonEmpty(settings.proxy) ??
    (https
      ? (nonEmpty(env.HTTPS_PROXY) ?? nonEmpty(env.https_proxy))
      : (nonEmpty(env.HTTP_PROXY) ?? nonEmpty(env.http_proxy)));
  if (!candidate) return undefined;
  // curl's rule: a proxy given without a scheme is an http:// one.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(candidate) ? candidate : `http://${candidate}`;
  try {
    return PROXY_PROTOCOLS.has(new URL(withScheme).protocol) ? withScheme : undefined;
  } catch {
    return undefined;
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\s]+/)
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Whether one NO_PROXY entry covers `host:port`. */
function excludes(entry: string, host: string, port: string): boolean {
  if (entry === '*') return true;
  let name = entry.toLowerCase();
  let entryPort: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(name);
  if (bracketed) {
    name = bracketed[1]!;
    entryPort = bracketed[2];
  } else if (isIP(name) !== 6) {
    const colon = name.lastIndexOf(':');
    if (colon > 0 && /^\d+$/.test(name.slice(colon + 1))) {
      entryPort = name.slice(colon + 1);
      name = name.slice(0, colon);
    }
  }
  if (entryPort !== undefined && entryPort !== port) return false;
  name = name.replace(/^\*?\./, '');
  return host === name || host.endsWith(`.${name}`);
}
