/** A reload mid-batch: the unfinished requests come back with the images they had left, and a notice says so. */
import { test, expect } from './fixtures';

type Dbg = { ddsDebug: { store: { getState(): { items: { provenance: { seed: number } }[]; queue: unknown[] } } } };

test('the queue survives a reload: the rest of a batch is queued again and finishes, with a notice', async ({ studio, page, offsite }) => {
  await studio.open('?backend=wasm&debug');
  await page.getByLabel('Defect class').selectOption('Blowhole');
  await page.getByLabel('Seed').fill('300');
  await page.getByLabel('Batch size').fill('8');
  await studio.generateButton().click();
  await page.waitForFunction(() => (globalThis as unknown as Dbg).ddsDebug.store.getState().items.length >= 1);
  await page.reload();
  await expect(studio.status).not.toHaveText('Loading…', { timeout: 120_000 });
  await expect(page.getByRole('note')).toContainText(/1 queued request from before the reload was queued again \(\d images? left\)/, { timeout: 120_000 });
  await page.waitForFunction(() => (globalThis as unknown as Dbg).ddsDebug.store.getState().items.length >= 8, undefined, { timeout: 180_000 });
  await expect(studio.status).toHaveText('Ready');
  const seeds = (await page.evaluate(() => (globalThis as unknown as Dbg).ddsDebug.store.getState().items.map((i) => i.provenance.seed))) as number[];
  expect([...seeds].sort((a, b) => a - b)).toEqual([300, 301, 302, 303, 304, 305, 306, 307]);
  expect(offsite).toEqual([]);
});
