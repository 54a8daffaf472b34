import { readFileSync } from 'node:fs';
import { strFromU8, unzipSync } from 'fflate';
import { decodeCocoRle } from '../src/core/formats/coco';
import { decodeToGray } from '../src/core/formats/image';
import type { Browser, Page } from '@playwright/test';
import { modelLoader, readRecorded, reproduce } from '../scripts/reproduce';
import { test, expect, StudioPage } from './fixtures';

test('studio loop: generate a batch, review by keyboard, survive a reload, export a checked zip, import it elsewhere', async ({ studio, page, context, baseURL, offsite, cspViolations }) => {
  await studio.open('?backend=wasm');
  // The built app runs under its Content-Security-Policy (vite.config.ts): the meta tag is there.
  await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveAttribute('content', /default-src 'self'.*'wasm-unsafe-eval'/);
  await page.getByLabel('Defect class').selectOption('Crack');
  await page.getByLabel('Seed').fill('11');
  await page.getByLabel('Steps').fill('4');
  await page.getByLabel('Batch size').fill('3');
  await studio.generateButton().click();
  await expect(page.getByRole('tab', { name: /^Pending \(3\)$/ })).toBeVisible({ timeout: 120_000 });
  await expect(studio.status).toHaveText('Ready');

  // Keyboard review: the first item is selected; A accepts and moves on, R rejects.
  await page.getByRole('list', { name: 'Generated images' }).getByRole('listitem').first().click();
  await page.keyboard.press('a');
  await page.keyboard.press('a');
  await page.keyboard.press('r');
  await expect(page.getByRole('tab', { name: /^Accepted \(2\)$/ })).toBeVisible();
  await expect(page.getByRole('tab', { name: /^Rejected \(1\)$/ })).toBeVisible();
  // U undoes the last decision; 2 rejects again, with the class's second reason.
  await page.keyboard.press('u');
  await expect(page.getByRole('tab', { name: /^Rejected \(0\)$/ })).toBeVisible();
  await expect(page.getByRole('group', { name: 'Reject this image because' }).getByRole('button').nth(1)).toHaveText('2 Wrong defect class');
  await page.keyboard.press('2');
  await expect(page.getByRole('tab', { name: /^Rejected \(1\)$/ })).toBeVisible();
  await expect(page.getByTestId('detail-reason')).toHaveText('Reason: Wrong defect class');

  await page.reload();
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await expect(page.getByRole('tab', { name: /^Accepted \(2\)$/ })).toBeVisible();
  await expect(page.getByRole('tab', { name: /^Rejected \(1\)$/ })).toBeVisible();
  await expect(page.getByRole('tab', { name: /^All \(3\)$/ })).toBeVisible();

  // Per-image quality flags came from the embedded classifier in the worker; the panel plots accepted items.
  await page.getByRole('list', { name: 'Generated images' }).getByRole('listitem').first().click();
  await expect(page.getByTestId('detail-quality')).toBeVisible();
  // Reuse this seed puts the item's seed and settings back in the form and says what the next image would not share.
  const seed = /seed (\d+)$/.exec((await page.getByTestId('detail-image').getAttribute('alt')) ?? '')?.[1] as string;
  await page.getByLabel('Seed').fill('999');
  await page.getByRole('button', { name: 'Reuse this seed' }).click();
  await expect(page.getByLabel('Seed')).toHaveValue(seed);
  await expect(page.getByRole('note')).toContainText(`Seed ${seed} and its settings are in the form (with no canvas mask in use, the same library mask is drawn again).`);
  await expect(page.getByTestId('detail-flags')).toHaveText(/^(none|(inconsistent|memorised|outlier)(, (inconsistent|memorised|outlier))*)$/);
  await studio.openTab('Quality');
  await expect(page.getByTestId('quality-table').getByRole('row', { name: /Crack/ })).toContainText('2 / 300'); // accepted / target: defect classes start at 300 (src/config.ts)

  await studio.openTab('Dataset');
  // without the photo-set option, Fill to target makes windows and the hint says what the protocol found (src/config.ts)
  await expect(page.getByTestId('fill-advice')).toHaveText(/^Tip: small defects \(Blowhole, Break, Crack\) made on real defect-free photos/);
  await expect(page.getByTestId('reject-reasons').getByRole('row', { name: /Crack/ })).toContainText(/Wrong defect class\s*1/);
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export dataset' }).click();
  const files = unzipSync(readFileSync(await (await download).path()));
  const images = Object.keys(files).filter((f) => f.startsWith('images/'));
  expect(images).toHaveLength(2);
  expect(images.every((f) => f.startsWith('images/Crack/'))).toBe(true);
  for (const f of images) {
    const img = decodeToGray(files[f] as Uint8Array);
    const mask = decodeToGray(files[f.replace(/^images\//, 'masks/')] as Uint8Array);
    expect([mask.width, mask.height]).toEqual([img.width, img.height]);
    expect(JSON.parse(img.text['dds:params'] as string)).toMatchObject({ className: 'Crack', steps: 4 });
  }
  const coco = JSON.parse(strFromU8(files['annotations.coco.json'] as Uint8Array));
  expect(coco.images).toHaveLength(2);
  expect(coco.categories.map((c: { name: string }) => c.name)).toContain('Crack');
  for (const ann of coco.annotations) {
    const im = coco.images.find((i: { id: number }) => i.id === ann.image_id);
    const mask = decodeToGray(files[im.file_name.replace(/^images\//, 'masks/')] as Uint8Array).pixels;
    expect(Array.from(decodeCocoRle(ann.segmentation))).toEqual(Array.from(mask, (v) => (v ? 1 : 0)));
  }
  const lines = strFromU8(files['metadata.jsonl'] as Uint8Array).trim().split('\n').map((l) => JSON.parse(l));
  expect(lines).toHaveLength(3);
  expect(lines.filter((l) => l.status === 'accepted').map((l) => l.file).sort()).toEqual(images.sort());
  expect(lines.filter((l) => l.status === 'rejected').map((l) => l.rejectReason)).toEqual(['Wrong defect class']);
  expect(lines.filter((l) => l.status !== 'rejected').every((l) => l.rejectReason === undefined)).toBe(true);
  for (const l of lines) {
    expect(files[l.file]).toBeDefined();
    expect(l.provenance).toMatchObject({ className: 'Crack', steps: 4, backend: 'wasm', modelId: 'magtile-defect-64', threads: expect.any(Number) });
    expect(l.provenance.seed).toBeGreaterThanOrEqual(11);
  }
  expect(strFromU8(files['README.txt'] as Uint8Array)).toMatch(/Huang/);
  // Every item, accepted or rejected, is made again from its provenance alone (scripts/reproduce.ts: onnxruntime-web's
  // WASM under Node, with the thread count each item records), bit for bit.
  const models = modelLoader('public/models/magtile-defect-64', undefined, 0);
  const outcomes = await reproduce(models.modelFor, readRecorded(await (await download).path()), undefined, 0);
  await models.release();
  expect(outcomes, JSON.stringify(outcomes)).toEqual(Array.from({ length: 3 }, () => expect.objectContaining({ status: 'reproduced', maxDiff: 0, maskMatches: true, backend: 'wasm' })));

  // Import restores everything in a browser profile that has never seen it (fresh context, empty storage).
  const fresh = await (context.browser() as Browser).newContext({ baseURL });
  const origin = new URL(baseURL as string).origin;
  await fresh.route((url) => url.origin !== origin && !url.protocol.startsWith('blob') && !url.protocol.startsWith('data'), (route) => {
    offsite.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  const other = new StudioPage(await fresh.newPage());
  await other.open('?backend=wasm');
  await expect(other.page.getByRole('tab', { name: /^All \(0\)$/ })).toBeVisible();
  await other.page.getByLabel('Dataset zip').setInputFiles(await (await download).path());
  await expect(other.page.getByText('Imported 3 items.')).toBeVisible({ timeout: 30_000 });
  await expect(other.page.getByRole('tab', { name: /^Accepted \(2\)$/ })).toBeVisible();
  await expect(other.page.getByRole('tab', { name: /^Rejected \(1\)$/ })).toBeVisible();
  await fresh.close();
  expect(offsite).toEqual([]);
  // Generate, review and export ran under the policy without a single violation (page and workers).
  expect(await cspViolations()).toEqual([]);
});

test('bad input gets a clear message and loses nothing: a corrupt model file, a manifest that does not match its ONNX file, a non-zip import', async ({ studio, page }) => {
  await studio.open('?backend=wasm');
  const manifest = JSON.parse(readFileSync('public/models/magtile-defect-64/manifest.json', 'utf8'));
  await page.getByLabel('Model files').setInputFiles([
    { name: 'manifest.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...manifest, id: 'broken-model' })) },
    { name: 'model.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not an onnx file') },
  ]);
  await expect(page.getByRole('alert')).toContainText(/Model not loaded: the ONNX file's SHA-256 is [0-9a-f]{64} \(24 bytes\) but manifest.json says/);
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  // The right ONNX file (sha256 matches) under a manifest that names an input the model does not have.
  const renamed = { ...manifest, id: 'renamed-input', inputs: manifest.inputs.map((t: { name: string }) => (t.name === 'sample' ? { ...t, name: 'x_t' } : t)) };
  await page.getByLabel('Model files').setInputFiles([
    { name: 'manifest.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(renamed)) },
    { name: 'model.onnx', mimeType: 'application/octet-stream', buffer: readFileSync('public/models/magtile-defect-64/model.onnx') },
  ]);
  await expect(page.getByRole('alert')).toContainText('manifest.json does not match the ONNX file: manifest input "x_t" (role sample) is not an input of the ONNX model; ONNX input "sample" is not described in the manifest', { timeout: 120_000 });
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await expect(page.getByTestId('engine')).toContainText('model magtile-defect-64');
  // ...and the model that was loaded still generates.
  await page.getByLabel('Steps').fill('2');
  await page.getByLabel('Batch size').fill('1');
  await studio.generateButton().click();
  await expect(page.getByRole('tab', { name: /^All \(1\)$/ })).toBeVisible({ timeout: 60_000 });
  await page.getByLabel('Dataset zip').setInputFiles({ name: 'photo.zip', mimeType: 'application/zip', buffer: Buffer.from('PNG?') });
  await expect(page.getByRole('alert')).toContainText(/Import failed, nothing was imported: the dataset zip is not a readable zip file/);
});

test('a user model (model.onnx + manifest.json) loads, is stored in the browser and listed after a reload', async ({ studio, page }) => {
  await studio.open('?backend=wasm');
  const manifest = JSON.parse(readFileSync('public/models/magtile-defect-64/manifest.json', 'utf8'));
  await page.getByLabel('Model files').setInputFiles([
    { name: 'manifest.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(manifest)) },
    { name: 'model.onnx', mimeType: 'application/octet-stream', buffer: readFileSync('public/models/magtile-defect-64/model.onnx') },
  ]);
  // Same id as the embedded model: refused with a message that says what to change.
  await expect(page.getByRole('alert')).toContainText(/the id of an embedded model; give your model its own id/);
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });

  await page.getByLabel('Model files').setInputFiles([
    { name: 'manifest.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...manifest, id: 'my-tiles', version: '2.0.0' })) },
    { name: 'model.onnx', mimeType: 'application/octet-stream', buffer: readFileSync('public/models/magtile-defect-64/model.onnx') },
    { name: 'mask_library.json', mimeType: 'application/json', buffer: readFileSync('public/models/magtile-defect-64/mask_library.json') },
  ]);
  await expect(page.getByText('Model my-tiles loaded and stored in this browser.')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('engine')).toContainText('model my-tiles 2.0.0');
  await page.reload();
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await expect(page.locator('.model-picker select')).toHaveValue('my-tiles');
  await expect(page.locator('.model-picker select').getByRole('option')).toHaveText([/^magtile-defect-64 \(embedded default\)/, /^magtile-defect-64-fast \(embedded, distilled: 4 calls per window\)/, /my-tiles \(loaded/]);
});

/** The names the denoiser workers were started with (only those: onnxruntime's thread workers may be blocked in a wait). */
function denoiserWorkerNames(page: Page): Promise<string[]> {
  return Promise.all(page.workers().filter((w) => /denoiser\.worker/.test(w.url())).map((w) => w.evaluate(() => self.name)));
}

test('without ?debug the page exposes no test hooks and its worker is started without them', async ({ studio, page, offsite }) => {
  await studio.open('?backend=wasm');
  const names = await denoiserWorkerNames(page);
  expect(names).toEqual(['denoiser']);
  expect(await page.evaluate(() => 'ddsDebug' in globalThis)).toBe(false);
  expect(offsite).toEqual([]);
});

test('a worker crash mid-batch fails that job with a message, keeps what was stored, and the next batch runs on a fresh worker', async ({ studio, page, offsite }) => {
  await studio.open('?backend=wasm&debug');
  // ?debug starts the worker with the test-only hooks (DiffusionDebugHooks); a production page never does.
  expect(await denoiserWorkerNames(page)).toEqual(['denoiser-debug']);
  await page.getByLabel('Defect class').selectOption('Blowhole');
  await page.getByLabel('Seed').fill('21');
  await page.getByLabel('Steps').fill('12');
  await page.getByLabel('Batch size').fill('3');
  await studio.generateButton().click();
  // Let the first image land, then crash the worker while the second is running.
  await expect(page.getByRole('tab', { name: /^Pending \(1\)$/ })).toBeVisible({ timeout: 120_000 });
  await expect(page.getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^([2-9]|1[01])$/, { timeout: 60_000 });
  await page.evaluate('globalThis.ddsDebug.client.debugCrash()');
  await expect(page.getByRole('alert')).toContainText('the worker crashed', { timeout: 30_000 });
  await expect(page.getByRole('alert')).toContainText('queue is paused');
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await expect(page.getByRole('tab', { name: /^Pending \(1\)$/ })).toBeVisible();

  // Generate resumes the paused queue on the fresh worker (the model was reloaded by the restart).
  await studio.generateButton().click();
  await expect(page.getByRole('tab', { name: /^Pending \(([3-9])\)$/ })).toBeVisible({ timeout: 120_000 });
  await expect(studio.status).toHaveText('Ready', { timeout: 60_000 });

  // A crash while idle fails nothing; the page says so once the model is back, and generating still works.
  await page.evaluate('globalThis.ddsDebug.client.debugCrash()');
  await expect(page.getByRole('note').filter({ hasText: 'stopped while idle' })).toContainText('was reloaded on a fresh worker', { timeout: 60_000 });
  const pendingBefore = Number((await page.getByRole('tab', { name: /^Pending/ }).textContent())?.match(/\d+/)?.[0]);
  await page.getByLabel('Batch size').fill('1');
  await studio.generateButton().click();
  await expect(page.getByRole('tab', { name: `Pending (${pendingBefore + 1})` })).toBeVisible({ timeout: 120_000 });

  await page.reload();
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await expect(page.getByRole('tab', { name: `Pending (${pendingBefore + 1})` })).toBeVisible();
  expect(offsite).toEqual([]);
});

test('a full storage quota stops the queue with a message; what was stored survives a reload', async ({ studio, page, context, baseURL, offsite }) => {
  // A real quota, enforced by Chromium (DevTools protocol), just above what the empty app already uses.
  const cdp = await context.newCDPSession(page);
  await studio.open('?backend=wasm');
  const usage = (await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0)) as number;
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL as string).origin, quotaSize: usage + 40_000 });
  await page.getByLabel('Defect class').selectOption('Uneven');
  await page.getByLabel('Seed').fill('31');
  await page.getByLabel('Steps').fill('2');
  await page.getByLabel('Batch size').fill('16');
  await studio.generateButton().click();
  await expect(page.getByRole('alert')).toContainText('browser storage is full', { timeout: 120_000 });
  await expect(studio.status).toHaveText('Ready');
  const tab = page.getByRole('tab', { name: /^All \(\d+\)$/ });
  const stored = Number((await tab.textContent())?.match(/\((\d+)\)/)?.[1]);
  console.log(`stored before the quota ran out: ${stored} of 16`);
  expect(stored).toBeGreaterThan(0);
  expect(stored).toBeLessThan(16);
  await expect(page.getByRole('alert')).toContainText(`The ${16 - stored} images left in the queue were not made.`);

  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL as string).origin });
  await page.reload();
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await expect(page.getByRole('tab', { name: new RegExp(`^All \\(${stored}\\)$`) })).toBeVisible();
  expect(offsite).toEqual([]);
});
