/**
 * One connection to a DICOMweb service: its base URL, the HTTP transport (one keep-alive
 * undici pool, transport/http.ts), the credentials, and which kind of server it is. The
 * client's modules (search, retrieve, delete) and the transfers (transfer/) work through a
 * session; client.ts puts the public methods on top of it. No `vscode` import.
 */
import { type AuthProvider, noAuth } from './transport/auth';
import { DicomWebError } from './transport/errors';
import {
  HttpTransport,
  type HttpOptions,
  type HttpRequest,
  type HttpResponse,
  type RequestLogEntry,
} from './transport/http';
import {
  dicomWebRootCandidates,
  isLocalServerHeader,
  kindFromUrl,
  looksLikeOrthancSystem,
  looksLikeQidoAnswer,
  orthancRootCandidates,
} from './profiles/detection';
import { PROFILES, type ServerKind, type ServerProfile } from './profiles/serverProfiles';
import {
  MEDIA,
  normalizeBaseUrl,
  retrieveRequest,
  urlFor,
  type InstancePath,
  type RequestSpec,
  type RetrieveOptions,
} from './requests';
import type { OperationPolling } from './profiles/operations';
import { partsOf, type RetrievedPart } from './parts';

export interface DicomWebClientOptions extends Omit<HttpOptions, 'auth'> {
  /** Service URL, with `/v{version}` and `/partitions/{name}` when the service has them. */
  baseUrl: string;
  auth?: AuthProvider;
  /** Server kind; when absent, {@link DicomWebSession.detectProfile} may find it. */
  serverKind?: ServerKind;
  /** The server's own REST root (Orthanc), when it cannot be derived from the base URL. */
  serverRoot?: string;
  /** How to wait for a long-running operation (Google's delete); see profiles/operations.ts. */
  operationPolling?: Partial<OperationPolling>;
}

/** {@link DicomWebClientOptions} without its functions: what can be posted to a worker thread. */
export type PortableClientOptions = Omit<
  DicomWebClientOptions,
  'auth' | 'onRequest' | 'dispatcher'
>;

export interface RequestOptions {
  signal?: AbortSignal;
}

export class DicomWebSession {
  readonly baseUrl: string;
  readonly transport: HttpTransport;
  protected readonly auth: AuthProvider;
  private profile: ServerProfile;
  private restRoot?: string;

  constructor(protected readonly options: DicomWebClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.auth = options.auth ?? noAuth;
    // Credentials go to the service's origin, the server root's (Orthanc's REST API, when
    // configured apart) and the origins the user trusts; nothing else (origins.ts).
    const trustedOrigins = [
      ...(options.trustedOrigins ?? []),
      ...(options.serverRoot ? [options.serverRoot] : []),
    ];
    this.transport = new HttpTransport({
      ...options,
      baseUrl: this.baseUrl,
      trustedOrigins,
      auth: this.auth,
    });
    this.profile = PROFILES[options.serverKind ?? kindFromUrl(this.baseUrl) ?? 'generic'];
    this.restRoot = options.serverRoot;
  }

  get serverProfile(): ServerProfile {
    return this.profile;
  }

  /** The server's own REST root (Orthanc's), when configured or found by {@link detectProfile}. */
  get serverRoot(): string | undefined {
    return this.restRoot;
  }

  /** How to wait for a long-running operation (profiles/delete.ts), as configured. */
  get operationPolling(): Partial<OperationPolling> | undefined {
    return this.options.operationPolling;
  }

  /**
   * The credentials this client sends (another thread asks for them over messages:
   * downloadWorker.ts).
   */
  get authProvider(): AuthProvider {
    return this.auth;
  }

  /** The request log callback, if any (a worker's requests are logged through it too). */
  get requestLogger(): ((entry: RequestLogEntry) => void) | undefined {
    return this.options.onRequest;
  }

  /**
   * What another thread needs to build the same client (downloadWorker.ts): every option
   * but the functions. Credentials and the request log stay in this thread; a custom
   * `dispatcher` cannot cross (the worker makes its own from the same TLS and timeouts).
   */
  portableOptions(): PortableClientOptions {
    const { auth: _auth, onRequest: _onRequest, dispatcher: _dispatcher, ...rest } = this.options;
    return {
      ...rest,
      serverKind: this.profile.kind,
      ...(this.restRoot ? { serverRoot: this.restRoot } : {}),
    };
  }

  setServerKind(kind: ServerKind): void {
    this.profile = PROFILES[kind];
  }

  /**
   * Finds the server kind with cheap probes: the host name (Azure, Google), the path
   * (dcm4chee), then Orthanc's `GET /system` on the REST root above the DICOMweb root.
   * Falls back to `generic`. Never throws for an unreachable probe.
   */
  async detectProfile(options: RequestOptions = {}): Promise<ServerProfile> {
    const byUrl = kindFromUrl(this.baseUrl);
    if (byUrl) {
      this.profile = PROFILES[byUrl];
      return this.profile;
    }
    // The extension's own local server names itself in its `Server` header.
    const probe = await this.probeQido(this.baseUrl, options.signal);
    if (isLocalServerHeader(probe?.server)) {
      this.profile = PROFILES.local;
      return this.profile;
    }
    const candidates = this.restRoot ? [this.restRoot] : orthancRootCandidates(this.baseUrl);
    for (const root of candidates) {
      if (await this.isOrthancRoot(root, options.signal)) {
        this.restRoot = root;
        this.profile = PROFILES.orthanc;
        return this.profile;
      }
    }
    this.profile = PROFILES[this.options.serverKind ?? 'generic'];
    return this.profile;
  }

  /** Whether `GET {root}/system` answers like Orthanc; false for any failure but a cancel. */
  private async isOrthancRoot(root: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const { bytes } = await this.transport.sendForBytes({
        method: 'GET',
        url: `${root}/system`,
        headers: { accept: 'application/json' },
        signal,
        retry: false,
        ...this.inMemory('json'),
      });
      return looksLikeOrthancSystem(JSON.parse(bytes.toString('utf8')));
    } catch (error) {
      if (error instanceof DicomWebError && error.code === 'CANCELLED') throw error;
      // Not Orthanc there (404, HTML, not JSON): try the next candidate.
      return false;
    }
  }

  /**
   * The DICOMweb root at or below this client's base URL: the base URL itself when it
   * answers a QIDO study search, else the first of {@link dicomWebRootCandidates} that does
   * (Orthanc's root typed without `/dicom-web`), else undefined (unreachable, or not found).
   */
  async findDicomWebRoot(options: RequestOptions = {}): Promise<string | undefined> {
    const own = await this.probeQido(this.baseUrl, options.signal);
    if (own?.qido) return this.baseUrl;
    if (!own) return undefined;
    for (const candidate of dicomWebRootCandidates(this.baseUrl)) {
      if ((await this.probeQido(candidate, options.signal))?.qido) return candidate;
    }
    return undefined;
  }

  /**
   * `GET {root}/studies?limit=1`: whether it answers like QIDO, and its `Server` header; undefined
   * when unreachable.
   */
  private async probeQido(
    root: string,
    signal?: AbortSignal,
  ): Promise<{ qido: boolean; server?: string } | undefined> {
    try {
      const { response, bytes } = await this.transport.sendForBytes({
        method: 'GET',
        url: `${root}/studies?limit=1`,
        headers: { accept: MEDIA.dicomJson },
        signal,
        retry: false,
        acceptStatus: () => true,
        ...this.inMemory('json'),
      });
      return {
        qido: looksLikeQidoAnswer(response.status, bytes.toString('utf8')),
        server: response.headers.server,
      };
    } catch (error) {
      if (error instanceof DicomWebError && error.code === 'CANCELLED') throw error;
      return undefined;
    }
  }

  /**
   * The size cap and overall deadline of a request whose body is read into memory
   * (limits.ts), from this client's options.
   */
  inMemory(kind: 'json' | 'binary'): Pick<HttpRequest, 'maxBodyBytes' | 'deadlineMs'> {
    const limits = this.transport.limits;
    return { maxBodyBytes: limits[kind], deadlineMs: limits.deadlineMs };
  }

  /** The full URL of a request description. */
  urlOf(spec: RequestSpec): string {
    return urlFor(this.baseUrl, spec, this.restRoot);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /** Sends a request description; the low-level door for everything below. */
  send(spec: RequestSpec, init: Partial<HttpRequest> = {}): Promise<HttpResponse> {
    return this.transport.send({
      method: spec.method,
      url: this.urlOf(spec),
      headers: spec.headers,
      ...init,
    });
  }

  /**
   * Sends a request description whose answer is small (JSON, a frame, a rendered image) and
   * reads it whole, within the size cap and deadline of its kind (limits.ts).
   */
  sendForBytes(
    spec: RequestSpec,
    kind: 'json' | 'binary',
    signal?: AbortSignal,
  ): Promise<{ response: HttpResponse; bytes: Buffer }> {
    return this.transport.sendForBytes({
      method: spec.method,
      url: this.urlOf(spec),
      headers: spec.headers,
      signal,
      ...this.inMemory(kind),
    });
  }

  /**
   * Streams the instances of a study, series or instance as they arrive, one multipart
   * part each (`multipart/related; type="application/dicom"`, `transfer-syntax=*` unless
   * another is asked; PS3.18 §10.4.1.1.1). Nothing is buffered beyond a chunk: read each
   * part's body in turn.
   */
  async *retrieve(
    target: InstancePath,
    options: RetrieveOptions & RequestOptions = {},
  ): AsyncGenerator<RetrievedPart> {
    const spec = retrieveRequest(target, options);
    // Streamed: no size cap nor overall deadline, but a minimum rate (limits.ts).
    const response = await this.send(spec, {
      signal: options.signal,
      minimumRate: this.transport.limits.minimumRate,
    });
    yield* partsOf(response, options.signal);
  }
}
