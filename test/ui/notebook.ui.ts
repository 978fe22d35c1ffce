/**
 * A DICOMweb notebook in the real workbench, run on Orthanc: a QIDO-RS search shows its
 * table (the extension's renderer), a click on a row's "Show" selects that instance in the
 * DICOMweb tree (the renderer's message to the extension), a frames cell its frame drawn by
 * the renderer (the preview's decoder and pipeline, on a canvas), and a JPEG 2000 frame drawn
 * with the OpenJPEG WebAssembly codec the renderer loads beside itself. Saves the README's
 * screenshot of the outputs.
 *
 * The kernel: Run All from the notebook's own toolbar (the palette did not offer "Notebook:
 * Run All" nor "Select Notebook Kernel": its precondition wants the notebook focused), then
 * VS Code's kernel picker, which lists the kernels' source (the extension) first, then its
 * kernels (code-server 4.139.1: resolveKernel takes only a selected kernel, or the only one).
 */
import * as assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { readDataSet } from '../../src/dicom/part10';
import { ParserTag } from '../../src/dicom/tags';
import { tempDir } from '../support/env';
import { ensureSampleFiles } from '../support/sampleFiles';
import { SEED } from '../support/seedData';
import { waitForRow } from './helpers/actions';
import { CONNECTION_NAME, orthancConnection, seedOrthanc } from './helpers/orthanc';
import { scenario } from './scenario';
import { REPO_ROOT, openViewContainer, runCommand, screenshot, startWorkbench } from './workbench';

const FILE = 'shapes.dicomweb.md';
const RED = SEED.redTriangle;

/** The search, the red triangle's frame as stored (native) and a JPEG 2000 frame as stored. */
function notebookText(j2k: { study: string; series: string; sop: string }): string {
  return `# Shapes

Find the study's instances, then look at the red triangle's frame and an MR stored as JPEG 2000.

\`\`\`dicomweb
GET /studies/${SEED.studyInstanceUid}/instances?includefield=InstanceNumber
Accept: application/dicom+json
\`\`\`

\`\`\`dicomweb
GET /studies/${RED.studyInstanceUid}/series/${RED.seriesInstanceUid}/instances/${RED.sopInstanceUid}/frames/1
Accept: multipart/related; type="application/octet-stream"; transfer-syntax=*
\`\`\`

\`\`\`dicomweb
GET /studies/${j2k.study}/series/${j2k.series}/instances/${j2k.sop}/frames/1
Accept: multipart/related; type="application/octet-stream"; transfer-syntax=*
\`\`\`
`;
}

/**
 * Run All, as a person does it, and the server picked as the kernel when VS Code asks (what
 * the picker offered is said when the server is not among it).
 */
async function runAll(page: Page, name: string): Promise<void> {
  // The notebook's own toolbar acts on its notebook whatever has the focus; the palette's
  // "Notebook: Run All" needs the notebook to be the focused editor (a run offered it not).
  const button = page
    .locator('.notebook-editor .notebook-toolbar-container .action-label[aria-label^="Run All"]')
    .first();
  const shown = await button
    .waitFor({ state: 'visible', timeout: 20_000 })
    .then(() => true)
    .catch(() => false);
  if (shown) await button.click();
  else {
    await page
      .locator('.notebook-editor .cell-focus-indicator, .notebook-editor .cell')
      .first()
      .click();
    await runCommand(page, 'Notebook: Run All', 30_000);
  }
  const rows = page.locator('.quick-input-widget .monaco-list-row');
  const asked = await rows
    .first()
    .waitFor({ state: 'visible', timeout: 5000 })
    .then(() => true)
    .catch(() => false);
  if (!asked) return;
  // VS Code may first ask for the kernels' source (the extension), then for the kernel.
  const source = rows.filter({ hasText: 'DICOMweb Explorer' }).first();
  const byName = rows.filter({ hasText: name }).first();
  if (!(await byName.isVisible()) && (await source.isVisible())) {
    await source.click();
    await byName.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
  }
  const offered = (await rows.allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
  // By the keyboard, as a person may: a click on the row can land on the hover another
  // kernel's description opened over it (measured: "started when a cell runs").
  await page.mouse.move(0, 0);
  await page.keyboard.type(name);
  const row = rows.filter({ hasText: name }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 }).catch((error: unknown) => {
    throw new Error(`the kernel picker offered: ${offered.join(' | ')} (${String(error)})`);
  });
  await page.keyboard.press('Enter');
  // The kernel is now the notebook's (its name in the toolbar), but the Run All that asked for
  // it ran nothing (code-server 4.139.1, measured): run all again, on the chosen kernel.
  await page
    .locator('.notebook-editor .notebook-toolbar-container', { hasText: name })
    .first()
    .waitFor({ timeout: 10_000 });
  await button.click();
}

/** A canvas element as the page's code sees it (the tests compile without the DOM library). */
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  };
}

/** The notebook's output webview: the visible one holding `selector`. */
async function outputFrame(page: Page, selector: string, timeoutMs: number): Promise<FrameLocator> {
  const hosts = page.locator('iframe.webview.ready');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (let index = (await hosts.count()) - 1; index >= 0; index--) {
      const inner = hosts.nth(index).contentFrame().frameLocator('#active-frame');
      if (
        (await inner
          .locator(selector)
          .count()
          .catch(() => 0)) > 0
      )
        return inner;
    }
    if (Date.now() > deadline) throw new Error(`no webview shows ${selector} in ${timeoutMs} ms`);
    await page.waitForTimeout(250);
  }
}

scenario(
  'a notebook: a QIDO-RS table whose Show selects the tree row, frames drawn by the renderer',
  async () => {
    const j2kFile = (await ensureSampleFiles()).files.j2kLossless.path;
    const j2kSet = readDataSet(readFileSync(j2kFile));
    const j2k = {
      study: j2kSet.string(ParserTag.StudyInstanceUID)!,
      series: j2kSet.string(ParserTag.SeriesInstanceUID)!,
      sop: j2kSet.string(ParserTag.SOPInstanceUID)!,
    };
    const client = await seedOrthanc([j2kFile]);
    const workspace = join(tempDir('ui-notebook'), 'workspace');
    cpSync(join(REPO_ROOT, 'test', 'integration', 'fixtures', 'workspace'), workspace, {
      recursive: true,
    });
    writeFileSync(join(workspace, FILE), notebookText(j2k));
    const workbench = await startWorkbench({
      workspaceFolder: workspace,
      settings: {
        'dicomweb.servers': [orthancConnection()],
        // Every kernel in one list: the picker shows the connection directly.
        'notebook.kernelPicker.type': 'all',
      },
    });
    try {
      const { page } = workbench;
      // The extension host first (see dicomEditor.ui.ts): the DICOMweb view's rows show it is up.
      await openViewContainer(page, 'DICOMweb');
      await waitForRow(page, CONNECTION_NAME, 90_000);
      await openViewContainer(page, 'Explorer');
      await (await waitForRow(page, FILE)).dblclick();
      const editor = page.locator('.notebook-editor').first();
      await editor.waitFor({ timeout: 30_000 });
      // The notebook's tab to the front: the extension's walkthrough may have opened over it.
      await page.locator('.tabs-container .tab', { hasText: FILE }).first().click();
      await runAll(page, CONNECTION_NAME);

      const output = await outputFrame(page, 'canvas.dicomweb-frame', 60_000).catch(
        async (error: unknown) => {
          await page.screenshot({ path: '/tmp/nb-fail.png' });
          throw error;
        },
      );
      // The search's table, drawn by our renderer: a row per instance, the red triangle's UID.
      const redRow = output.locator('table.dicomweb-search tr', { hasText: RED.sopInstanceUid });
      await redRow.first().waitFor({ timeout: 15_000 });
      assert.match(
        await output
          .locator('p', { hasText: /rows?\./ })
          .first()
          .innerText(),
        /^3 rows\.$/,
      );
      // The frame: drawn, red inside the triangle (the canvas's own pixels, not a screenshot).
      // Both frames are 64×64: the red triangle's canvas is the one its "native" caption follows.
      const nativeCaption = output.locator('p', { hasText: /^Frame 1 · 64×64 · native/ }).first();
      await nativeCaption.waitFor({ timeout: 30_000 });
      const canvas = nativeCaption.locator('xpath=preceding-sibling::canvas[1]');
      const counts = await canvas.evaluate((element) => {
        const c = element as unknown as Canvas;
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let red = 0;
        let other = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i] === 255 && data[i + 1] === 0 && data[i + 2] === 0) red++;
          else if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 0) other++;
        }
        return { width: c.width, height: c.height, red, other };
      });
      assert.equal(counts.width, 64);
      assert.equal(counts.height, 64);
      assert.ok(counts.red > 900, `the triangle is drawn red (${counts.red} red pixels)`);
      assert.equal(counts.other, 0, 'every other pixel is black');
      assert.match(await nativeCaption.innerText(), /^Frame 1 · 64×64 · native · window /);
      // The JPEG 2000 frame: decoded in the output webview by OpenJPEG's WebAssembly.
      const j2kCaption = output.locator('p', { hasText: 'OpenJPEG' }).first();
      await j2kCaption.waitFor({ timeout: 30_000 });
      assert.match(await j2kCaption.innerText(), /^Frame 1 · 64×64 · OpenJPEG/);

      // A real click on the red triangle's "Show": the tree selects its instance.
      await redRow.locator('button.dicomweb-show').first().click();
      // The Explorer's own selection (the notebook file) is there first: wait for the instance.
      const selected = page
        .locator('.part.sidebar .monaco-list-row.selected', { hasText: /Instance/ })
        .first();
      await selected.waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(
        await selected.getAttribute('aria-level'),
        '4',
        'server › study › series › instance',
      );
      // The README's picture: the table's rows and the frame below them, no toast over them
      // (the find's progress closes once it selected the row).
      await page
        .locator('.notifications-toasts .notification-toast')
        .first()
        .waitFor({ state: 'hidden', timeout: 15_000 })
        .catch(() => undefined);
      await page.mouse.move(800, 500);
      await page.mouse.wheel(0, 330);
      await page.waitForTimeout(750);
      await page.mouse.move(5, 890);
      await screenshot(page, 'notebook');
    } finally {
      await workbench.close();
      await client.close();
    }
  },
);
