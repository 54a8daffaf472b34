/**
 * The curation loop on one screen (issue 17): after Generate, the first result, the selected image and its
 * Accept / Reject buttons are inside the viewport with the page at scroll 0 and no horizontal overflow, and
 * opening a panel in the left column never moves the review area. Bulk review by shift-click and select-all.
 * Screenshots of the main screen go to test-results/screens/ (looked at, not compared).
 */
import type { Locator, Page } from '@playwright/test';
import { test, expect } from './fixtures';

async function insideViewport(page: Page, what: string, l: Locator) {
  const box = await l.boundingBox();
  const vp = page.viewportSize() as { width: number; height: number };
  expect(box, `${what} is rendered`).not.toBeNull();
  const b = box as { x: number; y: number; width: number; height: number };
  expect(b.x >= 0 && b.y >= 0 && b.x + b.width <= vp.width && b.y + b.height <= vp.height, `${what} (${JSON.stringify(b)}) inside ${vp.width}x${vp.height}`).toBe(true);
}

for (const [width, height] of [[1280, 800], [1920, 1080]] as const) {
  test(`one screen at ${width}x${height}: generate, review, bulk accept, panels beside the review area`, async ({ studio, page }) => {
    await page.setViewportSize({ width, height });
    await studio.open('?backend=wasm');
    await page.getByLabel('Defect class').selectOption('Blowhole');
    await page.getByLabel('Seed').fill('5');
    await page.getByLabel('Steps').fill('8');
    await page.getByLabel('Batch size').fill('4');
    await studio.generateButton().click();
    // While the first image is made the live preview is the grid's content, with no "No images yet" under it.
    await expect(page.getByRole('img', { name: 'Live preview of the image being generated' })).toBeVisible({ timeout: 60_000 });
    await expect(page.getByText('No images yet')).toHaveCount(0);
    await expect(page.getByRole('tab', { name: /^Pending \(4\)$/ })).toBeVisible({ timeout: 120_000 });
    await expect(studio.status).toHaveText('Ready');

    const cells = page.getByRole('list', { name: 'Generated images' }).getByRole('listitem');
    await insideViewport(page, 'Generate button', studio.generateButton());
    await insideViewport(page, 'first result', cells.first());
    const image = page.getByTestId('detail-image');
    await insideViewport(page, 'selected image', page.locator('.viewer'));
    expect((await page.locator('.viewer').boundingBox())?.width, 'large view width').toBeGreaterThanOrEqual(256);
    await expect(image).toHaveAttribute('alt', /^Selected: Blowhole seed \d+$/);
    await insideViewport(page, 'Accept', page.getByRole('button', { name: 'Accept', exact: true }));
    await insideViewport(page, 'Reject', page.getByRole('button', { name: 'Reject', exact: true }));
    const page0 = await page.evaluate(() => ({ y: scrollY, x: scrollX, sw: document.documentElement.scrollWidth, sh: document.documentElement.scrollHeight, w: innerWidth, h: innerHeight }));
    expect(page0.y).toBe(0);
    expect(page0.sw, 'no horizontal overflow').toBeLessThanOrEqual(page0.w);
    expect(page0.sh, 'no vertical page scroll').toBeLessThanOrEqual(page0.h);
    await page.screenshot({ path: `test-results/screens/main-${width}x${height}.png` });

    // Opening a panel in the left column does not move or resize the review area.
    const grid = page.getByRole('region', { name: 'Review' });
    const detail = page.getByRole('region', { name: 'Selected image' });
    const before = [await grid.boundingBox(), await detail.boundingBox()];
    for (const tab of ['Mask', 'Dataset', 'Quality', 'Generate'] as const) {
      await studio.openTab(tab);
      expect([await grid.boundingBox(), await detail.boundingBox()], `review area after opening ${tab}`).toEqual(before);
      if (tab === 'Quality') await page.screenshot({ path: `test-results/screens/quality-${width}x${height}.png` });
    }

    // The mask is an outline on a canvas over the image (no filled overlay image), and it can be turned off.
    await expect(page.getByRole('img', { name: 'Defect mask overlay' })).toHaveCount(0);
    await expect(page.getByLabel('Mask outline')).toBeChecked();

    // Bulk: shift-click the 2nd..4th, accept them at once; select all + R rejects the rest; U undoes that as one.
    await cells.nth(1).click();
    await cells.nth(3).click({ modifiers: ['Shift'] });
    await expect(page.getByRole('group', { name: 'Bulk review' })).toContainText('3 selected');
    await page.getByRole('button', { name: 'Accept 3' }).click();
    await expect(page.getByRole('tab', { name: /^Accepted \(3\)$/ })).toBeVisible();
    await page.getByRole('button', { name: /^Select all \(4\)$/ }).click();
    await page.keyboard.press('r');
    await expect(page.getByRole('tab', { name: /^Rejected \(4\)$/ })).toBeVisible();
    await page.keyboard.press('u');
    await expect(page.getByRole('tab', { name: /^Accepted \(3\)$/ })).toBeVisible();
    await expect(page.getByRole('tab', { name: /^Pending \(1\)$/ })).toBeVisible();
    // The class filter narrows the grid (and its counts).
    await page.getByLabel('Class filter').selectOption('Crack');
    await expect(page.getByRole('tab', { name: /^All \(0\)$/ })).toBeVisible();
    await page.getByLabel('Class filter').selectOption('Blowhole');
    await expect(page.getByRole('tab', { name: /^All \(4\)$/ })).toBeVisible();
  });
}
