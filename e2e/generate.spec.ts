import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { decodeTensor, readReference, referenceBatch } from './reference';

const MODEL = 'magtile-defect-64';

async function resultPng(page: Page): Promise<Buffer> {
  const bytes = await page.getByTestId('detail-image').evaluate(async (img: HTMLImageElement) => {
    const b = await (await fetch(img.src)).arrayBuffer();
    return Array.from(new Uint8Array(b));
  });
  return Buffer.from(bytes);
}

/** Runs the model once on the reference input inside the page's worker; returns the output as numbers. */
async function runReference(page: Page): Promise<number[]> {
  const batch = referenceBatch(readReference(MODEL));
  return page.evaluate(async (b) => {
    const dbg = (globalThis as unknown as { ddsDebug: { client: { runModel(x: unknown): Promise<{ output: Float32Array }> } } }).ddsDebug;
    const r = await dbg.client.runModel({
      batch: b.batch,
      sample: Float32Array.from(b.sample),
      timestep: Float32Array.from(b.timestep),
      classLabels: BigInt64Array.from(b.classLabels.map((v) => BigInt(v))),
      defectMask: Float32Array.from(b.defectMask),
      knownImage: Float32Array.from(b.knownImage),
      keepMask: Float32Array.from(b.keepMask),
    });
    return Array.from(r.output);
  }, batch);
}

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

test('WASM: generates with progress for every step, byte-identical to the command-line generator, offline', async ({ studio, page, offsite }) => {
  await studio.open('?backend=wasm&debug');
  expect(await studio.backend()).toBe('wasm');
  const steps = 8;
  await page.getByLabel('Defect class').selectOption('Crack');
  await page.getByLabel('Seed').fill('7');
  await page.getByLabel('Steps').fill(String(steps));
  await page.getByLabel('Batch size').fill('1');
  await studio.generateButton().click();
  await expect(page.getByTestId('detail-image')).toBeVisible();
  await expect(studio.status).toHaveText('Ready');
  await expect(page.getByTestId('detail-backend')).toContainText('wasm');
  expect(await page.evaluate('globalThis.ddsDebug.store.getState().lastProgressSteps')).toEqual(Array.from({ length: steps }, (_, i) => i + 1));

  const png = await resultPng(page);
  // Not blank: decode the PNG through the browser and look at the pixel spread.
  const spread = await page.getByTestId('detail-image').evaluate((img: HTMLImageElement) => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d') as CanvasRenderingContext2D;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let lo = 255, hi = 0;
    for (let i = 0; i < d.length; i += 4) {
      lo = Math.min(lo, d[i] as number);
      hi = Math.max(hi, d[i] as number);
    }
    return hi - lo;
  });
  expect(spread).toBeGreaterThan(20);

  const out = mkdtempSync(join(tmpdir(), 'dds-cli-'));
  const cli = spawnSync('npx', ['tsx', 'scripts/generate.ts', '--model', `public/models/${MODEL}`, '--class', 'Crack', '--n', '1', '--seed', '7',
    '--steps', String(steps), '--backend', 'wasm', '--out', out], { encoding: 'utf8' });
  expect(cli.status, cli.stderr).toBe(0);
  const cliPng = readFileSync(join(out, 'images', 'Crack', 'Crack_s7.png'));
  expect(png.equals(cliPng), 'browser PNG equals the CLI PNG byte for byte').toBe(true);
  expect(offsite).toEqual([]);
});

test('WebGPU (SwiftShader here): reports webgpu and matches WASM and PyTorch within 1e-4', async ({ context, offsite }) => {
  const ref = readReference(MODEL);
  const torchOut = decodeTensor(ref.outputs['model_output'] as never);

  const gpuPage = await context.newPage();
  await gpuPage.goto('/?backend=webgpu&debug');
  await expect(gpuPage.getByRole('status').first()).toHaveText('Ready', { timeout: 120_000 });
  expect((await gpuPage.getByTestId('backend').textContent())?.trim()).toBe('webgpu');
  const gpu = await runReference(gpuPage);
  await gpuPage.close();

  const wasmPage = await context.newPage();
  await wasmPage.goto('/?backend=wasm&debug');
  await expect(wasmPage.getByRole('status').first()).toHaveText('Ready', { timeout: 120_000 });
  const wasm = await runReference(wasmPage);
  await wasmPage.close();

  const dGpuWasm = maxAbsDiff(gpu, wasm);
  const dWasmTorch = maxAbsDiff(wasm, torchOut);
  console.log(`max |webgpu - wasm| = ${dGpuWasm.toExponential(2)}, max |wasm - pytorch| = ${dWasmTorch.toExponential(2)}`);
  expect(dGpuWasm).toBeLessThan(1e-4);
  expect(dWasmTorch).toBeLessThan(ref.tolerance);
  expect(offsite).toEqual([]);
});

test('auto backend: a software WebGPU adapter is passed over for WASM; start-up phases are reported', async ({ studio, page, offsite }) => {
  await studio.open('?debug');
  // Judge the adapter here, independently of the worker's code.
  const software = await page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info: { isFallbackAdapter?: boolean; vendor: string; description: string } } | null> } }).gpu;
    const a = gpu ? await gpu.requestAdapter() : null;
    if (!a) return null;
    return a.info.isFallbackAdapter === true || /swiftshader/i.test(`${a.info.vendor} ${a.info.description}`);
  });
  const backend = await studio.backend();
  expect(backend).toBe(software === false ? 'webgpu' : 'wasm');
  if (software) await expect(page.getByTestId('engine')).toContainText('software WebGPU adapter passed over');
  const model = (await page.evaluate('globalThis.ddsDebug.store.getState().model')) as { loadMs: number; phases: { name: string; ms: number }[] };
  const names = model.phases.map((p) => p.name);
  expect(names).toEqual(expect.arrayContaining(['fetch manifest + model', 'sha256', 'session create']));
  const sum = model.phases.reduce((a, p) => a + p.ms, 0);
  expect(Math.abs(sum - model.loadMs)).toBeLessThan(50);
  expect(offsite).toEqual([]);
});

test('cancel stops a running job within a step, on the same worker (no terminate + respawn)', async ({ studio, page, offsite }) => {
  await studio.open('?backend=wasm&debug');
  const r = (await page.evaluate(`(async () => {
    const c = globalThis.ddsDebug.client;
    const before = c.spawned;
    let last = 0, cancelledAt = 0;
    const job = c.generate({ className: 'Crack', prompt: '', seed: 1, sampler: 'dpmpp2m', steps: 30, guidance: 2, eta: 0, timestepSpacing: 'trailing', clipSample: false },
      (p) => { last = p.step; if (p.step === 3 && !cancelledAt) { cancelledAt = 3; void c.cancel(); } });
    try { await job; return { outcome: 'finished', last }; }
    catch (e) { return { outcome: e.name, message: e.message, last, sameWorker: c.spawned === before }; }
  })()`)) as { outcome: string; message?: string; last: number; sameWorker?: boolean };
  expect(r.outcome).toBe('aborted');
  expect(r.message).toBe('generation cancelled');
  // The step running when the cancel arrived may finish; no model call starts after it.
  expect(r.last).toBeLessThanOrEqual(4);
  expect(r.sameWorker).toBe(true);

  // The same through the UI: Cancel returns to Ready with nothing stored and no error.
  await page.getByLabel('Steps').fill('30');
  await page.getByLabel('Batch size').fill('1');
  await studio.generateButton().click();
  await expect(page.getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^([2-9]|1\d)$/, { timeout: 60_000 });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(studio.status).toHaveText('Ready', { timeout: 10_000 });
  await expect(page.getByRole('tab', { name: /^All \(0\)$/ })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  // And the worker still generates.
  await page.getByLabel('Steps').fill('4');
  await studio.generateButton().click();
  await expect(page.getByRole('tab', { name: /^All \(1\)$/ })).toBeVisible({ timeout: 60_000 });
  expect(offsite).toEqual([]);
});
