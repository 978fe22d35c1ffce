/**
 * The frame preview in the real workbench, from instances stored in Orthanc: the seed's red
 * triangle where SEED_GEOMETRY puts it (checked in a screenshot of the webview's canvas),
 * a multi-frame instance whose frame 2 differs from frame 1, and a JPEG 2000 instance that
 * Orthanc cannot transcode, decoded in the webview.
 */
import * as assert from 'node:assert/strict';
import type { FrameLocator, Page } from 'playwright-core';
import type { DicomWebClient } from '../../src/dicomweb';
import { formatPersonName, getString } from '../../src/dicom/json';
import { ensureSampleFiles } from '../support/sampleFiles';
import { SEED_GEOMETRY, SEED_IMAGE_SIZE, isInsideShape } from '../support/seedData';
import {
  describeRows,
  expandRow,
  sideBarRow,
  waitForNewActiveTab,
  waitForRow,
  webviewTitled,
  widenSideBar,
} from './helpers/actions';
import { orthancConnection, seedOrthanc } from './helpers/orthanc';
import { decodePng, rgbAt } from './helpers/png';
import { scenario } from './scenario';
import { openViewContainer, screenshot, startWorkbench, treeRows } from './workbench';

const SEED_STUDY_LABEL = 'Test, Shapes — DICOMweb tutorial shapes';

scenario(
  'preview of the red triangle: red pixels where SEED_GEOMETRY puts the triangle, black elsewhere',
  async () => {
    const client = await seedOrthanc();
    const workbench = await startWorkbench({
      settings: { 'dicomweb.servers': [orthancConnection()] },
    });
    try {
      const { page } = workbench;
      await openViewContainer(page, 'DICOMweb');
      await widenSideBar(page, 420);
      await expandRow(await waitForRow(page, SEED_STUDY_LABEL));
      await expandRow(await waitForRow(page, '#1 OT — Square and triangle'));
      // A click on the instance row opens the preview (its command), as a person would do it.
      await (await waitForRow(page, 'Instance 2')).click();
      const title = await waitForNewActiveTab(page, undefined);
      assert.equal(
        title,
        'Test, Shapes — series 1 — instance 2',
        "the panel's title names patient, series and instance",
      );

      const preview = await webviewTitled(page, title);
      const status = await waitForFrameShown(preview);
      assert.match(
        status,
        /^as stored \(transfer-syntax=\*\) · native · 1\.2\.840\.10008\.1\.2\.1 · application\/octet-stream$/,
        `the panel says how the frame came: ${status}`,
      );
      await page.mouse.move(5, 890); // no tree tooltip over the picture

      // What a person sees: the canvas as drawn on screen (scaled by the fit transform), the
      // overlay text hidden for the measurement only. Image pixel (x, y) covers the screen
      // cell [x·s, (x+1)·s) with s = shot width / 64; its centre is sampled.
      const corners = preview.locator('.corner');
      await corners.evaluateAll((elements) =>
        elements.forEach((element) => ((element as unknown as Styled).style.visibility = 'hidden')),
      );
      const shot = decodePng(await preview.locator('canvas.image').screenshot());
      await corners.evaluateAll((elements) =>
        elements.forEach((element) => ((element as unknown as Styled).style.visibility = '')),
      );
      assert.ok(
        shot.width >= SEED_IMAGE_SIZE * 4,
        `the 64×64 image is fitted to the panel (drawn ${shot.width}×${shot.height} px)`,
      );
      assert.ok(
        Math.abs(shot.width - shot.height) <= 2,
        `the square image keeps its aspect ratio (${shot.width}×${shot.height})`,
      );
      const scaleX = shot.width / SEED_IMAGE_SIZE;
      const scaleY = shot.height / SEED_IMAGE_SIZE;
      const wrong: string[] = [];
      let red = 0;
      for (let y = 0; y < SEED_IMAGE_SIZE; y++) {
        for (let x = 0; x < SEED_IMAGE_SIZE; x++) {
          const [r, g, b] = rgbAt(
            shot,
            Math.floor((x + 0.5) * scaleX),
            Math.floor((y + 0.5) * scaleY),
          );
          const inside = isInsideShape('redTriangle', x, y);
          const ok = inside ? r >= 200 && g <= 40 && b <= 40 : r <= 40 && g <= 40 && b <= 40;
          if (inside && ok) red++;
          if (!ok)
            wrong.push(
              `(${x},${y}) ${inside ? 'should be red' : 'should be black'}, is rgb(${r},${g},${b})`,
            );
        }
      }
      assert.equal(
        wrong.length,
        0,
        `${wrong.length} of 4096 image pixels are wrong on screen, e.g.:\n  ${wrong.slice(0, 12).join('\n  ')}`,
      );
      assert.ok(red > 900, `the triangle covers about a quarter of the image (${red} red pixels)`);
      const { interior } = SEED_GEOMETRY.redTriangle;
      assert.deepEqual(
        rgbAt(
          shot,
          Math.floor((interior.x + 0.5) * scaleX),
          Math.floor((interior.y + 0.5) * scaleY),
        ),
        [255, 0, 0],
        'the centroid is pure red',
      );

      // The overlay names what is shown.
      const overlay = (await preview.locator('.stage').innerText()).replace(/\s+/g, ' ');
      assert.match(
        overlay,
        /Test, Shapes.*SHAPES-0001.*2021-07-16.*DICOMweb tutorial shapes/,
        `overlay: ${overlay}`,
      );
      assert.match(overlay, /Instance 2/, `overlay: ${overlay}`);
      assert.match(overlay, /64 × 64/, `overlay: ${overlay}`);
      await screenshot(page, 'preview');
    } finally {
      await workbench.close();
      await client.close();
    }
  },
);

scenario(
  'preview of a multi-frame instance (frame 2 differs from frame 1) and of a JPEG 2000 instance',
  async () => {
    const catalog = await ensureSampleFiles();
    // 256×256 MR, 16 frames, Explicit VR LE.
    const multiFrame = catalog.files.daikonExplicitMultiFrame;
    const j2k = catalog.files.daikonJ2k; // 512×512 16-bit, JPEG 2000 (1.2.840.10008.1.2.4.91)
    const client = await seedOrthanc([multiFrame.path, j2k.path]);
    const workbench = await startWorkbench({
      settings: { 'dicomweb.servers': [orthancConnection()] },
    });
    try {
      const { page } = workbench;
      await openViewContainer(page, 'DICOMweb');
      await widenSideBar(page, 460);

      // --- multi-frame: the slider and the arrow key move through frames -----------------
      const multiFrameRow = await openFirstInstanceOfStudy(
        page,
        await studyLabel(client, multiFrame.sopInstanceUid),
      );
      assert.match(
        multiFrameRow,
        /16 frames · 256×256/,
        `the instance row says it has 16 frames: ${multiFrameRow}`,
      );
      const multiFrameTitle = await waitForNewActiveTab(page, undefined);
      let preview = await webviewTitled(page, multiFrameTitle);
      const firstStatus = await waitForFrameShown(preview);
      assert.match(
        firstStatus,
        /^as stored \(transfer-syntax=\*\) · native · 1\.2\.840\.10008\.1\.2\.1/,
        `frame 1 path: ${firstStatus}`,
      );
      await preview.locator('.framebar').waitFor({ state: 'visible' });
      assert.equal(await preview.locator('.frame-label').innerText(), '1 / 16');
      const frame1 = await canvasSignature(preview);
      assert.ok(
        frame1.distinct > 16,
        `frame 1 is an image, not a flat canvas (${frame1.distinct} grey levels)`,
      );

      await preview.locator('.stage').press('ArrowRight');
      await preview
        .locator('.corner.top-right', { hasText: 'Frame 2 / 16' })
        .waitFor({ timeout: 15_000 });
      const frame2 = await waitForCanvasChange(preview, frame1, 'frame 2 after ArrowRight');
      assert.equal(await preview.locator('.frame-label').innerText(), '2 / 16');
      assert.ok(
        frame2.differentCells > frame1.cells.length / 20,
        `frame 2 differs from frame 1 in ${frame2.differentCells} of ${frame1.cells.length} cells`,
      );

      await preview.locator('input.slider').fill('16');
      await preview
        .locator('.corner.top-right', { hasText: 'Frame 16 / 16' })
        .waitFor({ timeout: 15_000 });
      await waitForCanvasChange(preview, frame2, 'frame 16 after moving the slider');
      assert.equal(await preview.locator('.frame-label').innerText(), '16 / 16');
      await page.mouse.move(5, 890);
      await screenshot(page, 'preview-multiframe');

      // --- JPEG 2000: Orthanc (no GDCM) cannot transcode it; the webview decodes it -------
      const j2kRow = await openFirstInstanceOfStudy(
        page,
        await studyLabel(client, j2k.sopInstanceUid),
      );
      assert.match(j2kRow, /512×512/, `the J2K instance row: ${j2kRow}`);
      preview = await webviewTitled(page, await waitForNewActiveTab(page, multiFrameTitle));
      const j2kStatus = await waitForFrameShown(preview, 30_000);
      assert.match(
        j2kStatus,
        /^as stored \(transfer-syntax=\*\) · OpenJPEG · 1\.2\.840\.10008\.1\.2\.4\.91 · image\/jp2$/,
        `the panel says the frame came as stored and was decoded by OpenJPEG: ${j2kStatus}`,
      );
      const picture = await canvasSignature(preview);
      assert.equal(picture.width, 512);
      assert.equal(picture.height, 512);
      assert.ok(
        picture.distinct > 32 && picture.spread > 40,
        `the J2K frame is a picture, not a blank canvas (${picture.distinct} grey levels, spread ${picture.spread})`,
      );
      assert.ok(await preview.locator('.frame-error').isHidden(), 'no frame error');
      assert.ok(await preview.locator('#message').isHidden(), 'no message over the picture');
      const bottomLeft = (await preview.locator('.corner.bottom-left').innerText()).replace(
        /\s+/g,
        ' ',
      );
      assert.match(bottomLeft, /512 × 512.*OpenJPEG/, `overlay: ${bottomLeft}`);
    } finally {
      await workbench.close();
      await client.close();
    }
  },
);

/** Waits until the panel shows a frame (its status line says how it came) and returns that line. */
async function waitForFrameShown(preview: FrameLocator, timeoutMs = 20_000): Promise<string> {
  const path = preview.locator('.statusbar .path');
  const problem = preview.locator('#message:visible, .frame-error:visible').first();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await path.innerText().catch(() => '')).trim();
    if (text) return text;
    const message = await problem.innerText({ timeout: 200 }).catch(() => '');
    if (message && !/^Loading/.test(message))
      throw new Error(
        `the preview shows an error instead of a frame: ${message.replace(/\s+/g, ' ')}`,
      );
    if (Date.now() > deadline)
      throw new Error(
        `no frame shown within ${timeoutMs} ms${message ? ` (panel says: ${message})` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The DOM types this file uses inside the webview (the tests compile without the DOM lib). */
interface Styled {
  style: { visibility: string };
}
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray };
  } | null;
}

interface CanvasSignature {
  width: number;
  height: number;
  /** Mean luminance of a 32×32 grid of cells. */
  cells: number[];
  distinct: number;
  /** 95th minus 5th percentile of luminance. */
  spread: number;
}

/** What the canvas holds now (its own pixels, read in the webview). */
async function canvasSignature(preview: FrameLocator): Promise<CanvasSignature> {
  return preview.locator('canvas.image').evaluate((element) => {
    const canvas = element as unknown as Canvas;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const grid = 32;
    const sums = new Array<number>(grid * grid).fill(0);
    const counts = new Array<number>(grid * grid).fill(0);
    const histogram = new Array<number>(256).fill(0);
    for (let y = 0; y < canvas.height; y++) {
      for (let x = 0; x < canvas.width; x++) {
        const i = (y * canvas.width + x) * 4;
        const luminance = Math.round(0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]);
        histogram[luminance]++;
        const cell =
          Math.floor((y * grid) / canvas.height) * grid + Math.floor((x * grid) / canvas.width);
        sums[cell] += luminance;
        counts[cell]++;
      }
    }
    const total = canvas.width * canvas.height;
    const percentile = (p: number) => {
      let seen = 0;
      for (let value = 0; value < 256; value++) {
        seen += histogram[value];
        if (seen >= total * p) return value;
      }
      return 255;
    };
    return {
      width: canvas.width,
      height: canvas.height,
      cells: sums.map((sum, index) => sum / Math.max(1, counts[index])),
      distinct: histogram.filter((count) => count > 0).length,
      spread: percentile(0.95) - percentile(0.05),
    };
  });
}

/** Waits until the canvas differs from `before` (a redraw with another frame). */
async function waitForCanvasChange(
  preview: FrameLocator,
  before: CanvasSignature,
  what: string,
  timeoutMs = 15_000,
): Promise<CanvasSignature & { differentCells: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await canvasSignature(preview);
    const differentCells = now.cells.filter(
      (value, index) => Math.abs(value - before.cells[index]) > 2,
    ).length;
    if (differentCells > 0) return { ...now, differentCells };
    if (Date.now() > deadline)
      throw new Error(`${what}: the canvas still shows the previous picture after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The tree label of the study holding an instance ("Family, Given — Description"), from QIDO. */
async function studyLabel(client: DicomWebClient, sopInstanceUid: string): Promise<string> {
  const [instance] = (
    await client.search('instances', {}, { match: { SOPInstanceUID: sopInstanceUid } })
  ).items;
  assert.ok(instance, `Orthanc has instance ${sopInstanceUid}`);
  const studyUid = getString(instance, '0020000D');
  const [study] = (
    await client.search(
      'studies',
      {},
      { match: { StudyInstanceUID: studyUid ?? '' }, includeField: ['StudyDescription'] },
    )
  ).items;
  assert.ok(study, `Orthanc has study ${studyUid}`);
  const patient = formatPersonName(getString(study, '00100010')) || '(no patient name)';
  const description = getString(study, '00081030');
  return description ? `${patient} — ${description}` : patient;
}

/**
 * Expands a study (one series, one instance, as the sample files are) and clicks its
 * instance row, which opens the preview. Returns the instance row's label and description.
 */
async function openFirstInstanceOfStudy(page: Page, label: string): Promise<string> {
  const study = await waitForRow(page, label);
  await expandRow(study);
  const childOf = async (parentLabel: string, level: number) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const rows = await treeRows(page);
      const index = rows.findIndex(
        (row) => row.text.startsWith(parentLabel) && row.level === level - 1,
      );
      const child = rows[index + 1];
      if (index >= 0 && child && child.level === level) return child;
      if (Date.now() > deadline)
        throw new Error(`no child row under "${parentLabel}":\n${await describeRows(page)}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  };
  const series = await childOf(label, 3);
  await expandRow(series.locator);
  const instance = await childOf(series.text, 4);
  const ariaLabel = instance.ariaLabel.replace(/, has actions$/, '');
  await instance.locator.click();
  await sideBarRow(page, instance.text).waitFor({ state: 'visible' });
  return ariaLabel;
}
