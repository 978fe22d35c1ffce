/**
 * DICOMweb connections: kept in the `dicomweb.servers` setting (never a secret there) with
 * their tokens and passwords in VS Code's SecretStorage, removed together.
 */
import * as vscode from 'vscode';
import {
  connectionsFromInspection,
  inspectionForTrust,
  isFromWorkspace,
  userListWith,
  userListWithout,
  withoutUserInfo,
  WorkspaceConnectionError,
} from './connectionPolicy';
import type { ServerConnection } from './serverConnection';

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
  private readonly embeddedPasswords = new Map<string, string>();
  private readonly warnedUserInfo = new Set<string>();

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(`${SECTION}.${SERVERS_SETTING}`)) this.changed.fire();
      }),
      // Trusting the folder brings its servers (still gated by origin approval) into the tree.
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
    );
  }

  list(): ServerConnection[] {
    const inspection = vscode.workspace.getConfiguration(SECTION).inspect<unknown>(SERVERS_SETTING);
    const configured = connectionsFromInspection(
      inspectionForTrust(inspection, vscode.workspace.isTrusted),
    ).map((entry) => this.withoutUserInfo(entry));
    return [...configured, ...this.transient.values()];
  }

  /**
   * A connection whose URL holds `user:password@` is used without it (RFC 3986 §3.2.1
   * deprecates it; it would be logged and shown): the user and password become HTTP basic
   * credentials kept in memory, and the person is told once to move them (Edit Server).
   */
  private withoutUserInfo(entry: ServerConnection): ServerConnection {
    const { connection, password, hadUserInfo } = withoutUserInfo(entry);
    if (!hadUserInfo) return entry;
    if (password !== undefined) this.embeddedPasswords.set(connection.id, password);
    if (!this.warnedUserInfo.has(connection.id)) {
      this.warnedUserInfo.add(connection.id);
      void vscode.window.showWarningMessage(
        `The URL of the DICOMweb server "${connection.name}" holds a user name and password. They are no longer shown or logged; use Edit Server to keep the password in VS Code's secret storage instead of settings.`,
      );
    }
    return connection;
  }

  /** The password a connection's URL carried (see {@link withoutUserInfo}), if any. */
  embeddedPassword(id: string): string | undefined {
    return this.embeddedPasswords.get(id);
  }

  get(id: string): ServerConnection | undefined {
    return this.list().find((connection) => connection.id === id);
  }

  isTransient(id: string): boolean {
    return this.transient.has(id);
  }

  /**
   * Adds or replaces a connection in the user settings: the new list is built from the user
   * (global) value only, never from the merged value, so workspace entries are never copied
   * into user settings (issue 10, finding 4b).
   */
  async save(connection: ServerConnection): Promise<void> {
    const configuration = vscode.workspace.getConfiguration(SECTION);
    const next = userListWith(
      configuration.inspect<unknown>(SERVERS_SETTING)?.globalValue,
      clean(connection),
    );
    await configuration.update(SERVERS_SETTING, next, vscode.ConfigurationTarget.Global);
    this.changed.fire();
  }

  /** Removes a connection and its secret (user settings only). */
  async remove(id: string): Promise<void> {
    if (this.transient.delete(id)) {
      this.changed.fire();
      return;
    }
    const existing = this.get(id);
    if (existing && isFromWorkspace(existing)) throw new WorkspaceConnectionError(existing);
    const configuration = vscode.workspace.getConfiguration(SECTION);
    await configuration.update(
      SERVERS_SETTING,
      userListWithout(configuration.inspect<unknown>(SERVERS_SETTING)?.globalValue, id),
      vscode.ConfigurationTarget.Global,
    );
    await this.secrets.delete(secretKey(id));
    this.embeddedPasswords.delete(id);
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
    if (
      value === undefined ||
      value === '' ||
      (typeof value === 'object' && value && Object.keys(value).length === 0)
    )
      continue;
    out[key] = value;
  }
  return out as unknown as ServerConnection;
}
