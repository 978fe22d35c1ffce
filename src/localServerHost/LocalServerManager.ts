/**
 * The local DICOMweb server as VS Code shows it: start/stop/restart, a status bar item
 * saying that it runs and where, and a connection in the tree while it runs (not saved in
 * settings: its port can change from one start to the next).
 */
import { mkdir } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { ConnectionStore } from '../config/connections';
import type { ServerConnection } from '../config/serverConnection';
import { LocalServerProcess } from './LocalServerProcess';

export const LOCAL_CONNECTION_ID = 'local-dicomweb-server';
const TOKEN_SECRET = 'dicomweb.localServer.token';

export class LocalServerManager implements vscode.Disposable {
  private process: LocalServerProcess | undefined;
  private starting: Promise<LocalServerProcess> | undefined;
  private stopping = false;
  private tokenRequired = false;
  private readonly statusBar = vscode.window.createStatusBarItem(
    'dicomweb.localServer',
    vscode.StatusBarAlignment.Left,
    10,
  );

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly connections: ConnectionStore,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.statusBar.name = 'DICOMweb local server';
    this.statusBar.command = 'dicomweb.localServer.actions';
  }

  get running(): LocalServerProcess | undefined {
    return this.process;
  }

  /** The folder served: the setting, or the extension's global storage. */
  defaultFolder(): string {
    const configured = vscode.workspace
      .getConfiguration('dicomweb')
      .get<string>('localServer.folder', '')
      .trim();
    if (configured) {
      const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      return configured.replace(/^\$\{workspaceFolder\}/, workspace ?? '');
    }
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'local-dicomweb').fsPath;
  }

  async start(folder = this.defaultFolder()): Promise<LocalServerProcess> {
    if (this.process) return this.process;
    if (this.starting) return this.starting;
    this.starting = (async () => {
      await mkdir(folder, { recursive: true });
      const configuration = vscode.workspace.getConfiguration('dicomweb');
      const port = configuration.get<number>('localServer.port', 0);
      // Like the Azure service, the server can demand a bearer token; it lives in SecretStorage
      // and the tree's connection sends it, so code under test must send one too.
      const token = configuration.get<boolean>('localServer.requireToken', false)
        ? await this.token()
        : undefined;
      if (token) await this.connections.setSecret(LOCAL_CONNECTION_ID, token);
      // Web pages of these origins may use the server (CORS); by default none may (issue 10).
      const allowedOrigins = configuration
        .get<string[]>('localServer.allowedOrigins', [])
        .filter((origin) => typeof origin === 'string' && origin.trim() !== '');
      const server = await LocalServerProcess.start({
        extensionPath: this.context.extensionPath,
        dir: folder,
        port,
        token,
        allowedOrigins,
        // Data partitions as the Azure service's "Enable data partitions" (off by default).
        partitions: configuration.get<boolean>('localServer.partitions', false),
        onLog: (line) => this.log.info(`[local server] ${line}`),
        onExit: (code, signal) => this.onExit(code, signal),
      });
      this.process = server;
      this.tokenRequired = token !== undefined;
      this.setRunningContext();
      this.log.info(
        `Local DICOMweb server started: ${server.url} serving ${folder} (pid ${server.pid})`,
      );
      this.connections.addTransient(this.connection(server));
      this.showStatus(server);
      return server;
    })();
    try {
      return await this.starting;
    } finally {
      this.starting = undefined;
    }
  }

  async stop(): Promise<boolean> {
    const server = this.process;
    if (!server) return false;
    this.stopping = true;
    try {
      await server.stop();
    } finally {
      this.stopping = false;
    }
    this.forget();
    this.log.info('Local DICOMweb server stopped');
    return true;
  }

  async restart(): Promise<LocalServerProcess> {
    const folder = this.process?.dir;
    await this.stop();
    return this.start(folder);
  }

  /** The bearer token the server demands (made once, kept in SecretStorage). */
  async token(): Promise<string> {
    const existing = await this.context.secrets.get(TOKEN_SECRET);
    if (existing) return existing;
    const bytes = new Uint8Array(24);
    globalThis.crypto.getRandomValues(bytes);
    const token = Buffer.from(bytes).toString('base64url');
    await this.context.secrets.store(TOKEN_SECRET, token);
    return token;
  }

  get requiresToken(): boolean {
    return this.tokenRequired;
  }

  /** The service URL clients use: `/v2` like the Azure service (no prefix and `/v1` also work). */
  serviceUrl(server: LocalServerProcess): string {
    return `${server.url}/v2`;
  }

  /**
   * The service URL as the person's own machine reaches it. In a remote window (Remote-SSH,
   * WSL, Dev Containers, Codespaces, code-server) the server listens on the remote's
   * loopback: `asExternalUri` forwards the port and answers the forwarded URL; in a local
   * window it answers the same URL. The tree's client keeps the loopback URL: it runs in
   * the extension host, beside the server.
   */
  async externalServiceUrl(server: LocalServerProcess): Promise<string> {
    const local = vscode.Uri.parse(this.serviceUrl(server));
    const external = await vscode.env.asExternalUri(local);
    // Forwarded to another host or port (code-server's /proxy/PORT/, a port forward that
    // got another number): the server's Host check must accept that address, or every
    // request through it would be 421.
    if (
      external.authority.toLowerCase() !== local.authority.toLowerCase() &&
      /^https?$/.test(external.scheme)
    ) {
      await server
        .allowHost(external.authority)
        .catch((error: unknown) =>
          this.log.warn(
            `The local server could not be told its forwarded address: ${(error as Error).message}`,
          ),
        );
    }
    return external.toString(true);
  }

  private connection(server: LocalServerProcess): ServerConnection {
    return {
      id: LOCAL_CONNECTION_ID,
      name: 'Local DICOMweb server',
      url: this.serviceUrl(server),
      kind: 'local',
      auth: this.tokenRequired ? 'bearer' : 'none',
    };
  }

  private showStatus(server: LocalServerProcess): void {
    this.statusBar.text = `$(server-process) DICOMweb ${new URL(server.url).host}`;
    const tooltip = (url: string) =>
      new vscode.MarkdownString(
        `**Local DICOMweb server**\n\n\`${url}\`\n\nServing \`${server.dir}\`\n\nClick for actions.`,
      );
    this.statusBar.tooltip = tooltip(this.serviceUrl(server));
    this.statusBar.show();
    // In a remote window the URL the person can use is the forwarded one (asExternalUri).
    void this.externalServiceUrl(server).then(
      (url) => {
        if (this.process === server) this.statusBar.tooltip = tooltip(url);
      },
      (error: unknown) =>
        this.log.warn(`No external URL for the local server: ${(error as Error).message}`),
    );
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const wasRunning = this.process !== undefined;
    this.forget();
    if (wasRunning && !this.stopping) {
      this.log.error(`The local DICOMweb server stopped unexpectedly (${code ?? signal})`);
      void vscode.window
        .showErrorMessage(
          `The local DICOMweb server stopped unexpectedly (${code ?? signal}).`,
          'Restart',
          'Show Log',
        )
        .then((choice) => {
          if (choice === 'Restart')
            void vscode.commands.executeCommand('dicomweb.localServer.start');
          if (choice === 'Show Log') this.log.show(true);
        });
    }
  }

  private forget(): void {
    this.process = undefined;
    this.setRunningContext();
    this.statusBar.hide();
    if (this.connections.isTransient(LOCAL_CONNECTION_ID))
      void this.connections.remove(LOCAL_CONNECTION_ID);
  }

  /**
   * `dicomweb.localServer.running` and `dicomweb.localServer.requiresToken` for `when`
   * clauses: Stop, Restart and the copy commands are offered only while it runs.
   */
  private setRunningContext(): void {
    void vscode.commands.executeCommand(
      'setContext',
      'dicomweb.localServer.running',
      this.process !== undefined,
    );
    void vscode.commands.executeCommand(
      'setContext',
      'dicomweb.localServer.requiresToken',
      this.process !== undefined && this.tokenRequired,
    );
  }

  dispose(): void {
    this.statusBar.dispose();
    void this.process?.stop();
    this.process = undefined;
  }
}
