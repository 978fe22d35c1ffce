/**
 * "Preview DICOM File" on local files in the real extension host: the file is read from
 * disk (no server), cut into frames and drawn by the real webview, which reports its first
 * drawn frame. Covers a native file and compressed ones the webview decodes itself.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ensureSampleFiles } from '../support/sampleFiles';
import { SEED, writeSeedFiles } from '../support/seedData';
import { activateExtension, executeCommand } from './helpers';

interface FirstFrameShown {
  title: string;
  frameNumber: number;
  path: string;
  elapsedMs: number;
}

interface Api {
  services: { previews: { onDidShowFirstFrame: vscode.Event<FirstFrameShown> } };
}

describe('Preview of local DICOM files', function () {
  this.timeout(60_000);
  let api: Api;

  before(async () => {
    api = (await activateExtension()) as Api;
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  /** Runs the command and resolves with the webview's report of its first drawn frame. */
  async function previewAndWait(file: string): Promise<FirstFrameShown> {
    const shown = new Promise<FirstFrameShown>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no frame of ${file} was drawn within 30 s`)),
        30_000,
      );
      const subscription = api.services.previews.onDidShowFirstFrame((event) => {
        clearTimeout(timer);
        subscription.dispose();
        resolve(event);
      });
    });
    await executeCommand('dicomweb.file.preview', vscode.Uri.file(file));
    return shown;
  }

  it("draws the seed's red triangle from a .dcm file on disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomweb-it-file-preview-'));
    await writeSeedFiles(dir);
    const shown = await previewAndWait(join(dir, SEED.redTriangle.fileName));
    assert.equal(shown.frameNumber, 1);
    assert.match(shown.title, /red-triangle/);
  });

  it('draws nothing for a file without pixel data (an SR): no frame is reported', async () => {
    const catalog = await ensureSampleFiles();
    let drawn = false;
    const subscription = api.services.previews.onDidShowFirstFrame(() => {
      drawn = true;
    });
    try {
      await executeCommand(
        'dicomweb.file.preview',
        vscode.Uri.file(catalog.files.structuredReport.path),
      );
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(drawn, false, 'an SR has no frame to draw');
    } finally {
      subscription.dispose();
    }
  });

  for (const [name, label] of [
    ['j2kLossless', 'JPEG 2000'],
    ['rleMr', 'RLE'],
    ['jpegLsLossless', 'JPEG-LS'],
    ['jpegBaselineRgb', 'JPEG baseline'],
  ] as const) {
    it(`decodes a ${label} file in the webview and draws frame 1`, async () => {
      const catalog = await ensureSampleFiles();
      const sample = catalog.files[name];
      assert.ok(sample, `the sample catalog has ${name}`);
      const shown = await previewAndWait(sample.path);
      assert.equal(shown.frameNumber, 1);
    });
  }
});
