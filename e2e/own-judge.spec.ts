/**
 * A model's own judge (issue 19 point 3; src/core/quality/judgeChoice.ts): user model zips built here from the
 * committed files (the default model's network under a new id, the shipped classifier as the model's "own") are
 * judged by the classifier they carry; one whose classifier has other classes gets no judge, says why and still
 * generates; one without a classifier, trained on other data, gets the plain "no evaluation classifier" sentence
 * and no per-image flags (not flags from a judge of another model's classes).
 */
import { readFileSync } from 'node:fs';
import { strToU8, zipSync } from 'fflate';
import type { Page } from '@playwright/test';
import { test, expect, type StudioPage } from './fixtures';

// The teacher's files: a distilled student loaded from files keeps the page's guidance (1.5), which it refuses
// (src/app/models.ts addUserModel does not apply a model's defaults, as activateModel does).
const BASE = 'public/models/magtile-defect-64';
const CLS = 'public/models/magtile-classifier-64';
const NO_JUDGE = 'This model has no evaluation classifier of its own classes, so no quality numbers: train one with npm run train, which puts it in the model zip.';

const json = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

/** A user model zip: the default model's files under `id`, with training data `training`, and classifier/ when given. */
function modelZip(id: string, training: Record<string, unknown>, classifier?: { id: string; classes?: string[] }): Buffer {
  const m = json(`${BASE}/manifest.json`);
  const files: Record<string, Uint8Array> = {
    'manifest.json': strToU8(JSON.stringify({ ...m, id, version: '1.0.0', training: { ...(m['training'] as object), ...training } })),
    'model.onnx': readFileSync(`${BASE}/model.onnx`),
    'mask_library.json': readFileSync(`${BASE}/mask_library.json`),
  };
  if (classifier) {
    const cm = json(`${CLS}/manifest.json`);
    const ref = json(`${CLS}/reference_features.json`);
    files['classifier/manifest.json'] = strToU8(JSON.stringify({ ...cm, id: classifier.id, ...(classifier.classes ? { classes: classifier.classes } : {}) }));
    files['classifier/model.onnx'] = readFileSync(`${CLS}/model.onnx`);
    files['classifier/reference_features.json'] = strToU8(JSON.stringify({ ...ref, classifierId: classifier.id }));
  }
  return Buffer.from(zipSync(files));
}

/** Loads a zip through the Load model input and waits for the notice that names the model. */
async function load(studio: StudioPage, page: Page, name: string, zip: Buffer): Promise<void> {
  await page.getByLabel('Model files').setInputFiles({ name, mimeType: 'application/zip', buffer: zip });
  await expect(page.getByText(new RegExp(`Model ${name.replace('.zip', '')} loaded and stored in this browser\\.`))).toBeVisible({ timeout: 120_000 });
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
}

/** Generates one Crack image in 2 steps and returns the classifier that judged it (null: none did). */
async function generateOne(studio: StudioPage, page: Page, seed: number): Promise<{ classifierId: string | null; flags: string[] | null }> {
  const before = await page.evaluate(() => (globalThis as unknown as { ddsDebug: { store: { getState(): { items: unknown[] } } } }).ddsDebug.store.getState().items.length);
  await studio.openTab('Generate');
  await page.getByLabel('Defect class').selectOption('Crack');
  await page.getByLabel('Seed').fill(String(seed));
  await page.getByLabel('Steps').fill('2');
  await page.getByLabel('Batch size').fill('1');
  await studio.generateButton().click();
  await page.waitForFunction((n) => (globalThis as unknown as { ddsDebug: { store: { getState(): { items: unknown[] } } } }).ddsDebug.store.getState().items.length > n, before, { timeout: 120_000 });
  await expect(studio.status).toHaveText('Ready', { timeout: 60_000 });
  return page.evaluate(() => {
    const items = (globalThis as unknown as { ddsDebug: { store: { getState(): { items: { createdAt: string; quality?: { classifierId: string; flags: string[] } }[] } } } }).ddsDebug.store.getState().items;
    const last = [...items].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
    return { classifierId: last?.quality?.classifierId ?? null, flags: last?.quality?.flags ?? null };
  });
}

test("a model's own classifier judges it; a classifier of other classes is refused with the reason; no classifier and other data: no judge, no flags", async ({ studio, page, offsite }) => {
  test.setTimeout(480_000); // three user models of 11 MB loaded and checked, four generations, on a shared CPU
  await page.setViewportSize({ width: 1280, height: 800 });
  await studio.open('?backend=wasm&debug');

  // 1. Its own classifier: named in the notice and the quality panel, and it judges the images.
  await load(studio, page, 'e2e-own-judge.zip', modelZip('e2e-own-judge', { dataset: 'my-parts', datasetFileListSha256: 'a'.repeat(64) }, { id: 'e2e-parts-classifier' }));
  await expect(page.getByText('Judged by its own classifier e2e-parts-classifier.')).toBeVisible();
  const own = await generateOne(studio, page, 3);
  expect(own.classifierId).toBe('e2e-parts-classifier');
  await studio.openTab('Quality');
  await expect(page.getByTestId('judge')).toContainText('Judged by its own classifier e2e-parts-classifier: e2e-own-judge carries its own evaluation classifier');
  await expect(page.getByTestId('no-judge')).toHaveCount(0);
  await expect(page.getByTestId('quality-table')).toBeVisible();
  await expect(page.getByTestId('downstream-judge')).toContainText('the model’s own classifier e2e-parts-classifier');

  // 2. The same model whose classifier has other classes: refused, the reason named; the model loads and generates, unjudged.
  const other = ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Good'];
  await load(studio, page, 'e2e-refused-judge.zip', modelZip('e2e-refused-judge', { dataset: 'my-parts', datasetFileListSha256: 'a'.repeat(64) }, { id: 'e2e-other-classifier', classes: other }));
  const reason = "the classifier e2e-refused-judge carries was refused: its classes (Blowhole, Break, Crack, Fray, Uneven, Good) are not the model's classes (Blowhole, Break, Crack, Fray, Uneven, Free)";
  await expect(page.getByText(`It has no evaluation classifier, so no quality numbers or flags: ${reason}`, { exact: false })).toBeVisible();
  await studio.openTab('Quality');
  await expect(page.getByTestId('no-judge')).toHaveText(NO_JUDGE);
  await expect(page.getByTestId('judge-reason')).toContainText(reason);
  const refused = await generateOne(studio, page, 4);
  expect(refused).toEqual({ classifierId: null, flags: null });

  // 3. No classifier, trained on other data: the embedded classifier is not borrowed; one sentence, no numbers, no flags.
  await load(studio, page, 'e2e-no-judge.zip', modelZip('e2e-no-judge', { dataset: 'my-parts', datasetFileListSha256: 'b'.repeat(64) }));
  const none = await generateOne(studio, page, 5);
  expect(none).toEqual({ classifierId: null, flags: null });
  // Accepted, so the quality panel would have a number to show if it had a judge.
  await page.getByRole('list', { name: 'Generated images' }).getByRole('listitem').first().click();
  await page.keyboard.press('a');
  await studio.openTab('Quality');
  await expect(page.getByTestId('no-judge')).toHaveText(NO_JUDGE);
  await expect(page.getByTestId('judge-reason')).toContainText('e2e-no-judge carries no classifier/ and was trained on dataset "my-parts"');
  await expect(page.getByTestId('quality-table')).toHaveCount(0);
  await expect(page.getByTestId('judge')).toHaveCount(0);
  await expect(page.getByTestId('downstream-no-judge')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Run downstream check' })).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath('own-judge-no-judge-1280x800.png') });
  if (process.env.OWN_JUDGE_SHOT) await page.screenshot({ path: process.env.OWN_JUDGE_SHOT });

  // 4. Loose files (the Load model input): the classifier's manifest.json and model.onnx beside the model's files of
  // the same names, told apart by the manifest's task and the ONNX file's sha256. Stored with the model, so after a
  // reload the stored model is judged by its own classifier again.
  const zipped = modelZip('e2e-loose-judge', { dataset: 'my-parts' }, { id: 'e2e-loose-classifier' });
  const { unzipSync } = await import('fflate');
  const entries = unzipSync(new Uint8Array(zipped));
  await page.getByLabel('Model files').setInputFiles(
    ['classifier/manifest.json', 'manifest.json', 'classifier/model.onnx', 'model.onnx', 'classifier/reference_features.json', 'mask_library.json'].map((p) => ({
      name: p.split('/').pop() as string, mimeType: p.endsWith('.onnx') ? 'application/octet-stream' : 'application/json', buffer: Buffer.from(entries[p] as Uint8Array),
    })),
  );
  await expect(page.getByText('Model e2e-loose-judge loaded and stored in this browser. Judged by its own classifier e2e-loose-classifier.')).toBeVisible({ timeout: 120_000 });
  await page.reload();
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await studio.openTab('Quality');
  await expect(page.getByTestId('judge')).toContainText('Judged by its own classifier e2e-loose-classifier: e2e-loose-judge carries its own evaluation classifier');

  // Back on the embedded default: the embedded classifier judges it again.
  await studio.openTab('Generate');
  await page.locator('.model-picker select').selectOption('magtile-defect-64');
  await expect(studio.status).toHaveText('Ready', { timeout: 120_000 });
  await studio.openTab('Quality');
  await expect(page.getByTestId('judge')).toContainText('Judged by the embedded classifier magtile-classifier-64: magtile-defect-64 is an embedded model');
  expect(offsite).toEqual([]);
});
