import * as vscode from 'vscode';
import { DicomWebNotebookSerializer, NOTEBOOK_TYPE } from '../notebookHost/serializer';

/** What a new notebook starts with: how to write a cell, one of each kind. */
export const NEW_NOTEBOOK = `# DICOMweb notebook

Pick a connection as the kernel (top right) and run a cell. A cell is a request
(\`GET /studies?PatientName=Doe*\` and headers) or a cURL command as pasted; name it with
\`# @name\` and use its answer later as \`{{name.0.StudyInstanceUID}}\`.

\`\`\`dicomweb
# @name studies
GET /studies?limit=10
Accept: application/dicom+json
\`\`\`

\`\`\`dicomweb
GET /studies/{{studies.0.StudyInstanceUID}}/series
Accept: application/dicom+json
\`\`\`
`;

/** `dicomweb.notebook.new`: an untitled DICOMweb notebook with a first search in it. */
export async function newNotebook(log: vscode.LogOutputChannel): Promise<vscode.NotebookDocument> {
  const data = new DicomWebNotebookSerializer().deserializeNotebook(
    new TextEncoder().encode(NEW_NOTEBOOK),
  );
  const notebook = await vscode.workspace.openNotebookDocument(NOTEBOOK_TYPE, data);
  showWithoutWaiting(notebook, log);
  return notebook;
}

/**
 * Shows a notebook without holding the command until its editor exists: on a cold workbench
 * that takes seconds, and an editor opened meanwhile replaces it ("Notebook Editor creation
 * failure"). The document is open either way, so that is a note in the log, not a failure.
 */
export function showWithoutWaiting(
  notebook: vscode.NotebookDocument,
  log: vscode.LogOutputChannel,
): void {
  void vscode.window
    .showNotebookDocument(notebook)
    .then(undefined, (error: unknown) =>
      log.warn(
        `The notebook ${notebook.uri.toString(true)} is open but its editor was not shown: ${(error as Error).message}`,
      ),
    );
}
