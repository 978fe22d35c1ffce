import type * as vscode from 'vscode';
import type { ClientFactory } from './config/clients';
import type { ConnectionStore } from './config/connections';
import type { CredentialGate } from './config/credentialGate';
import type { MetadataDocumentProvider } from './documents/metadataDocuments';
import type { LocalServerManager } from './localServerHost/LocalServerManager';
import type { PreviewManager } from './preview/PreviewManager';
import type { DicomWebTreeProvider } from './tree/DicomWebTreeProvider';
import type { UploadDropController } from './tree/dragAndDrop';
import type { DicomWebNode } from './tree/nodes/DicomWebNode';

/**
 * Questions the extension asks a person. One seam so that integration tests in the real
 * extension host can answer a modal dialog that Playwright UI tests click for real.
 */
export interface UserPrompts {
  /** A modal warning; resolves true only when the person chose `action`. */
  confirm(message: string, detail: string, action: string): Promise<boolean>;
  /** A password-style input (a token or password after a 401); undefined when dismissed. */
  askSecret(title: string, prompt: string): Promise<string | undefined>;
}

/** What activate() builds once; every command receives it. */
export interface Services {
  extensionContext: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  connections: ConnectionStore;
  clients: ClientFactory;
  /** Approvals of workspace connections' origins and of Entra ID off Azure hosts. */
  credentials: CredentialGate;
  tree: DicomWebTreeProvider;
  treeView: vscode.TreeView<DicomWebNode>;
  /** Files dropped on a server or study row are uploaded there. */
  drop: UploadDropController;
  metadata: MetadataDocumentProvider;
  previews: PreviewManager;
  localServer: LocalServerManager;
  prompts: UserPrompts;
}
