/**
 * Upload reports as read-only virtual documents (`dicomweb-upload-report:`): an untitled
 * document asked to be saved when closed, which a report nobody edits should not.
 * The texts live in memory, the last KEPT_REPORTS (outcomeText.ts) of them.
 */
import * as vscode from 'vscode';
import { KEPT_REPORTS, KeptTexts } from '../dicomweb/transfer/outcomeText';

export const UPLOAD_REPORT_SCHEME = 'dicomweb-upload-report';

class UploadReportProvider implements vscode.TextDocumentContentProvider {
  private readonly texts = new KeptTexts(KEPT_REPORTS);
  private counter = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '# This upload report is no longer kept\n';
  }

  add(title: string, text: string): vscode.Uri {
    const safe =
      title
        .replace(/[\\/:*?"<>|#%]+/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 100) || 'upload';
    // The `.md` path makes VS Code pick Markdown; the counter keeps two reports apart.
    const path = `/${safe} (${++this.counter}).md`;
    this.texts.set(path, text);
    return vscode.Uri.from({ scheme: UPLOAD_REPORT_SCHEME, path });
  }
}

let provider: UploadReportProvider | undefined;

/** Registers the provider on first use; disposed with the extension. */
function reports(subscriptions: vscode.Disposable[]): UploadReportProvider {
  if (!provider) {
    const created = new UploadReportProvider();
    subscriptions.push(
      vscode.workspace.registerTextDocumentContentProvider(UPLOAD_REPORT_SCHEME, created),
      { dispose: () => (provider = undefined) },
    );
    provider = created;
  }
  return provider;
}

/** Opens a report read-only, in preview. */
export async function showUploadReport(
  subscriptions: vscode.Disposable[],
  title: string,
  markdown: string,
): Promise<vscode.TextDocument> {
  const document = await vscode.workspace.openTextDocument(
    reports(subscriptions).add(title, markdown),
  );
  await vscode.window.showTextDocument(document, { preview: true });
  return document;
}
