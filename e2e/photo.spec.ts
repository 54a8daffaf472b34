import { missing } from '../scripts/lib/needs';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { decodeToGray } from '../src/core/formats/image';
import { modelLoader, readRecorded, reproduce } from '../scripts/reproduce';
import { test, expect } from './fixtures';

// A real defect-free photo from the training data (not shipped with the app; tests read it in place).
const FREE = '../shared/datasets/magnetic-tile/train/Free';
const photo = existsSync(FREE) ? join(FREE, readdirSync(FREE).filter((f) => f.endsWith('.jpg')).sort()[0] as string) : null;

test('paint a mask on a real defect-free photo: only the window changes, the exported mask is the painted one', async ({ studio, page, offsite }) => {
  test.skip(missing(photo !== null, FREE), 'magnetic-tile dataset not present');
  await studio.open('?backend=wasm&debug');
  await page.getByLabel('Defect class').selectOption('Crack');
  await page.getByLabel('Steps').fill('4');
  await page.getByLabel('Batch size').fill('1');
  await studio.openTab('Mask');
  await page.getByLabel('Base photo').setInputFiles(photo as string);
  await expect(page.getByText(/^Photo .*\.jpg \(\d+×\d+\)/)).toBeVisible();

  // A crack-like stroke with the line tool, dragged with the mouse.
  await page.getByRole('button', { name: 'Line (cracks)' }).click();
  const box = (await page.getByTestId('mask-canvas').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.45);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.55, { steps: 5 });
  await page.mouse.up();

  const painted = (await page.evaluate('Array.from(globalThis.ddsDebug.canvas.doc.data)')) as number[];
  const original = (await page.evaluate('Array.from(globalThis.ddsDebug.canvas.photo.pixels)')) as number[];
  const [pw, ph] = (await page.evaluate('[globalThis.ddsDebug.canvas.photo.width, globalThis.ddsDebug.canvas.photo.height]')) as [number, number];
  expect(painted.filter((v) => v).length).toBeGreaterThan(5);

  await studio.generateButton().click();
  await expect(page.getByRole('tab', { name: /^Pending \(1\)$/ })).toBeVisible({ timeout: 120_000 });
  await page.getByRole('button', { name: 'Accept', exact: true }).click();
  await studio.openTab('Dataset');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export dataset' }).click();
  const files = unzipSync(readFileSync(await (await download).path()));
  const line = JSON.parse(strFromU8(files['metadata.jsonl'] as Uint8Array).trim());
  const img = decodeToGray(files[line.file] as Uint8Array);
  const mask = decodeToGray(files[line.mask] as Uint8Array);
  expect([img.width, img.height]).toEqual([pw, ph]);
  const maskBits = Array.from(mask.pixels, (v) => (v ? 1 : 0));
  expect(maskBits.length).toBe(painted.length);
  expect(maskBits.findIndex((v, i) => v !== painted[i]), 'first pixel where the exported mask differs from the painted one').toBe(-1);
  expect(line.provenance.basePhoto).toMatchObject({ width: pw, height: ph });
  expect(line.provenance.basePhoto.name).toMatch(/\.jpg$/);
  // Judged on its window; the window's real background alone does not make it "memorised" (region.ts).
  expect(line.quality?.classifierId).toBe('magtile-classifier-64');
  expect(line.quality.flags).not.toContain('memorised');
  const wins = line.provenance.windows as { x: number; y: number; size: number; hole: { x0: number; y0: number; x1: number; y1: number } }[];
  expect(wins.length).toBeGreaterThanOrEqual(1);
  // Only the hole of each window (painted region + margin) may change: the rest of the window is the photo too.
  const inWindow = (i: number) => wins.some((w) => {
    const x = i % pw, y = Math.floor(i / pw);
    return x >= w.x + w.hole.x0 && x < w.x + w.hole.x1 && y >= w.y + w.hole.y0 && y < w.y + w.hole.y1;
  });
  let changedInside = 0;
  const changedOutside: number[] = [];
  for (let i = 0; i < original.length; i++) {
    if (img.pixels[i] === original[i]) continue;
    if (inWindow(i)) changedInside++;
    else changedOutside.push(i);
  }
  expect(changedOutside, 'pixels outside the regenerated holes that differ from the photo').toEqual([]);
  expect(changedInside).toBeGreaterThan(0);

  // The provenance is enough to make the image again outside the browser: the photo from its folder, the
  // recorded windows, onnxruntime-web's WASM under Node.
  const models = modelLoader('public/models/magtile-defect-64', undefined, 0);
  const outcomes = await reproduce(models.modelFor, readRecorded(await (await download).path()), FREE, 0);
  await models.release();
  expect(outcomes).toEqual([expect.objectContaining({ status: 'reproduced', maxDiff: 0, maskMatches: true, recordedBackend: 'wasm', backend: 'wasm' })]);
  expect(offsite).toEqual([]);
});

test('a non-image upload as base photo gets a clear message', async ({ studio, page }) => {
  await studio.open('?backend=wasm');
  await page.getByLabel('Base photo').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.getByRole('alert')).toContainText(/notes\.txt is not a PNG or JPEG image.*accepted: PNG or JPEG/);
});

test('a prompt becomes a class and a mask that the canvas shows; unknown words are pointed out', async ({ studio, page }) => {
  await studio.open('?backend=wasm&debug');
  await page.getByLabel('Prompt').fill('two small blowholes at the top');
  await page.getByRole('button', { name: 'Apply prompt' }).click();
  await expect(page.getByTestId('prompt-notes')).toContainText('Blowhole: 2 × small');
  await expect(page.getByLabel('Defect class')).toHaveValue('Blowhole');
  const m = (await page.evaluate('Array.from(globalThis.ddsDebug.canvas.doc.data)')) as number[];
  const w = (await page.evaluate('globalThis.ddsDebug.canvas.doc.width')) as number;
  const on = m.flatMap((v, i) => (v ? [Math.floor(i / w)] : []));
  expect(on.length).toBeGreaterThan(0);
  expect(on.filter((y) => y < w / 2).length / on.length, 'share of mask pixels in the top half').toBeGreaterThan(0.9);
  // What the canvas shows is that mask: its red pixels are exactly the mask pixels.
  const red = (await page.getByTestId('mask-canvas').evaluate((c: HTMLCanvasElement) => {
    const d = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
    const out: number[] = [];
    for (let i = 0; i < d.length; i += 4) out.push((d[i] as number) > (d[i + 1] as number) ? 1 : 0);
    return out;
  })) as number[];
  expect(red).toEqual(m);

  await page.getByLabel('Prompt').fill('rust on the left');
  await page.getByRole('button', { name: 'Apply prompt' }).click();
  await expect(page.getByTestId('prompt-notes')).toContainText("'rust' is not a class of this model; classes are Blowhole, Break, Crack, Fray, Uneven, Free");
});
