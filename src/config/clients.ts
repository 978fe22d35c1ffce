/**
 * One DicomWebClient per connection, built on demand (never at activation) with its
 * credentials from SecretStorage or VS Code's Microsoft account, and a request log that
 * never holds a credential.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { basicAuth, bearerAuth, noAuth, type AuthProvider } from '../dicomweb/transport/auth';
import { DicomWebClient } from '../dicomweb/client';
import type { RequestLogEntry } from '../dicomweb/transport/http';
import { proxyForUrl } from '../dicomweb/transport/proxy';
import {
  decideTrust,
  nodeCertificateSources,
  type CertificateSources,
  type NetworkTrustSettings,
} from './certificates';
import { AZURE_DICOM_SCOPE, type ConnectionStore } from './connections';
import type { CredentialGate } from './credentialGate';
import type { UserPrompts } from './prompts';
import type { ServerConnection } from './serverConnection';

export class ClientFactory implements vscode.Disposable {
  private readonly clients = new Map<string, { client: DicomWebClient; signature: string }>();
  /** The OS store's "cannot read it" is said once, not for every client. */
  private storeUnreadableLogged = false;

  constructor(
    private readonly connections: ConnectionStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly prompts: () => UserPrompts,
    /** Every credential passes it: workspace connections and Entra off Azure need approval. */
    private readonly gate: CredentialGate,
    /** The certificate stores (tests pass their own). */
    private readonly certificates: CertificateSources = nodeCertificateSources,
  ) {}

  /** The client of a connection; rebuilt when the connection's settings changed. */
  get(connection: ServerConnection): DicomWebClient {
    // Settings that shape the client (its timeout, size caps and deadline) are part of the
    // signature: edited, they rebuild the client instead of waiting for a reload.
    const settings = vscode.workspace.getConfiguration('dicomweb');
    const signature = JSON.stringify([
      connection,
      proxyFor(connection.url) ?? null,
      settings.get('requestTimeoutSeconds'),
      clientLimits(settings),
      networkTrustSettings(),
    ]);
    const cached = this.clients.get(connection.id);
    if (cached && cached.signature === signature) return cached.client;
    if (cached) retire(cached.client);
    const client = this.create(connection);
    this.clients.set(connection.id, { client, signature });
    return client;
  }

  /** Forgets a connection's client (after removal or a credential change). */
  forget(id: string): void {
    const cached = this.clients.get(id);
    if (cached) retire(cached.client);
    this.clients.delete(id);
  }

  private create(connection: ServerConnection): DicomWebClient {
    const settings = vscode.workspace.getConfiguration('dicomweb');
    const timeoutSeconds = settings.get<number>('requestTimeoutSeconds', 60);
    return new DicomWebClient({
      baseUrl: connection.url,
      serverKind: connection.kind,
      serverRoot: connection.serverRoot,
      headers: connection.headers,
      auth: this.gate.guard(connection, this.authFor(connection)),
      tls: this.trust(connection),
      proxy: proxyFor(connection.url),
      timeouts: { headersMs: timeoutSeconds * 1000 },
      // Other origins that may receive this connection's credentials (a bulk data host);
      // never from workspace settings (connectionPolicy.ts drops the field there).
      trustedOrigins: connection.trustedOrigins,
      ...clientLimits(settings),
      onRequest: (entry) => this.logRequest(connection, entry),
    });
  }

  /** The CAs and verification for a connection (certificates.ts), with what to log. */
  private trust(connection: ServerConnection): {
    ca?: Array<string | Buffer>;
    rejectUnauthorized: boolean;
  } {
    let caFile: Buffer | undefined;
    if (connection.caFile) {
      try {
        caFile = readFileSync(connection.caFile);
      } catch (error) {
        this.log.error(
          `Cannot read the CA file of "${connection.name}": ${(error as Error).message}`,
        );
      }
    }
    const decision = decideTrust(connection, caFile, networkTrustSettings(), this.certificates);
    for (const warning of decision.warnings) this.log.warn(warning);
    if (decision.storeUnreadable && !this.storeUnreadableLogged) {
      this.storeUnreadableLogged = true;
      this.log.info(decision.storeUnreadable);
    }
    return { ca: decision.ca, rejectUnauthorized: decision.rejectUnauthorized };
  }

  private logRequest(connection: ServerConnection, entry: RequestLogEntry): void {
    const attempt = entry.attempt > 1 ? ` (attempt ${entry.attempt})` : '';
    if (entry.error) {
      this.log.warn(
        `[${connection.name}] ${entry.method} ${entry.url} failed after ${entry.durationMs} ms${attempt}: ${entry.error}`,
      );
    } else if (entry.status !== undefined && entry.status >= 400) {
      this.log.warn(
        `[${connection.name}] ${entry.method} ${entry.url} → ${entry.status} in ${entry.durationMs} ms${attempt}`,
      );
    } else {
      this.log.info(
        `[${connection.name}] ${entry.method} ${entry.url} → ${entry.status} in ${entry.durationMs} ms${attempt}`,
      );
    }
  }

  private authFor(connection: ServerConnection): AuthProvider {
    switch (connection.auth) {
      case 'bearer':
        return bearerAuth(async (forceRefresh) => {
          if (forceRefresh) return this.askAgain(connection, 'token');
          return (
            (await this.connections.getSecret(connection.id)) ?? this.askAgain(connection, 'token')
          );
        });
      case 'basic': {
        // A password that came in the URL's user info is the fallback (ConnectionStore.list).
        const provider = basicAuth(
          connection.username ?? '',
          async () =>
            (await this.connections.getSecret(connection.id)) ??
            this.connections.embeddedPassword(connection.id) ??
            '',
        );
        return {
          ...provider,
          refresh: async () => (await this.askAgain(connection, 'password')) !== undefined,
        };
      }
      case 'entra':
        // Microsoft Entra ID through VS Code's built-in Microsoft authentication provider:
        // the user signs in once, VS Code refreshes the token; nothing is copied by hand.
        return bearerAuth(async (forceRefresh) => {
          const session = await vscode.authentication.getSession(
            'microsoft',
            [AZURE_DICOM_SCOPE],
            forceRefresh
              ? { forceNewSession: { detail: `"${connection.name}" refused the current token.` } }
              : { createIfNone: true },
          );
          return session?.accessToken;
        });
      default:
        return noAuth;
    }
  }

  /** After a 401: ask for the credential again and keep it in SecretStorage. */
  private async askAgain(
    connection: ServerConnection,
    what: 'token' | 'password',
  ): Promise<string | undefined> {
    const value = await this.prompts().askSecret(
      `DICOMweb: ${connection.name}`,
      what === 'token'
        ? `The server refused the request (401). Paste a new bearer token for "${connection.name}".`
        : `The server refused the request (401). Enter the password of "${connection.username}" on "${connection.name}".`,
    );
    if (value) await this.connections.setSecret(connection.id, value);
    return value || undefined;
  }

  dispose(): void {
    for (const { client } of this.clients.values()) void client.close();
    this.clients.clear();
  }
}

/**
 * The client's body size caps and overall deadline (src/dicomweb/transport/limits.ts) from the
 * machine-scoped settings: a repository's settings cannot raise them (VS Code reads
 * machine-scoped settings from user settings only). Unset: the client's defaults.
 */
export function clientLimits(settings: Pick<vscode.WorkspaceConfiguration, 'get'>): {
  maxBodyBytes?: { json?: number; binary?: number };
  deadlineMs?: number;
} {
  const megabytes = (key: string) => {
    const value = settings.get<number>(key);
    return typeof value === 'number' && Number.isFinite(value) && value > 0
      ? Math.round(value * 1024 * 1024)
      : undefined;
  };
  const out: { maxBodyBytes?: { json?: number; binary?: number }; deadlineMs?: number } = {};
  const json = megabytes('limits.maxJsonResponseMegabytes');
  const binary = megabytes('limits.maxBinaryResponseMegabytes');
  if (json !== undefined || binary !== undefined) out.maxBodyBytes = { json, binary };
  const deadline = settings.get<number>('limits.operationDeadlineSeconds');
  if (typeof deadline === 'number' && Number.isFinite(deadline) && deadline >= 0)
    out.deadlineMs = Math.round(deadline * 1000);
  return out;
}

/**
 * The proxy for a service, from VS Code's `http.proxy` / `http.noProxy` and the
 * environment's HTTPS_PROXY / HTTP_PROXY / NO_PROXY (src/dicomweb/transport/proxy.ts);
 * `http.proxySupport: off` turns it off, as it does for VS Code itself.
 */
export function proxyFor(url: string): string | undefined {
  const http = vscode.workspace.getConfiguration('http');
  if (http.get<string>('proxySupport') === 'off') return undefined;
  return proxyForUrl(url, {
    proxy: http.get<string>('proxy'),
    noProxy: http.get<string[]>('noProxy'),
    env: process.env,
  });
}

/**
 * `http.systemCertificates` and `http.proxyStrictSSL` as VS Code itself reads them: from
 * user (or remote machine) settings and the defaults, never from a workspace — VS Code
 * marks them restricted and its own extension host reads only the user's value
 * (`inspect().globalLocalValue ?? defaultValue`); a repository must not turn off
 * certificate checks for the person who opens it.
 */
export function networkTrustSettings(): NetworkTrustSettings {
  const http = vscode.workspace.getConfiguration('http');
  const user = (key: string, fallback: boolean): boolean => {
    const inspected = http.inspect<boolean>(key);
    const value = inspected?.globalValue ?? inspected?.defaultValue;
    return typeof value === 'boolean' ? value : fallback;
  };
  return {
    systemCertificates: user('systemCertificates', true),
    proxyStrictSSL: user('proxyStrictSSL', true),
  };
}

/**
 * How long a replaced client stays usable. A tree row or a preview may hold the client it
 * got a moment before the connection changed (the local server restarted on a new port, a
 * setting edited) and send its next request with it; closed at once, that request failed
 * with "The client is destroyed". Its connections close when the grace ends.
 */
export const RETIRED_CLIENT_GRACE_MS = 30_000;

function retire(client: DicomWebClient): void {
  const timer = setTimeout(
    () => void client.close().catch(() => undefined),
    RETIRED_CLIENT_GRACE_MS,
  );
  timer.unref?.();
}
