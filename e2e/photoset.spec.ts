/**
 * The studio's stored photo set: two real defect-free photos added as a folder (their masks beside them are
 * skipped, as the CLI skips them), bad adds refused whole, "Place defects on the stored photos" on, two Fray
 * images generated with the distilled model at 1 step: photo-sized, real non-empty masks, every pixel outside
 * the regenerated windows the photo's; the same seeds in `npm run generate -- --photos` pick the same photos and
 * masks (and make the same bytes on WASM), and `npm run reproduce -- --photos` remakes the items; after a reload the
 * set and the items are still there; Fill to target puts the missing images on the set too.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { missing } from '../scripts/lib/needs';
import { modelLoader, reproduce } from '../scripts/reproduce';
import { regeneratedArea } from '../src/core/diffusion/composite';
import { decodeImage, decodeMaskPng, decodeToGray, encodeGrayPng } from '../src/core/formats/image';
import { photoOrder } from '../src/core/formats/photoChoice';
import type { PhotoWindow, Provenance } from '../src/core/model/protocol';
import { test, expect } from './fixtures';

const FREE = '../shared/datasets/magnetic-tile/train/Free';
const STUDENT = 'magtile-defect-64-fast';
// Seeds 2 and 3 pick different photos of the two (photoChoice.test.ts pins the rule).
const SEED = 2;

test.use({ viewport: { width: 1280, height: 800 } });
// Screenshots of the Generate panel with the photo set go to the test's output folder, or to PHOTOSET_SHOTS.
const shot = (name: string) => (process.env['PHOTOSET_SHOTS'] ? join(process.env['PHOTOSET_SHOTS'], name) : test.info().outputPath(name));

interface Stored { className: string; width: number; height: number; provenance: Provenance; png: number[]; mask: number[] }

async function storedItems(page: Page): Promise<Stored[]> {
  return page.evaluate(async () => {
    type V = { className: string; width: number; height: number; provenance: unknown; url: string; maskUrl: string };
    const items = (globalThis as unknown as { ddsDebug: { store: { getState(): { items: V[] } } } }).ddsDebug.store.getState().items;
    const bytes = async (u: string) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()));
    return Promise.all(items.map(async (i) => ({ className: i.className, width: i.width, height: i.height, provenance: i.provenance, png: await bytes(i.url), mask: await bytes(i.maskUrl) })));
  }) as Promise<Stored[]>;
}

test('photo set: a folder of two Free photos stored, Fray placed on them by seed as the CLI does, kept across a reload', async ({ studio, page, offsite }) => {
  test.skip(missing(existsSync(FREE), FREE), 'magnetic-tile dataset not present');
  // Two real Free photos and their masks, in a folder of their own (the CLI's --photos gets the same folder).
  const dir = mkdtempSync(join(tmpdir(), 'dds-photoset-'));
  const folder = join(dir, 'free');
  mkdirSync(folder);
  const two = photoOrder(readdirSync(FREE)).slice(0, 2);
  for (const f of two) {
    copyFileSync(join(FREE, f), join(folder, f));
    const mask = f.replace(/\.jpg$/, '_mask.png');
    if (existsSync(join(FREE, mask))) copyFileSync(join(FREE, mask), join(folder, mask));
  }
  const photos = new Map(two.map((f) => [f, decodeImage(new Uint8Array(readFileSync(join(folder, f))), f)]));

  await studio.open(`?backend=wasm&debug&model=${STUDENT}`);
  await page.getByLabel('Defect class').selectOption('Fray');
  await expect(page.getByTestId('photo-set-note')).toHaveText(/^Not available: the photo set is empty/);
  await expect(page.getByRole('checkbox', { name: 'Place defects on the stored photos' })).toBeDisabled();

  await page.getByLabel('Add a folder of photos').setInputFiles(folder);
  await expect(page.getByTestId('photo-set-message')).toHaveText(/^Added 2 photos \(.+\); skipped 2 mask files\.$/);
  await expect(page.getByTestId('photo-set-count')).toHaveText(/^· 2 photos · \d/);
  await expect(page.getByRole('list', { name: 'Stored photos' }).getByRole('listitem')).toHaveText(two.map((f) => new RegExp(`^${f}\\s*${photos.get(f)?.width}×${photos.get(f)?.height}`)));

  // Bad adds are refused whole, naming the file and what is accepted: a photo smaller than the window beside a
  // good photo, and a file that is no photo.
  const tiny = join(dir, 'tiny.png');
  writeFileSync(tiny, encodeGrayPng(new Uint8Array(32 * 32).fill(128), 32, 32));
  const third = photoOrder(readdirSync(FREE))[2] as string;
  await page.getByLabel('Add photos').setInputFiles([join(FREE, third), tiny]);
  await expect(page.getByTestId('photo-set-message')).toHaveText(/^A file could not be added, so nothing was: tiny\.png: is 32x32, smaller than the model's 64x64 window\. Accepted: PNG or JPEG/);
  const notes = join(dir, 'notes.txt');
  writeFileSync(notes, 'not a photo');
  await page.getByLabel('Add photos').setInputFiles([notes]);
  await expect(page.getByTestId('photo-set-message')).toHaveText(/notes\.txt: not a \.png, \.jpg or \.jpeg file/);
  await expect(page.getByTestId('photo-set-count')).toHaveText(/^· 2 photos/);

  // The option says why it cannot be used for a class without real whole-part masks.
  await page.getByLabel('Defect class').selectOption('Free');
  await expect(page.getByTestId('photo-set-note')).toHaveText(/^Not available: model magtile-defect-64-fast's part_masks\.json has no Free masks/);
  await page.getByLabel('Defect class').selectOption('Fray');
  await page.getByRole('checkbox', { name: 'Place defects on the stored photos' }).check();
  await expect(page.getByTestId('photo-set-note')).toHaveText(/^Each image picks a photo and a real Fray mask from its seed/);

  await page.getByLabel('Steps').fill('1');
  await page.getByLabel('Seed').fill(String(SEED));
  await page.getByLabel('Batch size').fill('2');
  await page.screenshot({ path: shot('photoset-generate-panel.png') });
  await studio.generateButton().click();
  await expect(page.getByRole('tab', { name: /^Pending \(2\)$/ })).toBeVisible({ timeout: 170_000 });
  await expect(studio.status).toHaveText('Ready');

  const items = await storedItems(page);
  expect(items.map((i) => [i.className, i.provenance.seed])).toEqual([['Fray', SEED], ['Fray', SEED + 1]]);
  console.log(`photo set items: ${items.map((i) => `seed ${i.provenance.seed} on ${i.provenance.basePhoto?.name}, ${i.provenance.windows?.length} windows`).join('; ')}`);
  for (const it of items) {
    const p = it.provenance;
    const base = photos.get(p.basePhoto?.name as string);
    expect(base, `item's photo ${p.basePhoto?.name} is one of the set`).toBeDefined();
    const g = base as NonNullable<typeof base>;
    expect([it.width, it.height, p.basePhoto?.width, p.basePhoto?.height]).toEqual([g.width, g.height, g.width, g.height]);
    expect(p).toMatchObject({ maskOrigin: 'library', steps: 1, modelId: STUDENT });
    const img = decodeToGray(Uint8Array.from(it.png));
    const mask = decodeMaskPng(Uint8Array.from(it.mask));
    expect([img.width, img.height, mask.width, mask.height]).toEqual([g.width, g.height, g.width, g.height]);
    const painted = mask.pixels.reduce((a, v) => a + (v ? 1 : 0), 0);
    expect(painted, 'mask pixels').toBeGreaterThan(100);
    const area = regeneratedArea(p.windows as PhotoWindow[], g.width, g.height);
    let outside = 0, inside = 0;
    for (let i = 0; i < g.pixels.length; i++) {
      if (img.pixels[i] === g.pixels[i]) continue;
      if (area[i]) inside++;
      else outside++;
    }
    expect(outside, 'pixels outside the regenerated windows that differ from the photo').toBe(0);
    expect(inside, 'regenerated pixels that changed').toBeGreaterThan(100);
  }

  // The same seeds from the command line on the same folder: the same photos, masks and (both on WASM) bytes.
  const out = join(dir, 'cli');
  const cli = spawnSync('npx', ['tsx', 'scripts/generate.ts', '--model', `public/models/${STUDENT}`, '--class', 'Fray', '--photos', folder, '--n', '2', '--seed', String(SEED), '--steps', '1', '--backend', 'wasm', '--out', out], { encoding: 'utf8' });
  expect(cli.status, cli.stderr).toBe(0);
  const lines = readFileSync(join(out, 'metadata.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Provenance & { file: string; mask: string });
  expect(lines.map((l) => l.basePhoto)).toEqual(items.map((i) => i.provenance.basePhoto));
  expect(new Set(lines.map((l) => l.basePhoto?.name)), 'the two seeds pick the two photos').toEqual(new Set(two));
  for (const [k, l] of lines.entries()) {
    const it = items[k] as Stored;
    expect(l.windows).toEqual(it.provenance.windows);
    expect(Buffer.from(readFileSync(join(out, l.mask))).equals(Buffer.from(it.mask)), `seed ${l.seed}: CLI mask PNG equals the studio's`).toBe(true);
    expect(Buffer.from(readFileSync(join(out, l.file))).equals(Buffer.from(it.png)), `seed ${l.seed}: CLI image PNG equals the studio's`).toBe(true);
  }

  // npm run reproduce -- --photos <the folder> remakes the studio's items from their records bit for bit.
  const models = modelLoader(`public/models/${STUDENT}`, undefined, 0);
  const outcomes = await reproduce(models.modelFor, items.map((it, k) => ({ name: `item ${k}`, provenance: it.provenance, png: Uint8Array.from(it.png), maskPng: Uint8Array.from(it.mask) })), folder, 0);
  await models.release();
  expect(outcomes).toEqual(items.map(() => expect.objectContaining({ status: 'reproduced', maxDiff: 0, maskMatches: true })));

  // A reload keeps the photo set, the option and the items.
  await page.reload();
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await expect(page.getByTestId('photo-set-count')).toHaveText(/^· 2 photos · \d/);
  await expect(page.getByRole('checkbox', { name: 'Place defects on the stored photos' })).toBeChecked();
  await expect(page.getByRole('tab', { name: /^Pending \(2\)$/ })).toBeVisible();
  expect((await storedItems(page)).map((i) => i.provenance.basePhoto)).toEqual(items.map((i) => i.provenance.basePhoto));
  await page.getByRole('tablist', { name: 'Panels' }).getByRole('tab', { name: 'Generate', exact: true }).click();
  await page.getByTestId('photo-set').scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot('photoset-after-reload.png') });

  // Fill to target honours the option: the missing Fray goes on the photos; Free, which has no whole-part masks,
  // is not queued and the notice says why.
  await studio.openTab('Dataset');
  await expect(page.getByTestId('fill-advice')).toHaveText(/^Fill to target puts every class it can on the stored base photos/);
  await page.getByText('Targets per class', { exact: true }).click();
  // the defect classes start at the protocol's 300 (src/config.ts DEFAULT_TARGET_PER_DEFECT_CLASS), Free at 0
  await expect(page.getByLabel('Target for Crack')).toHaveValue('300');
  await expect(page.getByLabel('Target for Free')).toHaveValue('0');
  for (const c of ['Blowhole', 'Break', 'Crack', 'Uneven']) await page.getByLabel(`Target for ${c}`).fill('0');
  await page.getByLabel('Target for Fray').fill('3');
  await page.getByLabel('Target for Free').fill('1');
  await page.getByRole('button', { name: 'Fill to target' }).click();
  await expect(page.getByRole('alert')).toHaveText(/^Queued 1 generations to reach the targets\. Not queued on the stored photos: Free \(model magtile-defect-64-fast's part_masks\.json has no Free masks/);
  await expect(page.getByRole('tab', { name: /^Pending \(3\)$/ })).toBeVisible({ timeout: 170_000 });
  const filled = (await storedItems(page))[2] as Stored;
  expect(filled.className).toBe('Fray');
  expect(two).toContain(filled.provenance.basePhoto?.name);
  expect([filled.width, filled.height]).toEqual([photos.get(filled.provenance.basePhoto?.name as string)?.width, photos.get(filled.provenance.basePhoto?.name as string)?.height]);
  expect(filled.provenance.maskOrigin).toBe('library');
  await studio.openTab('Generate');

  // Removing one, then all.
  await page.getByRole('button', { name: `Remove ${two[0]}` }).click();
  await expect(page.getByTestId('photo-set-count')).toHaveText(/^· 1 photo · /);
  // Remove all asks first: dismissed, nothing goes; accepted, the set is empty
  page.once('dialog', (d) => void d.dismiss());
  await page.getByRole('button', { name: 'Remove all', exact: true }).click();
  await expect(page.getByTestId('photo-set-count')).toHaveText(/^· 1 photo · /);
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Remove all', exact: true }).click();
  await expect(page.getByTestId('photo-set-count')).toHaveText('· 0 photos');
  await expect(page.getByRole('checkbox', { name: 'Place defects on the stored photos' })).toBeEnabled();
  expect(offsite).toEqual([]);
});
