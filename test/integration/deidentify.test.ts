/**
 * "Save De-identified Copy…" in the real extension host, on a file of the workspace: the
 * copy is written beside it with the profile's changes (PS3.15 Annex E), the source is
 * byte-identical afterwards, and a second run never overwrites the first copy.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { readDataSet } from '../../src/dicom/part10';
import { ensureSampleFiles } from '../support/sampleFiles';
import { activateExtension, executeCommand, waitFor } from './helpers';

interface SaveResult {
  files: Array<{ source: string; output?: string; error?: string; changes: unknown[] }>;
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('Save De-identified Copy', function () {
  this.timeout(60_000);
  let folder: string;

  before(async () => {
    await activateExtension();
    const workspace = await waitFor(() => vscode.workspace.workspaceFolders?.[0], {
      description: 'the test workspace folder',
    });
    folder = join(workspace.uri.fsPath, 'deidentify');
    await mkdir(folder, { recursive: true });
  });

  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('writes name.deid.dcm beside a workspace file, with the profile applied, source untouched', async () => {
    const catalog = await ensureSampleFiles();
    const source = join(folder, 'CT_small.dcm');
    await copyFile(catalog.files.ctSmall.path, source);
    const before = await readFile(source);
    const uri = vscode.Uri.file(source);

    const result = await executeCommand<SaveResult>('dicomweb.file.saveDeidentified', uri, [uri], {
      options: ['retainLongitudinalModifiedDates'],
      destination: 'beside',
    });

    assert.equal(result.files.length, 1);
    const [file] = result.files;
    assert.equal(file!.error, undefined);
    assert.equal(file!.output, join(folder, 'CT_small.deid.dcm'));
    assert.equal(sha(await readFile(source)), sha(before), 'the source is not modified');

    const original = readDataSet(before);
    const copy = readDataSet(await readFile(file!.output!));
    assert.equal(copy.string('x00120062'), 'YES');
    assert.equal(copy.string('x00280303'), 'MODIFIED');
    assert.equal(copy.elements['x00100010']!.length, 0, "Patient's Name emptied");
    assert.notEqual(copy.string('x0020000d'), original.string('x0020000d'));
    assert.equal(copy.string('x00020003'), copy.string('x00080018'));
    assert.notEqual(copy.string('x00080020'), original.string('x00080020'), 'Study Date shifted');
    const privateTags = Object.keys(copy.elements).filter(
      (k) => parseInt(k.slice(1, 5), 16) % 2 === 1,
    );
    assert.deepEqual(privateTags, []);
    const pixels = (ds: typeof copy) => {
      const e = ds.elements['x7fe00010']!;
      return sha(ds.byteArray.subarray(e.dataOffset, e.dataOffset + e.length));
    };
    assert.equal(pixels(copy), pixels(original), 'Pixel Data byte-identical');

    const again = await executeCommand<SaveResult>('dicomweb.file.saveDeidentified', uri, [uri], {
      options: [],
      destination: 'beside',
    });
    assert.equal(
      again.files[0]!.output,
      join(folder, 'CT_small.deid-2.dcm'),
      'the first copy is kept',
    );
  });
});
