import { test, expect } from './fixtures';

test('review grid: filter by one quality flag; counts match the grid, and the row fits at 1280x800', async ({ studio, page, offsite }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await studio.open('?backend=wasm');
  await page.getByLabel('Defect class').selectOption('Blowhole');
  await page.getByLabel('Seed').fill('5');
  // Over-guided, few-step images: some come out unlike real ones, so there are flags to filter by.
  await page.getByLabel('Steps').fill('3');
  await page.getByLabel('Guidance').fill('12');
  await page.getByLabel('Batch size').fill('6');
  await studio.generateButton().click();
  await expect(page.getByRole('tab', { name: /^Pending \(6\)$/ })).toBeVisible({ timeout: 120_000 });
  const grid = page.getByRole('list', { name: 'Generated images' }).getByRole('listitem');
  const select = page.getByLabel('Flag filter');
  const options = await select.locator('option').allTextContents();
  expect(options.map((o) => o.replace(/ \(\d+\)$/, ''))).toEqual(['none', 'any flag', 'inconsistent', 'memorised', 'outlier']);
  test.info().annotations.push({ type: 'flag options', description: options.join(' | ') });
  const count = (label: string) => Number(/\((\d+)\)$/.exec(options.find((o) => o.startsWith(label)) ?? '')?.[1]);
  expect(count('any flag')).toBeGreaterThan(0);
  let union = 0;
  for (const flag of ['inconsistent', 'memorised', 'outlier']) {
    await select.selectOption(`flag:${flag}`);
    await expect(grid).toHaveCount(count(flag));
    await expect(page.getByRole('tab', { name: /^Flagged/ })).toHaveAttribute('aria-selected', 'true');
    // every item listed carries the flag (the detail view lists an item's flags)
    for (let k = 0; k < count(flag); k++) {
      await grid.nth(k).click();
      await expect(page.getByTestId('detail-flags')).toContainText(flag);
    }
    union = Math.max(union, count(flag));
  }
  await select.selectOption('flagged');
  await expect(grid).toHaveCount(count('any flag'));
  expect(count('any flag')).toBeGreaterThanOrEqual(union);
  await select.selectOption('');
  await expect(grid).toHaveCount(6);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
  await page.screenshot({ path: test.info().outputPath('flag-filter-1280x800.png') });
  expect(offsite).toEqual([]);
});
