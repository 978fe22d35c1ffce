/**
 * Where a connection comes from and where its credentials may go (issue 10, finding 4b/4c).
 * No `vscode` import: the decisions are tested in plain Node; src/config/connections.ts and
 * src/config/credentialGate.ts apply them.
 *
 * - `dicomweb.servers` is a window-scoped setting, so a repository's .vscode/settings.json
 *   may set it (VS Code applies `machine` and `application` scoped settings from user
 *   settings only, "Configuration scopes" in the contribution points reference; a list is
 *   replaced, not merged, by a more specific scope). Entries from workspace values are kept
 *   apart from the user's own: marked, with ids of their own (a workspace entry can never
 *   borrow the secret of a user connection by copying its id), and without the
 *   fields that decide TLS checks or where credentials go (`caFile`, `rejectUnauthorized`,
 *   `trustedOrigins`, a `serverRoot` on another origin).
 * - A workspace connection gets no credential until the user approved its origin (RFC 6454
 *   origin: scheme, host, port); an Entra ID token for the Azure DICOM scope goes only to
 *   Azure DICOM hosts unless the user approved that origin for Entra.
 * - Saving writes the user (global) value only, never a merged list.
 */
import type { ServerConnection } from './serverConnection';

/** Prefix of the ids given to connections from workspace settings. */
export const WORKSPACE_ID_PREFIX = 'workspace:';

/** What `WorkspaceConfiguration.inspect('servers')` gives (only the values used here). */
export interface ServersInspection {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/**
 * Restricted Mode: a workspace that is not trusted names no server at all. package.json
 * lists `dicomweb.servers` in `restrictedConfigurations`, but inspect() still returns the
 * workspace's values, so they are dropped here.
 */
export function inspectionForTrust(
  inspection: ServersInspection | undefined,
  trusted: boolean,
): ServersInspection | undefined {
  return trusted || !inspection ? inspection : { globalValue: inspection.globalValue };
}

/**
 * The connections to show: the user's (global) entries as they are, then the workspace's
 * and workspace folder's entries marked `source: 'workspace'` with prefixed ids, without
 * `caFile` / `rejectUnauthorized` / `trustedOrigins` (nor a `serverRoot` on another
 * origin). A workspace entry equal to a user entry is the user's.
 */
export function connectionsFromInspection(
  inspection: ServersInspection | undefined,
): ServerConnection[] {
  const user = validEntries(inspection?.globalValue).map(
    ({ source: _source, ...entry }) => entry as ServerConnection,
  );
  const out: ServerConnection[] = [...user];
  const seen = new Set(user.map((entry) => entry.id));
  const userShapes = new Set(user.map((entry) => JSON.stringify(entry)));
  for (const entry of [
    ...validEntries(inspection?.workspaceFolderValue),
    ...validEntries(inspection?.workspaceValue),
  ]) {
    // Fields that decide where credentials go or how TLS is checked are the user's alone:
    // caFile, rejectUnauthorized, trustedOrigins, and a serverRoot on another origin
    // (the client sends the credentials to the server root's origin too).
    const {
      source: _source,
      caFile: _caFile,
      rejectUnauthorized: _reject,
      trustedOrigins: _trusted,
      serverRoot,
      ...rest
    } = entry;
    if (userShapes.has(JSON.stringify(entry))) continue;
    const id = `${WORKSPACE_ID_PREFIX}${entry.id}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const kept: ServerConnection = { ...rest, id, source: 'workspace' };
    if (
      typeof serverRoot === 'string' &&
      originOf(serverRoot) !== undefined &&
      originOf(serverRoot) === originOf(entry.url)
    )
      kept.serverRoot = serverRoot;
    out.push(kept);
  }
  return out;
}

function validEntries(value: unknown): ServerConnection[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (entry): entry is ServerConnection =>
      !!entry &&
      typeof entry === 'object' &&
      typeof entry.id === 'string' &&
      typeof entry.url === 'string' &&
      typeof entry.name === 'string',
  );
}

/**
 * The user list after adding or replacing `connection`: built from the user (global) value
 * only, so workspace entries are never copied into user settings.
 * @throws Error for a workspace connection (it lives in the workspace's settings).
 */
export function userListWith(
  globalValue: unknown,
  connection: ServerConnection,
): ServerConnection[] {
  if (isFromWorkspace(connection)) throw new WorkspaceConnectionError(connection);
  const { source: _source, ...saved } = connection;
  const current = validEntries(globalValue);
  return current.some((entry) => entry.id === saved.id)
    ? current.map((entry) => (entry.id === saved.id ? saved : entry))
    : [...current, saved];
}

/** The user list without `id` (from the user value only). */
export function userListWithout(globalValue: unknown, id: string): ServerConnection[] {
  return validEntries(globalValue).filter((entry) => entry.id !== id);
}

export function isFromWorkspace(connection: Pick<ServerConnection, 'id' | 'source'>): boolean {
  return connection.source === 'workspace' || connection.id.startsWith(WORKSPACE_ID_PREFIX);
}

/** Edit or remove of a connection the user's settings do not hold. */
export class WorkspaceConnectionError extends Error {
  override readonly name = 'WorkspaceConnectionError';
  constructor(connection: Pick<ServerConnection, 'name'>) {
    super(
      `"${connection.name}" comes from this workspace's settings (.vscode/settings.json); change it there. DICOMweb Explorer writes only your user settings.`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// User info in URLs (RFC 3986 §3.2.1: "Use of the format user:password in the userinfo
// field is deprecated"; the Fetch standard refuses such URLs in a Request).

/** A URL without its user info, and what the user info held (percent-decoded). */
export interface SplitUrl {
  url: string;
  username?: string;
  password?: string;
}

export function splitUserInfo(url: string): SplitUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url };
  }
  if (!parsed.username && !parsed.password) return { url };
  const username = safeDecode(parsed.username);
  const password = safeDecode(parsed.password);
  // Cut the user info out of the original text (URL#href would also normalize the rest).
  const stripped = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
  const out: SplitUrl = { url: stripped };
  if (username) out.username = username;
  if (password) out.password = password;
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A connection whose URL carried user info, as used: the URL without it; with no other
 * authentication configured, HTTP basic with that user (the password is returned apart,
 * to be kept in memory or SecretStorage, never shown).
 */
export function withoutUserInfo(connection: ServerConnection): {
  connection: ServerConnection;
  password?: string;
  hadUserInfo: boolean;
} {
  const split = splitUserInfo(connection.url);
  if (split.url === connection.url) return { connection, hadUserInfo: false };
  const next: ServerConnection = { ...connection, url: split.url };
  if ((connection.auth ?? 'none') === 'none' && split.username) {
    next.auth = 'basic';
    next.username = split.username;
    return { connection: next, password: split.password, hadUserInfo: true };
  }
  return { connection: next, hadUserInfo: true };
}

// ---------------------------------------------------------------------------------------
// Origins and approvals

/** The origin of a URL (scheme, host, port; RFC 6454 §4), or undefined when not a URL. */
export function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Host name suffixes of the Azure DICOM service (Azure Health Data Services): the service
 * URL is https://<workspace>-<dicom>.dicom.azurehealthcareapis.com ("Deploy the DICOM
 * service", Microsoft Learn). Only the public cloud is listed: the sovereign clouds' DICOM
 * host names are not documented; the user can approve such an origin once.
 */
export const AZURE_DICOM_HOST_SUFFIXES = ['.dicom.azurehealthcareapis.com'] as const;

/**
 * True for an https URL on an Azure DICOM host (the only place an Entra DICOM token goes unasked).
 */
export function isAzureDicomUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname.toLowerCase();
    return (
      parsed.protocol === 'https:' &&
      AZURE_DICOM_HOST_SUFFIXES.some(
        (suffix) => host.endsWith(suffix) && host.length > suffix.length,
      )
    );
  } catch {
    return false;
  }
}

/** What a user may approve for an origin. */
export type ApprovalKind = 'workspace' | 'entra';

/** Approved origins, by kind (kept in globalState). */
export interface Approvals {
  workspace: string[];
  entra: string[];
}

export const NO_APPROVALS: Approvals = { workspace: [], entra: [] };

/** One question to ask before a connection's credential may be used. */
export interface ApprovalQuestion {
  kind: ApprovalKind;
  origin: string;
}

/**
 * The approvals a connection still needs before its credential may be read and sent:
 * a workspace connection with authentication needs its origin approved ('workspace'); an
 * Entra connection off the Azure DICOM hosts needs its origin approved for Entra. An
 * unparsable URL gets a question with origin "(invalid URL)" that cannot be approved
 * meaningfully: callers refuse it.
 */
export function approvalsNeeded(
  connection: ServerConnection,
  approvals: Approvals,
): ApprovalQuestion[] {
  const auth = connection.auth ?? 'none';
  if (auth === 'none') return [];
  const origin = originOf(connection.url) ?? '(invalid URL)';
  const questions: ApprovalQuestion[] = [];
  if (isFromWorkspace(connection) && !approvals.workspace.includes(origin))
    questions.push({ kind: 'workspace', origin });
  if (auth === 'entra' && !isAzureDicomUrl(connection.url) && !approvals.entra.includes(origin))
    questions.push({ kind: 'entra', origin });
  return questions;
}

/** Approvals with `origin` added for `kind` (no duplicates). */
export function approve(approvals: Approvals, kind: ApprovalKind, origin: string): Approvals {
  const list = approvals[kind];
  return list.includes(origin) ? approvals : { ...approvals, [kind]: [...list, origin] };
}

/** Approvals without the given origins (every kind). */
export function revoke(approvals: Approvals, origins: readonly string[]): Approvals {
  return {
    workspace: approvals.workspace.filter((o) => !origins.includes(o)),
    entra: approvals.entra.filter((o) => !origins.includes(o)),
  };
}

/** Approvals read back from storage, whatever was stored (never trusts its shape). */
export function parseApprovals(stored: unknown): Approvals {
  const listOf = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const object = stored && typeof stored === 'object' ? (stored as Record<string, unknown>) : {};
  return { workspace: listOf(object.workspace), entra: listOf(object.entra) };
}

/** The modal's sentence for a question. */
export function questionText(
  question: ApprovalQuestion,
  connectionName: string,
): { message: string; detail: string } {
  if (question.kind === 'workspace') {
    return {
      message: `This workspace's settings point DICOMweb Explorer at ${question.origin}. Send your credentials there?`,
      detail: `The connection "${connectionName}" comes from this workspace's .vscode/settings.json, not from your user settings. Allow only if you trust this repository and the server. Your answer is remembered for this origin; revoke it with "DICOMweb: Revoke Approved Workspace Origins…".`,
    };
  }
  return {
    message: `"${connectionName}" asks for your Microsoft Entra ID token for the Azure DICOM service, but ${question.origin} is not an Azure DICOM host. Send the token there?`,
    detail: `Azure DICOM services live at *.dicom.azurehealthcareapis.com. A token sent elsewhere can be replayed against every Azure DICOM service you can access. Your answer is remembered for this origin; revoke it with "DICOMweb: Revoke Approved Workspace Origins…".`,
  };
}
