import type * as vscode from 'vscode';
import type { ClientFactory } from './config/clients';
import type { ConnectionStore } from './config/connections';
import type { CredentialGate } from './config/credentialGate';
import type { UserPrompts } from './config/prompts';
import type { MetadataDocumentProvider } from './documents/metadataDocuments';
import type { DicomEditorProvider } from './editor/DicomEditorProvider';
import type { LocalServerManager } from './localServerHost/LocalServerManager';
import type { PreviewManager } from './preview/PreviewManager';
import type { ThumbnailThread } from './thumbnails/decodeWorker';
import type { ThumbnailGridManager } from './thumbnailsHost/ThumbnailGridManager';
import type { ChangeFeedTreeProvider } from './tree/ChangeFeedTreeProvider';
import type { DicomWebTreeProvider } from './tree/DicomWebTreeProvider';
import type { UploadDropController } from './tree/dragAndDrop';
import type { DicomWebNode } from './tree/nodes/DicomWebNode';

/**
 * What activate() builds once; every command receives it. Only commands and extension.ts
 * import this file: everything below them gets the parts it needs passed in.
 */
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
  /** Thumbnail grids of series (the tree's tooltips use the same per-connection cache). */
  thumbnails: ThumbnailGridManager;
  /** The worker thread that draws tooltips' thumbnails from frames (thumbnails/decodeWorker.ts). */
  thumbnailThread: ThumbnailThread;
  /** The DICOM file editor (tag table beside the viewer). */
  dicomEditor: DicomEditorProvider;
  localServer: LocalServerManager;
  prompts: UserPrompts;
  /** The "Change Feed" view (Azure DICOM service, local server). */
  changeFeed: ChangeFeedTreeProvider;
  changeFeedView: vscode.TreeView<DicomWebNode>;
}
