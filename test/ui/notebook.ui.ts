/**
 * A DICOMweb notebook in the real workbench, run on Orthanc: a QIDO-RS search shows its
 * table, a frames cell its frame drawn by the extension's notebook renderer (the preview's
 * decoder and pipeline, on a canvas). Saves the README's screenshot of the two outputs.
 */
import * as assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { tempDir } from '../support/env';
import { SEED } from '../support/seedData';
import { waitForRow } from './helpers/actions';
import { CONNECTION_NAME, orthancConnection, seedOrthanc } from './helpers/orthanc';
import { scenario } from './scenario';
import { REPO_ROOT, openViewContainer, screenshot, startWorkbench } from './workbench';

const FILE = 'shapes.dicomweb.md';
const RED = SEED.redTriangle;
const NOTEBOOK = `# Shapes

Find the study's instances, then look at the red triangle's frame.

\`\`\`dicomweb
GET /studies/${SEED.studyInstanceUid}/instances?includefield=InstanceNumber
Accept: application/dicom+json
\`\`\`

\`\`\`dicomweb
GET /studies/${RED.studyInstanceUid}/series/${RED.seriesInstanceUid}/instances/${RED.sopInstanceUid}/frames/1
Accept: multipart/related; type="application/octet-stream"; transfer-syntax=*
\`\`\`
`;

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

scenario('a notebook: a QIDO-RS table and a frame drawn by the notebook renderer', async () => {
  const client = await seedOrthanc();
  const workspace = join(tempDir('ui-notebook'), 'workspace');
  cpSync(join(REPO_ROOT, 'test', 'integration', 'fixtures', 'workspace'), workspace, {
    recursive: true,
  });
  writeFileSync(join(workspace, FILE), NOTEBOOK);
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
    // Its own toolbar, as a person does it: the kernel picker, then Run All.
    await editor.locator('.kernel-action-view-item').first().click({ timeout: 30_000 });
    await page
      .locator('.quick-input-widget .monaco-list-row', { hasText: CONNECTION_NAME })
      .first()
      .click({ timeout: 15_000 });
    await editor
      .locator('.notebook-toolbar-container .action-label[aria-label^="Run All"]')
      .first()
      .click({ timeout: 15_000 });

    const output = await outputFrame(page, 'canvas.dicomweb-frame', 60_000);
    // The search's table: a row per instance, the red triangle's UID among them.
    await output
      .locator('td', { hasText: RED.sopInstanceUid })
      .first()
      .waitFor({ timeout: 15_000 });
    assert.match(
      await output
        .locator('p', { hasText: /rows?\./ })
        .first()
        .innerText(),
      /^3 rows\.$/,
    );
    // The frame: drawn, red inside the triangle (the canvas's own pixels, not a screenshot).
    const canvas = output.locator('canvas.dicomweb-frame').first();
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
    assert.match(
      await output.locator('p', { hasText: 'Frame 1' }).first().innerText(),
      /^Frame 1 · 64×64 · native/,
    );
    await page.mouse.move(5, 890);
    await screenshot(page, 'notebook');
  } finally {
    await workbench.close();
    await client.close();
  }
});
