/**
 * The DICOM editor in the real workbench: a double-click on a .dcm in the Explorer opens
 * the tag table beside the image; the table shows private elements named by their creator,
 * a sequence expands into numbered items, the filter keeps a match's ancestors. Saves the
 * README's screenshot of the table with the expanded sequence and the private tags.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { tempDir } from '../support/env';
import { ensureSampleFiles } from '../support/sampleFiles';
import { waitForRow, webviewTitled } from './helpers/actions';
import { scenario } from './scenario';
import { REPO_ROOT, openViewContainer, screenshot, startWorkbench } from './workbench';

const FILE = 'ct-small.dcm';

/** A DOM element as the page's code sees it (the tests compile without the DOM library). */
interface Node {
  textContent: string | null;
  querySelectorAll(selector: string): ArrayLike<Node>;
}

/** The table's rows on screen, one line each: tag, keyword, VR, VM, length, value. */
async function visibleRows(editor: FrameLocator): Promise<string[]> {
  const rows = editor.locator('.rows .tag-row');
  return (await rows.evaluateAll((elements) =>
    (elements as unknown as Node[]).map((row) =>
      Array.from(row.querySelectorAll('.cell'))
        .map((cell) => (cell.textContent ?? '').replace(/[▸▾]/g, '').trim())
        .join(' | '),
    ),
  )) as string[];
}

scenario(
  'the DICOM editor: double-click a .dcm, private tags by creator, a sequence expanded, filter',
  async () => {
    const catalog = await ensureSampleFiles();
    const workspace = join(tempDir('ui-dicom-editor'), 'workspace');
    cpSync(join(REPO_ROOT, 'test', 'integration', 'fixtures', 'workspace'), workspace, {
      recursive: true,
    });
    // CT_small has both: OtherPatientIDsSequence and GE's private groups.
    copyFileSync(catalog.files.ctSmall.path, join(workspace, FILE));
    const workbench = await startWorkbench({ workspaceFolder: workspace });
    try {
      const { page } = workbench;
      // The extension host first: on this loaded test machine it registered the extensions
      // ~25 s after the page loaded, and a double-click before that opened the text editor
      // (the editor resolver did not know the custom editor yet). The DICOMweb view's
      // welcome or rows show the host is up.
      await openViewContainer(page, 'DICOMweb');
      await page
        .locator('.part.sidebar .welcome-view-content, .part.sidebar .monaco-list-row')
        .first()
        .waitFor({ timeout: 90_000 });
      await openViewContainer(page, 'Explorer');
      await (await waitForRow(page, FILE)).dblclick();
      const editor = await webviewTitled(page, FILE, 30_000);
      await editor.locator('.rows .tag-row').first().waitFor({ timeout: 15_000 });
      assert.match(
        await editor.locator('.summary').innerText(),
        /^ct-small\.dcm · 38\.3 KiB · 271 elements · Explicit VR Little Endian$/,
      );
      assert.equal(
        await editor.locator('.problems').isVisible(),
        false,
        'a sound file: no problem',
      );

      // Scroll to the private group 0009 (row 30 on): its creator and its elements.
      await editor
        .locator('.rows')
        .evaluate((rows) => ((rows as unknown as { scrollTop: number }).scrollTop = 30 * 22));
      const sequence = editor.locator('.tag-row', { hasText: 'OtherPatientIDsSequence' });
      await sequence.locator('.twisty').click();
      // Items open one level at a time: each item's elements come when it is expanded.
      for (const item of ['Item 1', 'Item 2']) {
        const row = editor.locator('.tag-row', { hasText: item });
        await row.waitFor({ timeout: 10_000 });
        await row.locator('.twisty').click();
      }
      await editor.locator('.tag-row', { hasText: '1234ABCD' }).waitFor({ timeout: 10_000 });
      await sequence.click();
      const rows = await visibleRows(editor);
      const expected = [
        '(0009,0010) | PrivateCreator | LO | 1 | 12 | GEMS_IDEN_01',
        '(0009,1001) | [GEMS_IDEN_01] (0009,xx01) | LO | 1 | 14 | GE_GENESIS_FF',
        '(0010,1002) | OtherPatientIDsSequence | SQ | 1 | 72 | 2 items',
        '(FFFE,E000) | Item 1 |  |  | 28 | 2 elements',
        '(0010,0020) | PatientID | LO | 1 | 8 | ABCD1234',
        '(0010,0022) | TypeOfPatientID | CS | 1 | 4 | TEXT',
        '(FFFE,E000) | Item 2 |  |  | 28 | 2 elements',
        '(0010,0020) | PatientID | LO | 1 | 8 | 1234ABCD',
      ];
      for (const line of expected) {
        assert.ok(
          rows.includes(line),
          `a visible row reads "${line}"; rows:\n  ${rows.join('\n  ')}`,
        );
      }
      const at = (line: string): number => rows.indexOf(line);
      assert.ok(
        at(expected[2]!) < at(expected[3]!) && at(expected[3]!) < at(expected[4]!),
        'the items follow their sequence, their elements follow them',
      );
      // The image beside the table: the viewer drew it.
      await editor.locator('canvas.image').waitFor({ state: 'visible', timeout: 15_000 });
      await page.mouse.move(5, 890);
      await screenshot(page, 'dicom-editor');

      // Filter by value: the match with its sequence and item above it, nothing else.
      await editor.locator('vscode-textfield.filter input').fill('1234ABCD');
      await editor.locator('.filter-status', { hasText: '1 match' }).waitFor({ timeout: 10_000 });
      assert.deepEqual(await visibleRows(editor), [
        '(0010,1002) | OtherPatientIDsSequence | SQ | 1 | 72 | 2 items',
        '(FFFE,E000) | Item 2 |  |  | 28 | 2 elements',
        '(0010,0020) | PatientID | LO | 1 | 8 | 1234ABCD',
      ]);
    } finally {
      await workbench.close();
    }
  },
);
