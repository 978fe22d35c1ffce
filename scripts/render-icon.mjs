#!/usr/bin/env node
// Renders media/icon.svg (the Marketplace icon, drawn by hand) to media/icon.png, 128×128,
// with the headless Chromium the UI tests use. The PNG is committed: packaging needs no
// browser. Run again after editing the SVG: `node scripts/render-icon.mjs`.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH } from './vscode-env.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const svg = readFileSync(resolve(root, 'media/icon.svg'), 'utf8');
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-dev-shm-usage',
  ],
});
try {
  const page = await browser.newPage({
    viewport: { width: 128, height: 128 },
    deviceScaleFactor: 1,
  });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  await page
    .locator('svg')
    .screenshot({ path: resolve(root, 'media/icon.png'), omitBackground: true });
} finally {
  await browser.close();
}
console.log('media/icon.png written (128×128)');
