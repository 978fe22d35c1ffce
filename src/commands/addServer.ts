import * as vscode from 'vscode';
import { newConnectionId } from '../config/connections';
import type { AuthKind, ServerConnection } from '../config/serverConnection';
import {
  isFromWorkspace,
  splitUserInfo,
  WorkspaceConnectionError,
} from '../config/connectionPolicy';
import { proxyFor } from '../config/clients';
import { DicomWebClient } from '../dicomweb/client';
import { kindFromUrl } from '../dicomweb/profiles/detection';
import { PROFILES, type ServerKind } from '../dicomweb/profiles/serverProfiles';
import { redactUrl } from '../dicomweb/transport/errors';
import { baseUrlProblem, normalizeBaseUrl } from '../dicomweb/requests';
import type { Services } from '../services';
import type { ServerNode } from '../tree/nodes/ServerNode';
import { pickServer } from './pickServer';
import { UserCancelled } from './registerCommand';

/** What a script or a test may pass instead of answering the prompts. */
export interface ServerInput extends Partial<ServerConnection> {
  /** Bearer token or basic password, stored in SecretStorage, never in settings. */
  secret?: string;
}

/** `dicomweb.server.add`: name, service URL, kind (probed), auth; secrets to SecretStorage. */
export async function addServer(
  services: Services,
  input?: ServerInput,
): Promise<ServerConnection> {
  // `https://user:pass@host`: the user becomes HTTP basic, the password goes to
  // SecretStorage, the URL is saved without them (RFC 3986 §3.2.1; issue 10, finding 4c).
  const fromUrl: UserInfo = {};
  const connection = input?.url
    ? fromInput(input, fromUrl)
    : await askConnection(undefined, fromUrl);
  const asked = connection.auth === 'bearer' || connection.auth === 'basic';
  const secret = input?.url
    ? (input.secret ?? fromUrl.password)
    : fromUrl.password && connection.auth === 'basic'
      ? fromUrl.password
      : asked
        ? await askSecret(connection)
        : undefined;
  if (secret) await services.connections.setSecret(connection.id, secret);
  await services.connections.save(connection);
  services.log.info(
    `Added server "${connection.name}" (${connection.url}, ${connection.kind ?? 'generic'}, auth ${connection.auth ?? 'none'})`,
  );
  return connection;
}

/** User info taken out of a URL the person entered. */
interface UserInfo {
  username?: string;
  password?: string;
}

/** The URL without user info; what it held goes to `into`. */
function takeUserInfo(url: string, into: UserInfo): string {
  const split = splitUserInfo(url);
  if (split.username) into.username = split.username;
  if (split.password) into.password = split.password;
  return split.url;
}

/** `dicomweb.server.edit`: the same questions, answered with the current values. */
export async function editServer(services: Services, node: ServerNode): Promise<ServerConnection> {
  if (isFromWorkspace(node.connection)) throw new WorkspaceConnectionError(node.connection);
  const updated = await askConnection(node.connection, {});
  if (updated.auth === 'bearer' || updated.auth === 'basic') {
    const keep =
      (await services.connections.getSecret(updated.id)) !== undefined &&
      updated.auth === node.connection.auth;
    const secret = await askSecret(updated, keep);
    if (secret) await services.connections.setSecret(updated.id, secret);
  } else {
    await services.connections.deleteSecret(updated.id);
  }
  services.clients.forget(updated.id);
  await services.connections.save(updated);
  return updated;
}

/** `dicomweb.server.remove`: the connection and its secret, after a modal confirmation. */
export async function removeServer(services: Services, node?: ServerNode): Promise<boolean> {
  // From the palette: only what this command can remove (not a workspace's entries, not
  // the running local server's own row).
  node ??= await pickServer(services, 'Remove which server?', {
    accept: (candidate) =>
      !isFromWorkspace(candidate.connection) &&
      !services.connections.isTransient(candidate.connection.id),
    none: 'No server of your settings to remove.',
  });
  if (isFromWorkspace(node.connection)) throw new WorkspaceConnectionError(node.connection);
  const confirmed = await services.prompts.confirm(
    `Remove the server "${node.connection.name}"?`,
    `Only the connection and its stored credentials are removed from VS Code (${redactUrl(node.connection.url)}). Nothing on the server is touched.`,
    'Remove',
  );
  if (!confirmed) return false;
  await services.connections.remove(node.connection.id);
  services.clients.forget(node.connection.id);
  return true;
}

function fromInput(input: ServerInput, userInfo: UserInfo): ServerConnection {
  const url = takeUserInfo(normalizeBaseUrl(input.url ?? ''), userInfo);
  const auth = input.auth ?? (userInfo.username ? 'basic' : 'none');
  return {
    id: input.id ?? newConnectionId(),
    name: input.name ?? new URL(url).host,
    url,
    kind: input.kind ?? kindFromUrl(url),
    auth,
    username: input.username ?? (auth === 'basic' ? userInfo.username : undefined),
    headers: input.headers,
    serverRoot: input.serverRoot,
    caFile: input.caFile,
    rejectUnauthorized: input.rejectUnauthorized,
  };
}

/** The four questions of Add/Edit Server, one quick input each: URL, name, kind, authentication. */
async function askConnection(
  current: ServerConnection | undefined,
  userInfo: UserInfo,
): Promise<ServerConnection> {
  const title = current ? `Edit ${current.name}` : 'Add a DICOMweb server';
  const url = await askUrl(title, current, userInfo);
  const name = await askName(title, current, url);
  const kind = await askKind(title, current, url);
  const auth = await askAuth(title, current, userInfo, kind);
  const username = auth === 'basic' ? await askUsername(title, current, userInfo) : undefined;
  return {
    ...current,
    id: current?.id ?? newConnectionId(),
    name: name.trim(),
    url,
    kind,
    auth,
    username,
  };
}

/** (1/4) The service URL, normalized, its user info taken out, a DICOMweb root offered. */
async function askUrl(
  title: string,
  current: ServerConnection | undefined,
  userInfo: UserInfo,
): Promise<string> {
  const url = await vscode.window.showInputBox({
    title: `${title} (1/4)`,
    // Short: a long prompt is cut off in the input box. The examples go in the placeholder.
    prompt: 'DICOMweb service URL',
    placeHolder:
      'e.g. http://localhost:8042/dicom-web · https://ws-svc.dicom.azurehealthcareapis.com/v2',
    value: current?.url,
    ignoreFocusOut: true,
    validateInput: baseUrlProblem,
  });
  if (!url) throw new UserCancelled();
  return offerDicomWebRoot(takeUserInfo(normalizeBaseUrl(url), userInfo));
}

/** (2/4) The name the tree shows. */
async function askName(
  title: string,
  current: ServerConnection | undefined,
  url: string,
): Promise<string> {
  const name = await vscode.window.showInputBox({
    title: `${title} (2/4)`,
    prompt: 'A name for the tree',
    value: current?.name ?? defaultName(url),
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() ? undefined : 'A name is needed'),
  });
  if (!name) throw new UserCancelled();
  return name;
}

/** (3/4) The server kind, the detected one first: it decides how deletes are sent. */
async function askKind(
  title: string,
  current: ServerConnection | undefined,
  url: string,
): Promise<ServerKind> {
  const detected = current?.kind ?? (await detectKind(url));
  const kinds: Array<vscode.QuickPickItem & { serverKind: ServerKind }> = Object.values(
    PROFILES,
  ).map((profile) => ({
    label: profile.label,
    description: profile.kind === detected ? 'detected' : '',
    serverKind: profile.kind,
  }));
  kinds.sort((a, b) => (a.serverKind === detected ? -1 : b.serverKind === detected ? 1 : 0));
  const kind = await vscode.window.showQuickPick(kinds, {
    title: `${title} (3/4): server kind`,
    placeHolder: 'Decides how deletes are sent and what the server supports',
    ignoreFocusOut: true,
  });
  if (!kind) throw new UserCancelled();
  return kind.serverKind;
}

/**
 * (4/4) How to authenticate; the likely one first (basic with user info in the URL, Entra on
 * Azure).
 */
async function askAuth(
  title: string,
  current: ServerConnection | undefined,
  userInfo: UserInfo,
  kind: ServerKind,
): Promise<AuthKind> {
  const auths: Array<vscode.QuickPickItem & { auth: AuthKind }> = [
    { label: 'None', auth: 'none' },
    {
      label: 'Microsoft Entra ID',
      description: 'sign in with your Microsoft account (Azure DICOM service)',
      auth: 'entra',
    },
    {
      label: 'Bearer token',
      description: 'paste a token; kept in VS Code secret storage',
      auth: 'bearer',
    },
    {
      label: 'HTTP basic',
      description: 'user name and password; the password in secret storage',
      auth: 'basic',
    },
  ];
  const preferred =
    current?.auth ?? (userInfo.username ? 'basic' : kind === 'azure' ? 'entra' : 'none');
  auths.sort((a, b) => (a.auth === preferred ? -1 : b.auth === preferred ? 1 : 0));
  const auth = await vscode.window.showQuickPick(auths, {
    title: `${title} (4/4): authentication`,
    ignoreFocusOut: true,
  });
  if (!auth) throw new UserCancelled();
  return auth.auth;
}

/** HTTP basic's user name (the password goes to secret storage, asked apart). */
async function askUsername(
  title: string,
  current: ServerConnection | undefined,
  userInfo: UserInfo,
): Promise<string> {
  const username = await vscode.window.showInputBox({
    title: `${title}: user name`,
    value: current?.username ?? userInfo.username,
    ignoreFocusOut: true,
  });
  if (username === undefined) throw new UserCancelled();
  return username;
}

async function askSecret(
  connection: ServerConnection,
  optional = false,
): Promise<string | undefined> {
  const secret = await vscode.window.showInputBox({
    title: `${connection.name}: ${connection.auth === 'bearer' ? 'bearer token' : `password of ${connection.username}`}`,
    prompt: `Kept in VS Code's secret storage, never in settings.${optional ? ' Leave empty to keep the current one.' : ''}`,
    password: true,
    ignoreFocusOut: true,
  });
  if (secret === undefined) throw new UserCancelled();
  return secret || undefined;
}

/** A client for a few seconds' probe of a URL being added (no credentials yet). */
function probeClient(url: string): DicomWebClient {
  return new DicomWebClient({
    baseUrl: url,
    timeouts: { connectMs: 3000, headersMs: 3000 },
    retry: { retries: 0 },
    proxy: proxyFor(url),
  });
}

/**
 * A server's root typed without its DICOMweb path (Orthanc's `http://host:8042`) was
 * accepted and the tree then showed Orthanc's "Missing 'since' argument". When the URL
 * answers no QIDO search but a DICOMweb root below it does, offer that root.
 */
async function offerDicomWebRoot(url: string): Promise<string> {
  const client = probeClient(url);
  let root: string | undefined;
  try {
    root = await client.findDicomWebRoot();
  } finally {
    await client.close();
  }
  if (!root || root === url) return url;
  const use = { label: `Use ${root}`, description: 'answers DICOMweb searches', url: root };
  const keep = { label: `Keep ${url}`, description: 'it answered no DICOMweb search', url };
  const choice = await vscode.window.showQuickPick([use, keep], {
    title: `${url} is not a DICOMweb root`,
    placeHolder: `The DICOMweb service is at ${root}`,
    ignoreFocusOut: true,
  });
  if (!choice) throw new UserCancelled();
  return choice.url;
}

/**
 * Probes for a few seconds: the local server's `Server` header, Orthanc's `/system`; no answer
 * means generic.
 */
async function detectKind(url: string): Promise<ServerKind> {
  const fromUrl = kindFromUrl(url);
  if (fromUrl) return fromUrl;
  const client = probeClient(url);
  try {
    return (await client.detectProfile()).kind;
  } finally {
    await client.close();
  }
}

function defaultName(url: string): string {
  const host = new URL(url).hostname;
  if (host.endsWith('.dicom.azurehealthcareapis.com')) return host.split('.')[0];
  return new URL(url).host;
}
