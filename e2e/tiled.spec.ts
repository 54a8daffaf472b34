import { missing } from '../scripts/lib/needs';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { regeneratedArea } from '../src/core/diffusion/composite';
import { decodeMaskPng, decodeToGray } from '../src/core/formats/image';
import { pngXmp, TRAINED_ALGORITHMIC_MEDIA } from '../src/core/formats/xmp';
import { parseYoloLabel, rasterisePolygons } from '../src/core/formats/yolo';
import type { PhotoWindow, Provenance } from '../src/core/model/protocol';
import { modelLoader, reproduce } from '../scripts/reproduce';
import { test, expect } from './fixtures';

// A real defect-free photo from the training data (not shipped with the app; tests read it in place).
const FREE = '../shared/datasets/magnetic-tile/train/Free';
const photo = existsSync(FREE) ? join(FREE, readdirSync(FREE).filter((f) => f.endsWith('.jpg')).sort()[0] as string) : null;

test('a crack taller than the model window and a large Fray region on a real photo: tiled, only the regenerated area changes, masks exact, reproduced in Node', async ({ studio, page, offsite }) => {
  test.skip(missing(photo !== null, FREE), 'magnetic-tile dataset not present');
  await studio.open('?backend=wasm&debug');
  await page.getByLabel('Steps').fill('4');
  await page.getByLabel('Batch size').fill('1');
  await studio.openTab('Mask');
  await page.getByLabel('Base photo').setInputFiles(photo as string);
  await expect(page.getByText(/^Photo .*\.jpg \(\d+×\d+\)/)).toBeVisible();
  const original = (await page.evaluate('Array.from(globalThis.ddsDebug.canvas.photo.pixels)')) as number[];
  const [pw, ph] = (await page.evaluate('[globalThis.ddsDebug.canvas.photo.width, globalThis.ddsDebug.canvas.photo.height]')) as [number, number];
  const box = (await page.getByTestId('mask-canvas').boundingBox())!;
  const drag = async (tool: string, from: [number, number], to: [number, number]) => {
    await page.getByRole('button', { name: tool }).click();
    await page.mouse.move(box.x + box.width * from[0], box.y + box.height * from[1]);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * to[0], box.y + box.height * to[1], { steps: 10 });
    await page.mouse.up();
  };
  const painted: number[][] = [];
  const generate = async (className: string) => {
    painted.push((await page.evaluate('Array.from(globalThis.ddsDebug.canvas.doc.data)')) as number[]);
    await studio.openTab('Generate');
    await page.getByLabel('Defect class').selectOption(className);
    await studio.generateButton().click();
    await expect(page.getByRole('tab', { name: /^Pending \(1\)$/ })).toBeVisible({ timeout: 170_000 });
    // select the new item (a photo item's thumbnail is cropped to its defect), then accept it
    await page.getByRole('img', { name: new RegExp(`^${className} seed \\d+ \\(pending\\)`) }).first().click();
    await page.getByRole('button', { name: 'Accept', exact: true }).click();
    await expect(page.getByRole('tab', { name: /^Pending \(0\)$/ })).toBeVisible();
  };

  // A long crack with the line tool: about three quarters of the photo's height, over 150 px.
  await drag('Line (cracks)', [0.42, 0.08], [0.58, 0.85]);
  await generate('Crack');
  // A large Fray region with the ellipse tool, about a third of the width and height.
  await studio.openTab('Mask');
  await page.getByRole('region', { name: 'Mask' }).getByRole('button', { name: 'Clear', exact: true }).click();
  await drag('Ellipse (pits)', [0.08, 0.5], [0.45, 0.9]);
  await generate('Fray');

  await studio.openTab('Dataset');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export dataset' }).click();
  const files = unzipSync(readFileSync(await (await download).path()));
  const lines = strFromU8(files['metadata.jsonl'] as Uint8Array).trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l) => l.className)).toEqual(['Crack', 'Fray']);
  for (const [k, line] of lines.entries()) {
    const paintedK = painted[k] as number[];
    const ys = paintedK.flatMap((v, i) => (v ? [Math.floor(i / pw)] : []));
    const xs = paintedK.flatMap((v, i) => (v ? [i % pw] : []));
    const extent = Math.max(Math.max(...ys) - Math.min(...ys), Math.max(...xs) - Math.min(...xs));
    expect(extent, 'painted region, px').toBeGreaterThan(k === 0 ? 150 : 70);
    const img = decodeToGray(files[line.file] as Uint8Array);
    const mask = decodeToGray(files[line.mask] as Uint8Array);
    expect([img.width, img.height, mask.width, mask.height]).toEqual([pw, ph, pw, ph]);
    expect(Array.from(mask.pixels, (v) => (v ? 1 : 0)).findIndex((v, i) => v !== paintedK[i]), 'first pixel where the exported mask differs from the painted one').toBe(-1);
    const p = line.provenance as Provenance;
    expect(p.tiling).toMatchObject({ method: 'multidiffusion' });
    const wins = p.windows as PhotoWindow[];
    expect(wins.length).toBeGreaterThan(2);
    const area = regeneratedArea(wins, pw, ph);
    const outside: number[] = [];
    let inside = 0;
    for (let i = 0; i < original.length; i++) {
      if (img.pixels[i] === original[i]) continue;
      if (area[i]) inside++;
      else outside.push(i);
    }
    expect(outside, 'pixels outside the regenerated area that differ from the photo').toEqual([]);
    expect(inside).toBeGreaterThan(200);
    expect(pngXmp(files[line.file] as Uint8Array), 'XMP mark of AI-generated media').toContain(`Iptc4xmpExt:DigitalSourceType="${TRAINED_ALGORITHMIC_MEDIA}"`);
  }

  // YOLO segmentation labels beside the images (Ultralytics swaps /images/ for /labels/) and data.yaml.
  const labelOf = (file: string) => file.replace(/^images\//, 'labels/').replace(/\.png$/, '.txt');
  expect(Object.keys(files).filter((f) => f.startsWith('labels/')).sort()).toEqual(lines.map((l) => labelOf(l.file)).sort());
  const yaml = strFromU8(files['data.yaml'] as Uint8Array);
  expect(yaml).toMatch(/^train: images$/m);
  const names = [...yaml.matchAll(/^ {2}(\d+): "(.*)"$/gm)].map((m) => m[2]);
  for (const [k, line] of lines.entries()) {
    const mask = decodeMaskPng(files[line.mask] as Uint8Array);
    const objects = parseYoloLabel(strFromU8(files[labelOf(line.file)] as Uint8Array), pw, ph);
    expect(objects.length).toBeGreaterThanOrEqual(1);
    expect(objects.every((o) => names[o.classIndex] === line.className)).toBe(true);
    // Filled at pixel centres, the polygons give the exported mask back; a pixel may differ only on the boundary.
    const back = rasterisePolygons(objects.map((o) => o.polygon), pw, ph);
    const offBoundary: number[] = [];
    let differing = 0;
    for (let i = 0; i < back.length; i++) {
      if (back[i] === mask.pixels[i]) continue;
      differing++;
      const x = i % pw, y = Math.floor(i / pw);
      const onBoundary = [[1, 0], [-1, 0], [0, 1], [0, -1]].some(([dx, dy]) => {
        const qx = x + (dx as number), qy = y + (dy as number);
        return qx >= 0 && qy >= 0 && qx < pw && qy < ph && mask.pixels[qy * pw + qx] !== mask.pixels[i];
      });
      if (!onBoundary) offBoundary.push(i);
    }
    expect(offBoundary, `item ${k}: pixels off the region boundary where the YOLO polygons and the mask disagree`).toEqual([]);
    expect(differing, `item ${k}: pixels where the YOLO polygons and the mask disagree`).toBe(0);
  }

  // Made again outside the browser (onnxruntime-web's WASM under Node, the recorded windows and tiling). The
  // records are read as written: the dataset schema (src/dataset/record.ts) does not carry provenance.tiling yet.
  const models = modelLoader('public/models/magtile-defect-64', undefined, 0);
  const items = lines.map((l) => ({ name: l.file as string, provenance: l.provenance as Provenance, png: files[l.file] as Uint8Array, maskPng: files[l.mask] as Uint8Array }));
  const outcomes = await reproduce(models.modelFor, items, FREE, 0);
  await models.release();
  expect(outcomes).toEqual(items.map(() => expect.objectContaining({ status: 'reproduced', maxDiff: 0, maskMatches: true, recordedBackend: 'wasm', backend: 'wasm' })));
  expect(offsite).toEqual([]);
});
