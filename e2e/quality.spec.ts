import { existsSync } from 'node:fs';
import { missing } from '../scripts/lib/needs';
import { test, expect } from './fixtures';
import { DATA, realFolder } from './realFolder';

test('downstream check: real-only vs real + accepted synthetic, on real images split by tile group', async ({ studio, page, offsite }) => {
  test.skip(missing(existsSync(DATA), DATA), 'magnetic-tile dataset not present');
  await studio.twoAcceptedCracksThenQuality();
  await page.getByLabel('Real images folder').setInputFiles(realFolder(8));
  await expect(page.getByText(/^48 real images read \(Blowhole 8, Break 8, Crack 8, Fray 8, Uneven 8, Free 8\)/)).toBeVisible({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Run downstream check' }).click();
  const table = page.getByTestId('downstream-table');
  await expect(table).toBeVisible({ timeout: 120_000 });
  await expect(table.getByRole('row', { name: /macro-F1/ })).toContainText('±');
  await expect(page.getByText(/split by tile_group\); synthetic: 2 accepted images/)).toBeVisible();
  // 48 images, ~20% held out: far too few to say anything, and the studio says so.
  await expect(page.getByRole('note').filter({ hasText: 'Warning:' })).toBeVisible();
  expect(offsite).toEqual([]);
});
