/**
 * Hostile and broken inputs (issue 16): a crafted dataset zip is refused with a message naming file, line and
 * field, nothing of it is stored, the page stays usable, and a corrupt record already in IndexedDB is listed as
 * damaged (deletable) instead of blanking the page on every reload.
 */
import { readFileSync } from 'node:fs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { encodeGrayPng, encodeMaskPng } from '../src/core/formats/image';
import type { Provenance } from '../src/core/model/protocol';
import type { DatasetItem, ItemImages } from '../src/dataset/types';
import { buildExportZip } from '../src/dataset/zip';
import { test, expect } from './fixtures';

function entry(id: string, status: DatasetItem['status']): { item: DatasetItem; images: ItemImages } {
  const provenance: Provenance = {
    modelId: 'm', modelVersion: '1', modelSha256: 'ab'.repeat(32), className: 'Crack', classIndex: 2, prompt: '', seed: 7, sampler: 'dpmpp2m', steps: 4,
    guidance: 1.5, eta: 0, timestepSpacing: 'linspace', clipSample: true, maskSource: 'library', maskSha256: 'cd'.repeat(32), inpainting: false,
    backend: 'wasm', timings: { totalMs: 1, modelMs: 1, steps: 4 },
  };
  return {
    item: { id, createdAt: '2026-01-01T00:00:00.000Z', status, decidedAt: status === 'pending' ? null : '2026-01-02T00:00:00.000Z', className: 'Crack', width: 64, height: 64, provenance, citation: 'test' },
    images: { id, png: encodeGrayPng(new Uint8Array(64 * 64).fill(100), 64, 64), maskPng: encodeMaskPng(new Uint8Array(64 * 64), 64, 64) },
  };
}

const good = [entry('good-1', 'accepted'), entry('good-2', 'pending')];
const goodZip = buildExportZip(good.map((e) => e.item), new Map(good.map((e) => [e.item.id, e.images])), ['Crack'], '2026-02-01T00:00:00Z');

/** The good zip with new ids and line 2's provenance removed (the issue's first case). */
function crafted(): Buffer {
  const files = unzipSync(goodZip);
  const lines = strFromU8(files['metadata.jsonl'] as Uint8Array).trim().split('\n').map((l) => JSON.parse(l));
  lines.forEach((l, i) => (l.id = `crafted-${i}`));
  delete lines[1].provenance;
  return Buffer.from(zipSync({ ...files, 'metadata.jsonl': strToU8(lines.map((l) => JSON.stringify(l)).join('\n')) }));
}

test('a crafted import is refused by name, stores nothing, and a corrupt stored record is listed as damaged, not a blank page', async ({ studio, page, offsite }) => {
  await studio.open('?backend=wasm');
  await page.getByLabel('Dataset zip').setInputFiles({ name: 'good.zip', mimeType: 'application/zip', buffer: Buffer.from(goodZip) });
  await expect(page.getByText('Imported 2 items.')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('tab', { name: /^All \(2\)$/ })).toBeVisible();

  // Case 1 and 3: a line without provenance. Refused naming file, line and field; line 1 is not stored either.
  await page.getByLabel('Dataset zip').setInputFiles({ name: 'crafted.zip', mimeType: 'application/zip', buffer: crafted() });
  await expect(page.getByRole('alert')).toContainText('Import failed, nothing was imported: metadata.jsonl line 2, field provenance: missing; expected an object; nothing was imported');
  await expect(page.getByRole('tab', { name: /^All \(2\)$/ })).toBeVisible();
  // The page is still usable: the Export button works.
  await studio.openTab('Dataset');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export dataset' }).click();
  const exported = Object.keys(unzipSync(readFileSync(await (await download).path()))).filter((f) => f.endsWith('.png'));
  expect(exported.sort()).toEqual(['images/Crack/good-1.png', 'masks/Crack/good-1.png', 'review-masks/pending/Crack/good-2.png', 'review/pending/Crack/good-2.png']);

  // A record written by something else (a bug, a hand edit) with a wrong type and no createdAt.
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('defect-diffusion-studio');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('items', 'readwrite');
          tx.objectStore('items').put({ id: 'broken', status: 'accepted', className: 'Crack', provenance: { maskSha256: 5 } });
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
  await page.reload();
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await expect(page.getByRole('tab', { name: /^All \(2\)$/ })).toBeVisible();
  await studio.openTab('Dataset');
  const damaged = page.getByRole('group', { name: 'Damaged items' });
  await expect(damaged).toContainText('1 stored item is damaged and not shown');
  await expect(damaged).toContainText('broken: field createdAt: missing');
  await damaged.getByRole('button', { name: 'Delete damaged items' }).click();
  await expect(page.getByText('Deleted 1 damaged items.')).toBeVisible();
  await expect(damaged).toHaveCount(0);

  await page.reload();
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await expect(page.getByRole('tab', { name: /^All \(2\)$/ })).toBeVisible();
  await expect(page.getByRole('group', { name: 'Damaged items' })).toHaveCount(0);

  // With "Skip bad records" the good line goes in and the bad one is reported by line and field.
  await studio.openTab('Dataset');
  await page.getByLabel('Skip bad records').check();
  await page.getByLabel('Dataset zip').setInputFiles({ name: 'crafted.zip', mimeType: 'application/zip', buffer: crafted() });
  await expect(page.getByRole('alert')).toContainText('Imported 1 items; skipped 1 bad record: metadata.jsonl line 2, field provenance: missing');
  await expect(page.getByRole('tab', { name: /^All \(3\)$/ })).toBeVisible();
  expect(offsite).toEqual([]);
});
