/**
 * Which certificate authorities a connection's client trusts, and whether it verifies
 * certificates at all, from VS Code's own network settings — so a user behind a
 * TLS-inspecting proxy whose CA is in the operating system's store is served as VS Code
 * itself serves them, without a per-connection CA file.
 *
 * Why the client is given a CA list at all: it sends through its own undici and sockets,
 * not through VS Code's patched `https`/`tls` modules (VS Code's extension host swaps the
 * modules an extension requires as `tls`, `https`, `undici`, never `node:tls`; and it adds
 * nothing when a caller passes its own `ca`). A `ca` option *replaces* Node's trust store
 * (Node docs, tls.createSecureContext: "Mozilla's CAs are completely replaced when CAs are
 * explicitly specified"), so the list is Node's default store + the system's + the
 * connection's CA file.
 *
 * Plain Node (no `vscode` import): the extension reads the settings (clients.ts) and
 * passes them in; tests pass their own.
 */
import * as tls from 'node:tls';

/** VS Code's settings that decide this, as a person set them in user (not workspace) settings. */
export interface NetworkTrustSettings {
  /** `http.systemCertificates` (VS Code's default: true): also trust the OS certificate store. */
  systemCertificates: boolean;
  /**
   * `http.proxyStrictSSL` (VS Code's default: true). VS Code's own requests verify
   * certificates only while it is on (its request service sets `rejectUnauthorized` from
   * it); off, ours do not either.
   */
  proxyStrictSSL: boolean;
}

/** Where the certificates come from: the real stores, or a test's. */
export interface CertificateSources {
  /** Node's default store: its bundled Mozilla roots plus NODE_EXTRA_CA_CERTS. */
  defaults(): readonly string[];
  /** The operating system's store; undefined when this Node cannot read it. */
  system(): readonly string[] | undefined;
}

export interface TrustDecision {
  /** Undefined: Node's default store (nothing to add). */
  ca?: Array<string | Buffer>;
  rejectUnauthorized: boolean;
  /** For the log, each time a client is made: certificates are not verified. */
  warnings: string[];
  /** For the log, once: this Node cannot read the OS store, so only Node's roots apply. */
  storeUnreadable?: string;
}

/**
 * The client's `ca` and `rejectUnauthorized` for one connection.
 * - `http.systemCertificates` on: Node's defaults + the OS store + the connection's CA
 *   file (the file no longer replaces the public roots then; it adds to them).
 * - off: as before this setting was read: the CA file alone, or Node's defaults.
 * - `http.proxyStrictSSL` off, or the connection's own `rejectUnauthorized: false`: no
 *   verification, with a warning.
 */
export function decideTrust(
  connection: { name: string; rejectUnauthorized?: boolean },
  caFile: Buffer | undefined,
  settings: NetworkTrustSettings,
  sources: CertificateSources,
): TrustDecision {
  const warnings: string[] = [];
  const rejectUnauthorized = (connection.rejectUnauthorized ?? true) && settings.proxyStrictSSL;
  if (!settings.proxyStrictSSL)
    warnings.push(
      `"${connection.name}": certificates are not verified because VS Code's setting http.proxyStrictSSL is off.`,
    );
  if (!settings.systemCertificates)
    return { ca: caFile ? [caFile] : undefined, rejectUnauthorized, warnings };
  const system = sources.system();
  if (!system) {
    const storeUnreadable = `This Node (${process.version}) cannot read the operating system's certificate store (tls.getCACertificates needs Node >= 22.15): http.systemCertificates adds nothing; Node's own roots and the connections' CA files are trusted.`;
    return { ca: caFile ? [caFile] : undefined, rejectUnauthorized, warnings, storeUnreadable };
  }
  // A Set: the Linux store lists each root twice (the bundle file and the hashed folder).
  const pems = [...new Set([...sources.defaults(), ...system])];
  return { ca: caFile ? [...pems, caFile] : pems, rejectUnauthorized, warnings };
}

type GetCaCertificates = (type: 'default' | 'system' | 'bundled' | 'extra') => string[];

function getCaCertificates(): GetCaCertificates | undefined {
  const get = (tls as unknown as { getCACertificates?: GetCaCertificates }).getCACertificates;
  return typeof get === 'function' ? get : undefined;
}

let systemCache: { value: readonly string[] | undefined } | undefined;

/**
 * The real stores. The OS store is read once per process and kept: reading it takes
 * ~50 ms on Linux (576 certificates here) and longer from the macOS keychain, too much
 * for each client, let alone each request. A reload of the window reads it again.
 * On Linux Node reads it through OpenSSL's default locations, which SSL_CERT_FILE and
 * SSL_CERT_DIR override (the tests use that).
 */
export const nodeCertificateSources: CertificateSources = {
  defaults: () => getCaCertificates()?.('default') ?? tls.rootCertificates,
  system: () => {
    if (!systemCache) {
      const get = getCaCertificates();
      let value: readonly string[] | undefined;
      try {
        value = get ? get('system') : undefined;
      } catch {
        value = undefined;
      }
      systemCache = { value };
    }
    return systemCache.value;
  },
};
