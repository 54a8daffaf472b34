/**
 * The README's screenshots, made from a real run so they stay current (issue #17 point 5). Only collected with
 * SCREENSHOTS=1 (playwright.config.ts testIgnore), so ordinary runs neither run nor skip it:
 *   SCREENSHOTS=1 npx vite build && SCREENSHOTS=1 npx playwright test e2e/screenshots.spec.ts
 * writes docs/screenshots/studio-1280x800.png (the review screen after a batch) and docs/screenshots/pilot-report.png
 * (the report the Pilot report button downloads, with the downstream check run when the dataset is present).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './fixtures';
import { DATA, realFolder } from './realFolder';

const OUT = 'docs/screenshots';

test('README screenshots: the studio at 1280x800 and a pilot report', async ({ studio, page, context, offsite }) => {
  test.setTimeout(600_000);
  mkdirSync(OUT, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await studio.open('?backend=wasm');
  for (const [cls, seed, n] of [['Blowhole', '3', '4'], ['Crack', '11', '6']] as const) {
    await page.getByLabel('Defect class').selectOption(cls);
    await page.getByLabel('Seed').fill(seed);
    await page.getByLabel('Batch size').fill(n);
    await studio.generateButton().click();
    await expect(studio.status).toHaveText(/Generating/, { timeout: 30_000 });
    await expect(studio.status).toHaveText('Ready', { timeout: 300_000 });
  }
  await expect(page.getByRole('tab', { name: /^Pending \(10\)$/ })).toBeVisible();
  // Review most of them: accept, reject two with reasons, leave the last ones pending to show the loop.
  await page.getByRole('list', { name: 'Generated images' }).getByRole('listitem').first().click();
  for (const key of ['a', 'a', '2', 'a', 'a', 'a', '1']) await page.keyboard.press(key);
  await expect(page.getByRole('tab', { name: /^Rejected \(2\)$/ })).toBeVisible();
  await page.getByRole('list', { name: 'Generated images' }).getByRole('listitem').nth(7).click();
  await page.screenshot({ path: join(OUT, 'studio-1280x800.png') });

  if (existsSync(DATA)) {
    await studio.openTab('Quality');
    await page.getByLabel('Real images folder').setInputFiles(realFolder(20));
    await expect(page.getByText(/real images read/)).toBeVisible({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Run downstream check' }).click();
    await expect(page.getByTestId('downstream-table')).toBeVisible({ timeout: 180_000 });
  }
  await studio.openTab('Dataset');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Pilot report' }).click();
  const html = readFileSync(await (await download).path(), 'utf8');
  const report = await context.newPage();
  await report.setViewportSize({ width: 1000, height: 800 });
  await report.setContent(html);
  await report.screenshot({ path: join(OUT, 'pilot-report.png'), fullPage: true });
  await report.close();
  expect(offsite).toEqual([]);
});
