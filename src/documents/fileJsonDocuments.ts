/**
 * A local DICOM file as a read-only DICOM JSON document, the same kind of document as WADO-RS
 * metadata (metadataDocuments.ts): `dicomweb-file-json:/{file name}.json?file={file URI}`.
 * One document per file (the URI is the file's), with the tag hovers and inline keywords of
 * tagHints.ts; `&compare=1` gives the normalized form "Compare with Server" diffs.
 */
import * as vscode from 'vscode';
import { readLocalDicomJson } from '../dicom/localFileJson';
import { formatMetadata } from './metadataDocuments';

export const FILE_JSON_SCHEME = 'dicomweb-file-json';

/** The document URI of a local file's DICOM JSON. */
export function fileJsonUri(file: vscode.Uri, options: { compare?: boolean } = {}): vscode.Uri {
  const name = file.path.split('/').pop() || 'file';
  const query = new URLSearchParams({ file: file.toString() });
  if (options.compare) query.set('compare', '1');
  return vscode.Uri.from({
    scheme: FILE_JSON_SCHEME,
    path: `/${name}${options.compare ? ' (local, for comparison)' : ''}.json`,
    query: query.toString(),
  });
}

/** The local file a document URI shows. */
export function fileOf(uri: vscode.Uri): vscode.Uri {
  return vscode.Uri.parse(new URLSearchParams(uri.query).get('file') ?? '', true);
}

export class FileJsonDocumentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const file = fileOf(uri);
    const compare = new URLSearchParams(uri.query).get('compare') === '1';
    try {
      const { dataset, warnings, note } = await readLocalDicomJson(file.fsPath, {
        bulkDataBase: file.toString(),
      });
      for (const warning of warnings) this.log.warn(`${file.fsPath}: ${warning}`);
      // The JSON keeps the form of WADO-RS metadata: what it leaves out is said beside it.
      if (note) void vscode.window.showWarningMessage(`${file.fsPath}: ${note}`);
      return formatMetadata([dataset], { compare });
    } catch (error) {
      // The document stays valid JSON and says what went wrong, like a metadata document.
      const message = error instanceof Error ? error.message : String(error);
      return JSON.stringify({ error: `${file.fsPath}: ${message}` }, null, 2);
    }
  }
}
