/**
 * A person's path through the DICOMweb view in the real workbench (code-server without the
 * smoke-test flag: real toasts, real modal dialogs): the tree of the seed study, its
 * metadata document with tag keywords, an upload from the Explorer's context menu, and a
 * delete confirmed in the modal dialog. Saves the README's screenshots.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatPersonName, getString } from '../../src/dicom/json';
import { tempDir } from '../support/env';
import { ensureSampleFiles } from '../support/sampleFiles';
import { SEED } from '../support/seedData';
import {
  chooseFromContextMenu,
  describeRows,
  expandRow,
  sideBarRow,
  waitForModalDialog,
  waitForRow,
  widenSideBar,
} from './helpers/actions';
import { CONNECTION_NAME, countInstances, orthancConnection, seedOrthanc } from './helpers/orthanc';
import { scenario } from './scenario';
import {
  REPO_ROOT,
  openViewContainer,
  screenshot,
  startWorkbench,
  treeRows,
  waitForNotification,
} from './workbench';

const STUDY_LABEL = 'Test, Shapes — DICOMweb tutorial shapes';
const UPLOAD_FILE = 'CT_small.dcm';

scenario(
  'the DICOMweb view: tree, metadata, upload from the Explorer, delete with the modal confirmation',
  async () => {
    const catalog = await ensureSampleFiles();
    const uploaded = catalog.files.ctSmall;
    const client = await seedOrthanc();
    // The workspace a person has open: the fixture plus a DICOM file that is not on the server yet.
    const workspace = join(tempDir('ui-explorer'), 'workspace');
    cpSync(join(REPO_ROOT, 'test', 'integration', 'fixtures', 'workspace'), workspace, {
      recursive: true,
    });
    copyFileSync(uploaded.path, join(workspace, UPLOAD_FILE));
    assert.equal(
      await countInstances(client, { SOPInstanceUID: uploaded.sopInstanceUid }),
      0,
      'the file to upload is not on the server yet',
    );

    const workbench = await startWorkbench({
      settings: { 'dicomweb.servers': [orthancConnection()] },
      workspaceFolder: workspace,
    });
    try {
      const { page } = workbench;

      // --- the tree: server → study → series → instances --------------------------------
      await openViewContainer(page, 'DICOMweb');
      await widenSideBar(page, 520);
      const server = await waitForRow(page, CONNECTION_NAME);
      assert.equal(
        await server.getAttribute('aria-expanded'),
        'true',
        'the only connection opens by itself',
      );
      const study = await waitForRow(page, STUDY_LABEL);
      assert.match(
        (await study.getAttribute('aria-label')) ?? '',
        /SHAPES-0001 · 2021-07-16 · OT · 2 series, 3 instances/,
        'the study row says patient ID, date, modality and counts',
      );
      await expandRow(study);
      const shapesSeries = await waitForRow(page, '#1 OT — Square and triangle');
      const circleSeries = await waitForRow(page, '#2 OT — Circle');
      await expandRow(shapesSeries);
      await expandRow(circleSeries);
      // Both series load their instances: 7 rows in all (a series row shows before its children).
      const allRows = page.locator('.part.sidebar .monaco-list-row');
      for (
        const deadline = Date.now() + 15_000;
        (await allRows.count()) < 7 && Date.now() < deadline;
      )
        await page.waitForTimeout(100);
      const rows = (await treeRows(page)).map((row) => ({
        level: row.level,
        label: row.ariaLabel.replace(/, has actions$/, ''),
      }));
      const expected = [
        { level: 1, label: new RegExp(`^${escapeRegExp(CONNECTION_NAME)} `) },
        { level: 2, label: new RegExp(`^${STUDY_LABEL} `) },
        { level: 3, label: /^#1 OT — Square and triangle 2 instances$/ },
        { level: 4, label: /^Instance 1 Secondary Capture Image( Storage)? · 64×64$/ },
        { level: 4, label: /^Instance 2 Secondary Capture Image( Storage)? · 64×64$/ },
        { level: 3, label: /^#2 OT — Circle 1 instance$/ },
        { level: 4, label: /^Instance 1 Secondary Capture Image( Storage)? · 64×64$/ },
      ];
      assert.equal(rows.length, expected.length, `the expanded tree:\n${await describeRows(page)}`);
      for (const [index, row] of rows.entries()) {
        assert.equal(
          row.level,
          expected[index].level,
          `row ${index + 1} level:\n${await describeRows(page)}`,
        );
        assert.match(
          row.label,
          expected[index].label,
          `row ${index + 1}:\n${await describeRows(page)}`,
        );
      }

      // --- Open Metadata on the red triangle: a JSON document with tag keywords ----------
      const triangle = sideBarRow(page, 'Instance 2');
      await chooseFromContextMenu(page, triangle, 'Open Metadata');
      const tab = page.locator('.tabs-container .tab', {
        hasText: 'instance 2 (instance metadata)',
      });
      await tab.waitFor({ state: 'visible', timeout: 15_000 });
      const lines = page.locator('.editor-instance .monaco-editor .view-lines').first();
      // Inlay hints render inline: the keyword follows its tag without hovering.
      await page.waitForFunction(
        (element) =>
          element !== null && /"00080018"\s*SOPInstanceUID/.test(element.textContent ?? ''),
        await lines.elementHandle(),
        { timeout: 15_000 },
      );
      assert.ok(
        (await lines.innerText()).includes(SEED.redTriangle.sopInstanceUid),
        "the document is the triangle instance's metadata",
      );
      // No tree tooltip over the picture: the pointer rests on the status bar.
      await page.mouse.move(700, 890);
      await page
        .locator('.monaco-hover:visible, .workbench-hover:visible')
        .first()
        .waitFor({ state: 'hidden', timeout: 5000 })
        .catch(() => undefined);
      await screenshot(page, 'explorer-tree');

      // Hovering a tag key names the attribute.
      const tagToken = lines.locator('span', { hasText: /^"00080020"$/ }).first();
      await tagToken.hover();
      const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'StudyDate' }).first();
      await hover.waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(
        (await hover.innerText()).replace(/\s+/g, ' '),
        /StudyDate \(0008,0020\).*Study Date.*VR DA/,
      );
      await screenshot(page, 'metadata');
      await page.keyboard.press('Escape');

      // --- Explorer context menu: "Upload to DICOMweb Server…" ---------------------------
      await openViewContainer(page, 'Explorer');
      const fileRow = await waitForRow(page, UPLOAD_FILE);
      await chooseFromContextMenu(page, fileRow, 'Upload to DICOMweb Server…');
      const toast = await waitForNotification(page, `Upload to ${CONNECTION_NAME}:`, 30_000);
      assert.match(toast, /Upload to Orthanc \(test\): 1 stored\./, `the summary toast: ${toast}`);
      assert.equal(
        await countInstances(client, { SOPInstanceUID: uploaded.sopInstanceUid }),
        1,
        'Orthanc has the uploaded instance',
      );
      const studies = (await client.search('studies', {}, {})).items;
      const uploadedStudy = studies.find(
        (item) => getString(item, '0020000D') !== SEED.studyInstanceUid,
      );
      assert.ok(
        uploadedStudy && studies.length === 2,
        `Orthanc holds the seed study and the uploaded one: ${studies.length} studies`,
      );
      const uploadedLabel = formatPersonName(getString(uploadedStudy, '00100010'));
      // The tree refreshed where the data landed: the new study is listed.
      await openViewContainer(page, 'DICOMweb');
      await waitForRow(page, uploadedLabel, 15_000).catch(async (error: Error) => {
        throw new Error(
          `the uploaded study "${uploadedLabel}" did not appear in the tree:\n${await describeRows(page)}\n${error.message}`,
        );
      });

      // --- Delete… on the seed study: the modal names it; Delete removes it --------------
      await chooseFromContextMenu(page, sideBarRow(page, STUDY_LABEL), 'Delete…');
      const dialog = await waitForModalDialog(page);
      assert.equal(
        dialog.message,
        `Delete the study "${SEED.studyDescription}" of Test, Shapes from "${CONNECTION_NAME}"?`,
      );
      assert.match(
        dialog.detail,
        /Study "DICOMweb tutorial shapes" of patient Test, Shapes — 2 series, 3 instances/,
      );
      assert.ok(
        dialog.detail.includes(SEED.studyInstanceUid),
        `the dialog names the StudyInstanceUID: ${dialog.detail}`,
      );
      assert.deepEqual([...dialog.buttons].sort(), ['Cancel', 'Delete']);
      await screenshot(page, 'delete-confirmation');
      await dialog.click('Delete');
      await sideBarRow(page, STUDY_LABEL)
        .waitFor({ state: 'detached', timeout: 15_000 })
        .catch(async (error: Error) => {
          throw new Error(
            `the deleted study is still in the tree:\n${await describeRows(page)}\n${error.message}`,
          );
        });
      assert.equal(
        await countInstances(client, { StudyInstanceUID: SEED.studyInstanceUid }),
        0,
        'Orthanc no longer has the seed study',
      );
      assert.equal(
        await countInstances(client, { SOPInstanceUID: uploaded.sopInstanceUid }),
        1,
        'nothing outside the selection was deleted',
      );
      await waitForRow(page, uploadedLabel);
    } finally {
      await workbench.close();
      await client.close();
      rmSync(join(workspace, '..'), { recursive: true, force: true });
    }
  },
);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
