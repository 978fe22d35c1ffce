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
export async function newNotebook(): Promise<vscode.NotebookDocument> {
  const data = new DicomWebNotebookSerializer().deserializeNotebook(
    new TextEncoder().encode(NEW_NOTEBOOK),
  );
  const notebook = await vscode.workspace.openNotebookDocument(NOTEBOOK_TYPE, data);
  await vscode.window.showNotebookDocument(notebook);
  return notebook;
}
