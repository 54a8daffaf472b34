/**
 * The distilled few-step student in the browser: one batch-1 call per step with the teacher's guidance built
 * in, a fast preview, network evaluations recorded, the same bytes as the command-line generator on WASM, and
 * the PyTorch output of the exported file reproduced by the worker.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { decodeTensor, readReference, referenceBatch } from './reference';

const STUDENT = 'magtile-defect-64-fast';

async function resultPng(page: Page): Promise<Buffer> {
  const bytes = await page.getByTestId('detail-image').evaluate(async (img: HTMLImageElement) => Array.from(new Uint8Array(await (await fetch(img.src)).arrayBuffer())));
  return Buffer.from(bytes);
}

test('distilled student: 4 batch-1 calls per image, guidance built in, a 1-call preview, CLI bytes on WASM, PyTorch parity', async ({ studio, page, offsite }) => {
  await studio.open(`?backend=wasm&debug&model=${STUDENT}`);
  expect(await studio.backend()).toBe('wasm');
  await expect(page.getByTestId('guidance-built-in')).toHaveValue('1.5 (built in)');
  await expect(page.getByLabel('Sampler')).toHaveValue('consistency');
  await expect(page.getByLabel('Steps')).toHaveValue('4');

  // The worker runs the exported file as PyTorch did (training/reference/model_io_<id>.json, written by export.py).
  const ref = readReference(STUDENT);
  const batch = referenceBatch(ref);
  const out = (await page.evaluate(async (b) => {
    const dbg = (globalThis as unknown as { ddsDebug: { client: { runModel(x: unknown): Promise<{ output: Float32Array }> } } }).ddsDebug;
    const r = await dbg.client.runModel({
      batch: b.batch, sample: Float32Array.from(b.sample), timestep: Float32Array.from(b.timestep), classLabels: BigInt64Array.from(b.classLabels.map((v) => BigInt(v))),
      defectMask: Float32Array.from(b.defectMask), knownImage: Float32Array.from(b.knownImage), keepMask: Float32Array.from(b.keepMask),
    });
    return Array.from(r.output);
  }, batch)) as number[];
  const want = decodeTensor(ref.outputs['model_output'] as Parameters<typeof decodeTensor>[0]);
  expect(out.length).toBe(want.length);
  expect(Math.max(...out.map((v, i) => Math.abs(v - (want[i] as number))))).toBeLessThanOrEqual(ref.tolerance);

  await page.getByLabel('Defect class').selectOption('Crack');
  await page.getByLabel('Seed').fill('7');
  await page.getByLabel('Batch size').fill('1');
  await studio.generateButton().click();
  await expect(page.getByTestId('detail-image')).toBeVisible();
  await expect(studio.status).toHaveText('Ready');
  await expect(page.getByTestId('detail-evaluations')).toHaveText('4');
  expect(await page.evaluate('globalThis.ddsDebug.store.getState().lastProgressSteps')).toEqual([1, 2, 3, 4]);
  const png = await resultPng(page);

  const dir = mkdtempSync(join(tmpdir(), 'dds-fast-'));
  const cli = spawnSync('npx', ['tsx', 'scripts/generate.ts', '--model', `public/models/${STUDENT}`, '--class', 'Crack', '--n', '1', '--seed', '7', '--backend', 'wasm', '--out', dir], { encoding: 'utf8' });
  expect(cli.status, cli.stderr).toBe(0);
  expect(png.equals(readFileSync(join(dir, 'images', 'Crack', 'Crack_s7.png'))), 'browser PNG equals the CLI PNG byte for byte').toBe(true);
  const rec = JSON.parse(readFileSync(join(dir, 'metadata.jsonl'), 'utf8').split('\n')[0] as string);
  expect(rec).toMatchObject({ sampler: 'consistency', steps: 4, guidance: 1, modelEvaluations: 4, modelId: STUDENT });

  // Fast preview: one call.
  const before = (await page.evaluate('globalThis.ddsDebug.store.getState().items.length')) as number;
  await page.getByRole('button', { name: /Fast preview/ }).click();
  await page.waitForFunction((n) => (globalThis as unknown as { ddsDebug: { store: { getState(): { items: unknown[] } } } }).ddsDebug.store.getState().items.length > n, before);
  await expect(studio.status).toHaveText('Ready');
  const last = (await page.evaluate('globalThis.ddsDebug.store.getState().items.at(-1).provenance')) as { steps: number; modelEvaluations: number };
  expect([last.steps, last.modelEvaluations]).toEqual([1, 1]);
  expect(offsite).toEqual([]);
});
