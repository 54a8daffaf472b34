/**
 * Engine benchmark: one run, same model, printed as a table (not a timed test).
 *
 *   npm run bench                (options: --calls 20 --model magtile-defect-64 --student magtile-defect-64-fast --no-webgpu)
 *   npm run bench -- --startup   (only the cold start: page load -> Ready -> first image, by phase, 3 runs, per model)
 *
 * With a distilled student (public/models/<student>, default magtile-defect-64-fast when present) the same run
 * also measures it beside the teacher: one batch-1 call (a student step) native and in Chromium, GFLOP/s from the
 * manifests' flopsPerCall, a finished default image in Chromium, and the first image after page load.
 *
 * Measures the median time of one guided model call (batch 2, the unit of one sampler step) on
 * onnxruntime-node (native), onnxruntime-web WASM under Node, and onnxruntime-web in headless Chromium
 * (WASM 1 thread, WASM all threads, WebGPU when an adapter exists), then a full default generation in the
 * browser: time per image, sampler + messaging overhead per step (time outside session.run), and time from
 * page load to the first finished image. Ratios are computed within this one run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from '@playwright/test';
import { generateImage } from '../src/core/diffusion/generate';
import type { DenoiseBatch } from '../src/core/model/denoiser';
import { buildRequest } from '../src/core/model/request';
import { loadNodeModel, type NodeBackend } from '../scripts/lib/nodeModel';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '20' }, model: { type: 'string', default: 'magtile-defect-64' }, student: { type: 'string' }, 'no-webgpu': { type: 'boolean' }, startup: { type: 'boolean' } } });
const CALLS = Number(values.calls);
const MODEL = values.model as string;
const STUDENT = values.student ?? (existsSync('public/models/magtile-defect-64-fast/manifest.json') ? 'magtile-defect-64-fast' : '');
const flopsPerCall = (id: string): number => (JSON.parse(readFileSync(`public/models/${id}/manifest.json`, 'utf8')) as { training: { flopsPerCall: number } }).training.flopsPerCall;
const PORT = 4190;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** A guided call (batch 2: class and null label, one teacher step) or a batch-1 call (one student step). */
function batchFor(size: number, batch: 1 | 2 = 2): DenoiseBatch {
  const n = size * size;
  const sample = new Float32Array(batch * n).map((_, i) => Math.sin(i));
  return {
    batch, sample, timestep: new Float32Array(batch).fill(500), classLabels: BigInt64Array.from([2n, 6n].slice(0, batch)),
    defectMask: new Float32Array(batch * n), knownImage: new Float32Array(batch * n), keepMask: new Float32Array(batch * n),
  };
}

async function nodeCall(backend: NodeBackend, threads: number, model = MODEL, batch: 1 | 2 = 2): Promise<number> {
  const m = await loadNodeModel(`public/models/${model}`, backend, threads);
  const b = batchFor(m.manifest.image.width, batch);
  for (let i = 0; i < 3; i++) await m.denoise(b);
  const ts: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await m.denoise(b);
    ts.push(performance.now() - t0);
  }
  await m.session.release();
  return median(ts);
}

/**
 * Whole default images on onnxruntime-node native, guidance at every step vs only in the manifest's guidance
 * interval (steps outside it are one batch-1 call), alternated so both see the same machine load.
 */
async function nativeImages(threads: number, images: number): Promise<{ every: number; interval: number; batchRows: [number, number]; gi: readonly [number, number] } | null> {
  const m = await loadNodeModel(`public/models/${MODEL}`, 'native', threads);
  const d = m.manifest.defaults;
  if (!d.guidanceInterval) {
    await m.session.release();
    return null;
  }
  let counted = 0;
  const denoise = (b: DenoiseBatch) => {
    counted += b.batch;
    return m.denoise(b);
  };
  // Guided at every step; the second request of each pair takes the manifest's interval.
  const req = buildRequest(m.manifest, { className: m.manifest.classes[0] as string, seed: 1, guidanceInterval: 'all' });
  const every: number[] = [], interval: number[] = [];
  const rows: [number, number] = [0, 0];
  for (let i = 0; i < images + 1; i++) {
    for (const [k, r] of [[0, req], [1, { ...req, guidanceInterval: d.guidanceInterval }]] as const) {
      counted = 0;
      const t0 = performance.now();
      await generateImage(m.manifest, m.maskLibrary, denoise, { ...r, seed: i }, 'native');
      if (i > 0) (k === 0 ? every : interval).push(performance.now() - t0); // the first pair warms up
      rows[k] = counted;
    }
  }
  await m.session.release();
  return { every: median(every), interval: median(interval), batchRows: rows, gi: d.guidanceInterval };
}

interface Opened { readyMs: number; marks: { name: string; at: number }[]; phases: { name: string; ms: number }[]; backend: string }
async function openStudio(page: Page, query: string): Promise<Opened> {
  await page.goto(`http://localhost:${PORT}/${query}`);
  await page.getByRole('status').first().filter({ hasText: /^(Ready|Error.*)$/ }).waitFor({ timeout: 300_000 });
  const text = await page.getByRole('status').first().textContent();
  if (text !== 'Ready') throw new Error(`studio did not start: ${text}`);
  const readyMs = await page.evaluate(() => performance.now());
  const marks = (await page.evaluate(`performance.getEntriesByType('mark').filter((m) => m.name.startsWith('dds:')).map((m) => ({ name: m.name, at: m.startTime }))`)) as { name: string; at: number }[];
  const phases = (await page.evaluate('globalThis.ddsDebug.store.getState().model?.phases ?? []')) as { name: string; ms: number }[];
  return { readyMs, marks, phases, backend: ((await page.getByTestId('backend').textContent()) ?? '').trim() };
}

// Page-side code is a plain JS string: tsx would wrap named inner functions in a __name() helper that does
// not exist in the page.
const BROWSER_CALL = `async ({ calls, size, batch }) => {
  const client = globalThis.ddsDebug.client;
  const n = size * size;
  const inRun = [], rt = [];
  for (let i = 0; i < calls + 2; i++) {
    const b = {
      batch, sample: new Float32Array(batch * n).map((_, k) => Math.sin(k)), timestep: new Float32Array(batch).fill(500),
      classLabels: BigInt64Array.from([2n, 6n].slice(0, batch)), defectMask: new Float32Array(batch * n), knownImage: new Float32Array(batch * n),
      keepMask: new Float32Array(batch * n),
    };
    const t0 = performance.now();
    const r = await client.runModel(b);
    if (i >= 2) { rt.push(performance.now() - t0); inRun.push(r.ms); }
  }
  inRun.sort((a, b) => a - b); rt.sort((a, b) => a - b);
  return { inRun: inRun[Math.floor(inRun.length / 2)], roundTrip: rt[Math.floor(rt.length / 2)] };
}`;

async function browserCall(page: Page, calls: number, size: number, batch: 1 | 2 = 2): Promise<{ inRun: number; roundTrip: number }> {
  return page.evaluate(`(${BROWSER_CALL})(${JSON.stringify({ calls, size, batch })})`) as Promise<{ inRun: number; roundTrip: number }>;
}

/** One default generation through the UI (batch size 1); returns the timings the worker reported. */
async function generateOnce(page: Page): Promise<{ totalMs: number; modelMs: number; steps: number; finishedAt: number }> {
  const before = (await page.evaluate('globalThis.ddsDebug.store.getState().items.length')) as number;
  await page.getByLabel('Batch size').fill('1');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  // A function, not a string: the app's Content-Security-Policy forbids the eval a string predicate needs.
  await page.waitForFunction((n) => (globalThis as unknown as { ddsDebug: { store: { getState(): { items: unknown[] } } } }).ddsDebug.store.getState().items.length > n, before, { timeout: 300_000, polling: 20 });
  const finishedAt = (await page.evaluate('performance.now()')) as number;
  await page.getByRole('status').first().filter({ hasText: /^Ready$/ }).waitFor({ timeout: 60_000 });
  const t = (await page.evaluate('globalThis.ddsDebug.store.getState().items.at(-1)?.provenance.timings')) as
    | { totalMs: number; modelMs: number; steps: number }
    | undefined;
  if (!t) throw new Error('no result');
  return { ...t, finishedAt };
}

async function main() {
  const cores = availableParallelism();
  const rows: [string, string, string][] = [];
  console.log(`model ${MODEL}, ${CALLS} calls each, median ms per guided call (batch 2 = one sampler step), ${cores} cores`);
  const native1 = await nodeCall('native', 1);
  const nativeN = await nodeCall('native', cores);
  const nodeWasm1 = await nodeCall('wasm', 1);
  const nodeWasmN = await nodeCall('wasm', cores);
  const imgs = await nativeImages(cores, 5);
  const studentNative = STUDENT ? await nodeCall('native', cores, STUDENT, 1) : null;

  await withStudio(async (browser) => {
    const p1 = await browser.newPage();
    await openStudio(p1, `?backend=wasm&threads=1&debug&model=${MODEL}`);
    const bw1 = await browserCall(p1, CALLS, 64);
    await p1.close();

    // Cold start: page load -> Ready -> one image at the default settings (all threads).
    const pN = await browser.newPage();
    const ready = await openStudio(pN, `?backend=wasm&debug&model=${MODEL}`);
    const first = await generateOnce(pN);
    const bwN = await browserCall(pN, CALLS, 64);
    const gens = [];
    for (let i = 0; i < 3; i++) gens.push(await generateOnce(pN));
    await pN.close();

    // The student in the same browser and run: first image after its page load, one batch-1 call, 3 images.
    let student: { ready: Opened; first: Awaited<ReturnType<typeof generateOnce>>; call: { inRun: number; roundTrip: number }; gens: Awaited<ReturnType<typeof generateOnce>>[] } | null = null;
    if (STUDENT) {
      const pS = await browser.newPage();
      const sReady = await openStudio(pS, `?backend=wasm&debug&model=${STUDENT}`);
      const sFirst = await generateOnce(pS);
      const sCall = await browserCall(pS, CALLS, 64, 1);
      const sGens = [];
      for (let i = 0; i < 3; i++) sGens.push(await generateOnce(pS));
      await pS.close();
      student = { ready: sReady, first: sFirst, call: sCall, gens: sGens };
    }

    let gpu: { inRun: number; roundTrip: number; adapter: string } | null = null;
    if (!values['no-webgpu']) {
      const pg = await browser.newPage();
      try {
        const o = await openStudio(pg, `?backend=webgpu&debug&model=${MODEL}`);
        if (o.backend === 'webgpu') {
          const adapter = await pg.evaluate(() => (document.querySelector('[data-testid=engine]')?.textContent ?? ''));
          gpu = { ...(await browserCall(pg, 2, 64)), adapter: /SwiftShader|fallback/i.test(adapter) ? 'SwiftShader (fallback adapter, CPU)' : 'hardware' };
        }
      } catch (e) {
        console.log(`webgpu: not measured (${(e as Error).message.split('\n')[0]})`);
      }
      await pg.close();
    }

    const fmt = (x: number) => x.toFixed(1);
    rows.push(['onnxruntime-node native, 1 thread', fmt(native1), '1.00x native(1t)']);
    rows.push([`onnxruntime-node native, ${cores} threads`, fmt(nativeN), '']);
    rows.push(['onnxruntime-web WASM under Node, 1 thread', fmt(nodeWasm1), `${(nodeWasm1 / native1).toFixed(2)}x native(1t)`]);
    rows.push([`onnxruntime-web WASM under Node, ${cores} threads`, fmt(nodeWasmN), `${(nodeWasmN / nativeN).toFixed(2)}x native(${cores}t)`]);
    rows.push(['Chromium worker WASM, 1 thread (session.run)', fmt(bw1.inRun), `${(bw1.inRun / native1).toFixed(2)}x native(1t)`]);
    rows.push([`Chromium worker WASM, ${cores} threads (session.run)`, fmt(bwN.inRun), `${(bwN.inRun / nativeN).toFixed(2)}x native(${cores}t)`]);
    rows.push([`Chromium worker WASM, ${cores} threads (page round trip)`, fmt(bwN.roundTrip), `messaging ${fmt(bwN.roundTrip - bwN.inRun)} ms/call`]);
    if (gpu) rows.push([`Chromium WebGPU, ${gpu.adapter} (session.run)`, fmt(gpu.inRun), `${(gpu.inRun / bwN.inRun).toFixed(1)}x WASM(${cores}t)`]);
    else rows.push(['Chromium WebGPU', 'n/a', 'no adapter']);
    const steady = gens.map((g) => g.totalMs);
    const ov = gens.map((g) => (g.totalMs - g.modelMs) / g.steps);
    const share = gens.map((g) => (g.totalMs - g.modelMs) / g.totalMs);
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`\n| ${'runtime'.padEnd(w)} | ms/step | ratio |`);
    console.log(`|${'-'.repeat(w + 2)}|---------|-------|`);
    for (const r of rows) console.log(`| ${r[0].padEnd(w)} | ${r[1].padStart(7)} | ${r[2]} |`);
    if (imgs) {
      console.log(`\nDefault image on onnxruntime-node native, ${cores} threads (median of 5, alternated): guidance at every step ` +
        `${fmt(imgs.every)} ms (${imgs.batchRows[0]} batch rows), only at noise levels (${imgs.gi[0]}, ${imgs.gi[1]}] ${fmt(imgs.interval)} ms ` +
        `(${imgs.batchRows[1]} batch rows): ${(imgs.interval / imgs.every).toFixed(2)}x`);
    }
    console.log(`\nDefault generation in Chromium (WASM, ${cores} threads, ${gens[0]?.steps} steps, guided):`);
    console.log(`  time per finished image:          ${fmt(median(steady))} ms (median of ${gens.length})`);
    console.log(`  sampler + messaging overhead:     ${fmt(median(ov))} ms/step = ${(median(share) * 100).toFixed(2)}% of a step (target < 5%)`);
    console.log(`  page load -> Ready:               ${fmt(ready.readyMs)} ms`);
    for (const m of ready.marks) console.log(`    ${m.name.padEnd(28)} at ${fmt(m.at)} ms`);
    console.log('    worker loadModel phases:');
    for (const p of ready.phases) console.log(`      ${fmt(p.ms).padStart(8)} ms  ${p.name}`);
    console.log(`  page load -> first image:         ${fmt(first.finishedAt)} ms (target < 3000 ms; includes the click)`);
    if (student && studentNative) {
      const tImg = median(steady);
      const sImg = median(student.gens.map((g) => g.totalMs));
      const gf = (flops: number, ms: number) => (flops / 1e9 / (ms / 1000)).toFixed(1);
      const tf = flopsPerCall(MODEL), sf = flopsPerCall(STUDENT);
      console.log(`\nTeacher ${MODEL} vs distilled student ${STUDENT}, this run (Chromium WASM ${cores} threads, native ${cores} threads):`);
      console.log('| | teacher | student | student / teacher |');
      console.log('|---|---|---|---|');
      console.log(`| network evaluations per default image | ${gens[0]?.steps} steps, guided | ${student.gens[0]?.steps} steps, batch 1 | |`);
      console.log(`| finished default image in Chromium (median of 3) | ${fmt(tImg)} ms | ${fmt(sImg)} ms | ${(sImg / tImg).toFixed(3)}x |`);
      console.log(`| first image after page load (same browser, HTTP cache warm for ORT) | ${fmt(first.finishedAt)} ms | ${fmt(student.first.finishedAt)} ms | ${(student.first.finishedAt / first.finishedAt).toFixed(2)}x |`);
      console.log(`| one call in Chromium (session.run) | ${fmt(bwN.inRun)} ms (batch 2) | ${fmt(student.call.inRun)} ms (batch 1) | ${(student.call.inRun / bwN.inRun).toFixed(2)}x |`);
      console.log(`| one call native | ${fmt(nativeN)} ms (batch 2) | ${fmt(studentNative)} ms (batch 1) | ${(studentNative / nativeN).toFixed(2)}x |`);
      console.log(`| browser / native per call | ${(bwN.inRun / nativeN).toFixed(2)}x | ${(student.call.inRun / studentNative).toFixed(2)}x | |`);
      console.log(`| GFLOP per image row per call | ${(tf / 1e9).toFixed(2)} | ${(sf / 1e9).toFixed(2)} | |`);
      console.log(`| GFLOP/s in Chromium / native | ${gf(2 * tf, bwN.inRun)} / ${gf(2 * tf, nativeN)} | ${gf(sf, student.call.inRun)} / ${gf(sf, studentNative)} | |`);
      console.log(`  targets: finished window <= 500 ms in the browser; first image <= 2500 ms warm, <= 5000 ms cold (npm run bench -- --startup)`);
    }
  });
}

/** Builds (unless BENCH_BUILD=0 and dist exists), serves dist with vite preview, and opens Chromium. */
async function withStudio(fn: (browser: Browser) => Promise<void>): Promise<void> {
  if (!existsSync('dist/index.html') || process.env.BENCH_BUILD !== '0') spawnSync('npx', ['vite', 'build'], { stdio: 'ignore' });
  const server: ChildProcess = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort'], { stdio: 'ignore', detached: true });
  await new Promise((r) => setTimeout(r, 2500));
  const browser = await chromium.launch({
    ...(existsSync('/usr/bin/chromium') ? { executablePath: '/usr/bin/chromium' } : {}),
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'],
  });
  try {
    await fn(browser);
  } finally {
    await browser.close();
    if (server.pid) process.kill(-server.pid);
  }
}

/**
 * Start-up only. Cold: a fresh browser context (empty HTTP cache, storage and compiled-code cache), page load ->
 * Ready -> first image. Warm: the same page reloaded in that context (what a returning user sees: the model
 * and ORT's .wasm come from the HTTP cache, the compiled wasm from V8's code cache).
 */
async function startup(runs: number): Promise<void> {
  await withStudio(async (browser) => {
    const fmt = (x: number) => x.toFixed(0).padStart(6);
    const show = (label: string, o: Opened, first: Awaited<ReturnType<typeof generateOnce>>) => {
      console.log(`${label}: Ready ${fmt(o.readyMs)} ms, first image ${fmt(first.finishedAt)} ms (generation ${fmt(first.totalMs)} ms, of which model ${fmt(first.modelMs)} ms, ${first.steps} steps)`);
      for (const m of o.marks) console.log(`  ${m.name.padEnd(24)} at ${fmt(m.at)} ms`);
      for (const p of o.phases) console.log(`  ${fmt(p.ms)} ms  loadModel: ${p.name}`);
    };
    for (const model of STUDENT ? [MODEL, STUDENT] : [MODEL]) {
      console.log(`model ${model}`);
      for (let i = 0; i < runs; i++) {
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        const cold = await openStudio(page, `?backend=wasm&debug&model=${model}`);
        show(`run ${i + 1} cold`, cold, await generateOnce(page));
        const warm = await openStudio(page, `?backend=wasm&debug&model=${model}`);
        show(`run ${i + 1} warm`, warm, await generateOnce(page));
        await ctx.close();
      }
    }
  });
}

if (values.startup) await startup(3);
else await main();
