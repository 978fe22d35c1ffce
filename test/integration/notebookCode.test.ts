/**
 * "Every request as code" from a notebook (issue 15), in the real extension host: Copy Request
 * as cURL / Python / JavaScript of a cell, and Export Notebook as Shell Script, with their
 * answers passed as arguments (format, connection, target file) instead of the quick picks and
 * the save dialog a person answers. Two connections are configured, so without the connection
 * argument the command would have to ask; the bearer connection's real token never appears.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, executeCommand } from './helpers';

const TOKEN = 'notebook-code-real-token-7f3';
const BEARER = {
  id: 'it-nb-code-bearer',
  name: 'Code bearer',
  url: 'http://127.0.0.1:9/v2',
  kind: 'azure',
  auth: 'bearer',
  secret: TOKEN,
};
const OTHER = { id: 'it-nb-code-other', name: 'Code other', url: 'http://127.0.0.1:8/dicom-web' };
const STUDY = '1.2.826.0.1.3680043.8.498.1';
const NOTEBOOK = `# Code

\`\`\`dicomweb
GET /studies?PatientID=PAT-7&limit=5
Accept: application/dicom+json
\`\`\`

\`\`\`dicomweb
GET /studies/${STUDY}/metadata
Accept: application/dicom+json
\`\`\`
`;

describe('DICOMweb notebook code commands', function () {
  this.timeout(60_000);
  let notebook: vscode.NotebookDocument;
  let folder: string;

  before(async () => {
    await activateExtension();
    await executeCommand('dicomweb.server.add', BEARER);
    await executeCommand('dicomweb.server.add', OTHER);
    folder = mkdtempSync(join(tmpdir(), 'dicomweb-it-notebook-code-'));
    const file = join(folder, 'code.dicomweb.md');
    writeFileSync(file, NOTEBOOK);
    notebook = await vscode.workspace.openNotebookDocument(vscode.Uri.file(file));
    await vscode.window.showNotebookDocument(notebook);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('servers', [], vscode.ConfigurationTarget.Global);
  });

  it("copies a cell as cURL, Python and JavaScript naming the chosen connection's URL, never its token", async () => {
    const cell = notebook.cellAt(1);
    const expected: Record<string, RegExp[]> = {
      curl: [/^curl /, /--header "Authorization: Bearer \{token value\}"/],
      python: [/DICOMwebClient\(/, /search_for_studies\(/, /PAT-7/],
      javascript: [/new api\.DICOMwebClient\(/, /searchForStudies\(/, /PAT-7/],
    };
    for (const [format, patterns] of Object.entries(expected)) {
      const text = await executeCommand<string>(
        'dicomweb.notebook.copyCellAsCode',
        cell,
        format,
        BEARER.id,
      );
      assert.equal(
        await vscode.env.clipboard.readText(),
        text,
        `${format}: the clipboard holds it`,
      );
      assert.ok(text.includes(BEARER.url), `${format} names ${BEARER.url}:\n${text}`);
      for (const pattern of patterns) assert.match(text, pattern, format);
      assert.ok(!text.includes(TOKEN), `${format}: the real token is not in the code`);
    }
    const other = await executeCommand<string>(
      'dicomweb.notebook.copyCellAsCode',
      notebook.cellAt(2),
      'curl',
      OTHER.id,
    );
    assert.ok(other.includes(`${OTHER.url}/studies/${STUDY}/metadata`), other);
  });

  it('says which formats there are, and which connection is missing, copying nothing', async () => {
    await vscode.env.clipboard.writeText('unchanged');
    for (const args of [
      ['rust', BEARER.id],
      ['curl', 'no-such-connection'],
    ]) {
      const text = await executeCommand<string | undefined>(
        'dicomweb.notebook.copyCellAsCode',
        notebook.cellAt(1),
        ...args,
      );
      assert.equal(text, undefined, args.join(' '));
      assert.equal(await vscode.env.clipboard.readText(), 'unchanged');
    }
  });

  it('exports the notebook as a shell script that sh -n reads, with the credential a placeholder', async () => {
    const target = vscode.Uri.file(join(folder, 'exported.sh'));
    const written = await executeCommand<vscode.Uri>(
      'dicomweb.notebook.exportShell',
      notebook.uri,
      target,
      BEARER.id,
    );
    assert.equal(written.fsPath, target.fsPath);
    const script = readFileSync(target.fsPath, 'utf8');
    execFileSync('sh', ['-n', target.fsPath]);
    assert.match(script, /^#!\/bin\/sh\n/);
    assert.match(script, /^# # Code$/m, 'the Markdown cell as a comment');
    assert.equal(script.match(/^curl /gm)?.length, 2, 'one cURL command per request cell');
    assert.ok(script.includes(`${BEARER.url}/studies/${STUDY}/metadata`), script);
    assert.ok(script.includes('Bearer {token value}'));
    assert.ok(!script.includes(TOKEN), 'the real token is not in the script');
  });
});
