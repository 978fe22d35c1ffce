/**
 * What a person does in the workbench, as Playwright steps: find a row in the side bar,
 * expand it, pick an entry of its context menu, answer a modal dialog, look into the
 * preview webview. Each step waits for the real outcome (a row, a menu, a dialog).
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { treeRows, type TreeRow } from '../workbench';

/** The first side-bar row whose text contains `text` (label or description). */
export function sideBarRow(page: Page, text: string | RegExp): Locator {
  return page.locator('.part.sidebar .monaco-list-row', { hasText: text }).first();
}

/** Waits for a side-bar row and returns it. */
export async function waitForRow(
  page: Page,
  text: string | RegExp,
  timeoutMs = 15_000,
): Promise<Locator> {
  const row = sideBarRow(page, text);
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  return row;
}

/** Expands a collapsed tree row by its twistie (a click on the row itself may run its command). */
export async function expandRow(row: Locator, timeoutMs = 15_000): Promise<void> {
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  if ((await row.getAttribute('aria-expanded')) === 'true') return;
  await row.locator('.monaco-tl-twistie').click();
  await row
    .page()
    .waitForFunction(
      (element) => element.getAttribute('aria-expanded') === 'true',
      await row.elementHandle(),
      { timeout: timeoutMs },
    );
}

/**
 * Right-clicks `row` and chooses `label` in its context menu. VS Code ignores a click that
 * lands too soon after the menu opened (it is taken for the right button's release), so
 * the entry is hovered first and clicked again while the menu stays open.
 */
export async function chooseFromContextMenu(
  page: Page,
  row: Locator,
  label: string,
  timeoutMs = 10_000,
): Promise<void> {
  const menu = page.locator('.context-view .monaco-menu');
  const entry = menu
    .locator(`.action-menu-item:has(.action-label[aria-label="${label.replace(/"/g, '\\"')}"])`)
    .first();
  await row.click({ button: 'right' });
  try {
    await entry.waitFor({ state: 'visible', timeout: timeoutMs });
  } catch (error) {
    const offered = await menu
      .locator('.action-label')
      .allInnerTexts()
      .catch(() => []);
    throw new Error(
      `the context menu has no "${label}"; it offers: ${offered.filter(Boolean).join(' | ') || 'nothing'} (${(error as Error).message.split('\n')[0]})`,
    );
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await entry.hover();
    await entry.click();
    try {
      await menu.waitFor({ state: 'hidden', timeout: 1000 });
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(
          `the context menu stayed open after choosing "${label}": ${(error as Error).message.split('\n')[0]}`,
        );
    }
  }
}

/** Widens the primary side bar by dragging its sash, so tree rows are not cut off. */
export async function widenSideBar(page: Page, width: number): Promise<void> {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box || box.width >= width) return;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width + 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width + 1, y, { steps: 5 });
  await page.mouse.up();
}

/** Rows of the side bar as `aria-label`s (label and description separated), for messages. */
export async function describeRows(page: Page): Promise<string> {
  return (await treeRows(page))
    .map(
      (row: TreeRow) =>
        `${'  '.repeat(row.level - 1)}${row.ariaLabel.replace(/, has actions$/, '')}`,
    )
    .join('\n');
}

/** The modal dialog VS Code shows for `showWarningMessage(..., { modal: true })`. */
export interface ModalDialog {
  box: Locator;
  message: string;
  detail: string;
  buttons: string[];
  click(button: string): Promise<void>;
}

export async function waitForModalDialog(page: Page, timeoutMs = 15_000): Promise<ModalDialog> {
  const box = page.locator('.monaco-dialog-box');
  await box.waitFor({ state: 'visible', timeout: timeoutMs });
  const message = (await box.locator('.dialog-message-text').innerText()).trim();
  const detail = (
    await box
      .locator('.dialog-message-detail')
      .innerText()
      .catch(() => '')
  ).trim();
  const buttons = (await box.locator('.dialog-buttons .monaco-button').allInnerTexts()).map(
    (text) => text.trim(),
  );
  return {
    box,
    message,
    detail,
    buttons,
    click: async (button: string) => {
      await box
        .locator('.dialog-buttons .monaco-button', { hasText: new RegExp(`^${button}$`) })
        .click();
      await box.waitFor({ state: 'hidden', timeout: timeoutMs });
    },
  };
}

/** The title of the active editor tab (a preview panel's title, a document's name). */
export async function activeTabTitle(page: Page): Promise<string> {
  return (await page.locator('.tabs-container .tab.active .label-name').first().innerText()).trim();
}

/**
 * Waits for the active editor to be a new tab (not `previousTitle`) and returns its title.
 */
export async function waitForNewActiveTab(
  page: Page,
  previousTitle: string | undefined,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const title = await activeTabTitle(page).catch(() => '');
    if (title && title !== previousTitle) return title;
    if (Date.now() > deadline)
      throw new Error(
        `no new editor tab became active within ${timeoutMs} ms (active: "${title}")`,
      );
    await page.waitForTimeout(100);
  }
}

/**
 * The document inside the visible webview whose page title is `title`. VS Code nests it
 * twice (the webview host iframe, then `#active-frame`); hidden panels keep their iframes
 * (retainContextWhenHidden), and a new panel's iframe appears while the previous one is
 * still shown, hence the title.
 */
export async function webviewTitled(
  page: Page,
  title: string,
  timeoutMs = 15_000,
): Promise<FrameLocator> {
  const hosts = page.locator('iframe.webview.ready');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen: string[] = [];
    for (let index = (await hosts.count()) - 1; index >= 0; index--) {
      const host = hosts.nth(index);
      if (!(await host.isVisible().catch(() => false))) continue;
      const inner = host.contentFrame().frameLocator('#active-frame');
      const text = (
        (await inner
          .locator('title')
          .textContent({ timeout: 500 })
          .catch(() => null)) ?? ''
      ).trim();
      if (text === title) return inner;
      seen.push(text);
    }
    if (Date.now() > deadline)
      throw new Error(
        `no visible webview titled "${title}" within ${timeoutMs} ms (visible: ${seen.map((t) => `"${t}"`).join(', ') || 'none'})`,
      );
    await page.waitForTimeout(150);
  }
}
