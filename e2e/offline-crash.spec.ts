/** Offline, a worker crash during a job is that job's failure, never "stopped while idle". */
import { test, expect } from './fixtures';

test('offline: a crash mid-job fails the job with its message, and is not reported as an idle crash', async ({ studio, page, context, offsite }) => {
  await studio.open('?backend=wasm&debug');
  await page.getByLabel('Defect class').selectOption('Crack');
  await page.getByLabel('Steps').fill('12');
  await page.getByLabel('Batch size').fill('2');
  await studio.generateButton().click();
  await expect(page.getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^([2-9]|1[01])$/, { timeout: 120_000 });
  await context.setOffline(true);
  await page.evaluate('globalThis.ddsDebug.client.debugCrash()');
  await expect(page.getByRole('alert')).toContainText('the worker crashed', { timeout: 30_000 });
  await expect(studio.status).toHaveText(/^(Ready|Error.*)$/, { timeout: 120_000 });
  // The idle-crash notice, when wrongly sent, lands right after the restart ends; give it a moment to show.
  await page.waitForTimeout(1000);
  await expect(page.getByText(/stopped while idle/)).toHaveCount(0);
  await context.setOffline(false);
  expect(offsite).toEqual([]);
});
