/**
 * TLS settings of a connection, shared by both readers (http.ts over undici, socketGet.ts
 * straight from the socket): extra CAs, a client certificate for mutual TLS, and the one
 * switch for local test servers.
 */
import { createSecureContext, type SecureContext } from 'node:tls';

export interface TlsOptions {
  /** Extra certificate authorities (PEM), e.g. a corporate or self-signed CA. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  /** Defaults to true; turning it off is for local test servers only. */
  rejectUnauthorized?: boolean;
}

/** A context for the given CAs / client certificate; undefined: Node's default one. */
export function tlsContext(tls: TlsOptions): SecureContext | undefined {
  if (tls.ca === undefined && tls.cert === undefined && tls.key === undefined) return undefined;
  return createSecureContext({
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    passphrase: tls.passphrase,
  });
}
