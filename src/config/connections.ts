/**
 * DICOMweb connections: kept in the `dicomweb.servers` setting (never a secret there) with
 * their tokens and passwords in VS Code's SecretStorage, removed together.
 */
import * as vscode from 'vscode';
import type { ServerKind } from '../dicomweb/profiles';

export type AuthKind = 'none' | 'bearer' | 'basic' | 'entra';

/** One entry of the `dicomweb.servers` setting. */
export interface ServerConnection {
  id: string;
  name: string;
  url: string;
  kind?: ServerKind;
  auth?: AuthKind;
  username?: string;
  headers?: Record<string, string>;
  serverRoot?: string;
  caFile?: string;
  rejectUnauthorized?: boolean;
}

export const SERVERS_SETTING = 'servers';
const SECTION = 'dicomweb';

/** The Azure DICOM service's token audience (Azure conformance statement). */
export const AZURE_DICOM_SCOPE = 'https://dicom.healthcareapis.azure.com/.default';

export class ConnectionStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the list of connections changes (settings edited by hand included). */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Connections added at run time that are not saved in settings (the local server). */
  private readonly transient = new Map<string, ServerConnection>();

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(`${SECTION}.${SERVERS_SETTING}`)) this.changed.fire();
      }),
    );
  }

  list(): ServerConnection[] {
    const configured = vscode.workspace.getConfiguration(SECTION).get<ServerConnection[]>(SERVERS_SETTING, []);
    const valid = configured.filter((entry) => entry && typeof entry.id === 'string' && typeof entry.url === 'string');
    return [...valid, ...this.transient.values()];
  }

  get(id: string): ServerConnection | undefined {
    return this.list().find((connection) => connection.id === id);
  }

  isTransient(id: string): boolean {
    return this.transient.has(id);
  }

  /** Adds or replaces a connection in the user settings. */
  async save(connection: ServerConnection): Promise<void> {
    const configuration = vscode.workspace.getConfiguration(SECTION);
    const current = configuration.get<ServerConnection[]>(SERVERS_SETTING, []);
    const next = current.some((entry) => entry.id === connection.id)
      ? current.map((entry) => (entry.id === connection.id ? clean(connection) : entry))
      : [...current, clean(connection)];
    await configuration.update(SERVERS_SETTING, next, vscode.ConfigurationTarget.Global);
    this.changed.fire();
  }

  /** Removes a connection and its secret. */
  async remove(id: string): Promise<void> {
    if (this.transient.delete(id)) {
      this.changed.fire();
      return;
    }
    const configuration = vscode.workspace.getConfiguration(SECTION);
    const current = configuration.get<ServerConnection[]>(SERVERS_SETTING, []);
    await configuration.update(
      SERVERS_SETTING,
      current.filter((entry) => entry.id !== id),
      vscode.ConfigurationTarget.Global,
    );
    await this.secrets.delete(secretKey(id));
    this.changed.fire();
  }

  addTransient(connection: ServerConnection): void {
    this.transient.set(connection.id, connection);
    this.changed.fire();
  }

  getSecret(id: string): Thenable<string | undefined> {
    return this.secrets.get(secretKey(id));
  }

  setSecret(id: string, value: string): Thenable<void> {
    return this.secrets.store(secretKey(id), value);
  }

  deleteSecret(id: string): Thenable<void> {
    return this.secrets.delete(secretKey(id));
  }

  dispose(): void {
    this.changed.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}

export function secretKey(id: string): string {
  return `dicomweb.server.${id}.secret`;
}

export function newConnectionId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Drops empty optional fields so the settings file stays readable. */
function clean(connection: ServerConnection): ServerConnection {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(connection)) {
    if (value === undefined || value === '' || (typeof value === 'object' && value && Object.keys(value).length === 0)) continue;
    out[key] = value;
  }
  return out as unknown as ServerConnection;
}
