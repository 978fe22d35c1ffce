import * as assert from 'node:assert/strict';
import { basename } from 'node:path';
import { scenario } from './scenario';
import { openViewContainer, runCommand, screenshot, startWorkbench, treeRows } from './workbench';

scenario(
  'the workbench loads with the extension installed and the workspace in the Explorer',
  async () => {
    const workbench = await startWorkbench();
    try {
      const { page } = workbench;

      await runCommand(page, 'Extensions: Show Installed Extensions');
      await page
        .locator('.part.sidebar .monaco-list-row', { hasText: 'DICOMweb Explorer' })
        .waitFor({ state: 'visible', timeout: 20_000 });

      await openViewContainer(page, 'Explorer');
      const folderName = basename(workbench.workspaceFolder);
      await page
        .locator('.part.sidebar .pane-header', { hasText: new RegExp(folderName, 'i') })
        .waitFor({ state: 'visible' });
      const rows = await treeRows(page);
      assert.ok(
        rows.some((row) => row.text === 'README.md'),
        `the Explorer should list the workspace's README.md; rows: ${rows.map((row) => row.text).join(', ')}`,
      );

      await screenshot(page, 'workbench');
    } finally {
      await workbench.close();
    }
  },
);
