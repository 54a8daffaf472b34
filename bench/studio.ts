/**
 * Studio benchmark (§8): printed figures from one run in headless Chromium, not timed tests.
 *
 *   npm run bench:studio           (options: --batch 8 --items 1000 --presses 50 --port 4191; BENCH_BUILD=0 skips the build)
 *
 * 1. Main-thread long tasks (> 50 ms, Long Tasks API) while a batch of 8 images is generated at the model's
 *    default steps (WASM, all threads), set up through the UI; page-load long tasks are reported apart.
 * 2. Accept/reject keypresses on a dataset of 1,000 items: one generated item is cloned (same PNG bytes and
 *    provenance, distinct ids) straight into the app's IndexedDB stores, the page is reloaded so the app loads
 *    all 1,000 itself, the first cell is clicked, then A/R are pressed alternately. Per press:
 *      - commit: capture-phase keydown listener -> first MutationObserver callback on the grid (the app's
 *        handler + React render + DOM commit, all synchronous work the press causes before the browser can paint);
 *      - frame:  capture-phase keydown listener -> requestAnimationFrame -> setTimeout 0 (the next frame has been
 *        produced; includes waiting for vsync, so up to ~16.7 ms of it is not the app's work);
 *      - Event Timing API keydown entries (input -> next paint as the browser measures it, 8 ms granularity,
 *        only entries >= 16 ms are reported by the browser).
 * 3. Export of the 1,000 items through the "Export dataset" button (exportDataset() is not reachable from
 *    ddsDebug): click -> Playwright download event, zip size and entries, main-thread long tasks during it, and
 *    page memory sampled every 50 ms after a forced GC with CDP Runtime.getHeapUsage: V8 heap (= JSHeapUsedSize
 *    of Performance.getMetrics) plus ArrayBuffer backing stores, which the V8 heap figure leaves out and which
 *    hold the PNG bytes and the zip; reported as peak during export minus before.
 *    performance.measureUserAgentSpecificMemory() is not used: it resolves lazily at a later GC (seconds), one
 *    value per call, so it cannot sample a peak.
 * A diagnostics section then splits the reload cost (object URLs vs React mount of the cells).
 * Long tasks and frame times are wall time: on a loaded machine they include time the main thread waited for a
 * core, so the load average is printed with the figures.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { unzipSync } from 'fflate';
import { chromium, type Page } from '@playwright/test';
import { DIAG, fmt, INIT_SCRIPT, KEY_PROBE, lastClick, loafScripts, ltSummary, mib, pct, readLog, SEED, sleep, WAIT_ITEMS, type Loaf } from './studioPage';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' },
    items: { type: 'string', default: '1000' },
    presses: { type: 'string', default: '50' },
    port: { type: 'string', default: '4191' },
  },
});
const BATCH = Number(values.batch);
const ITEMS = Number(values.items);
const PRESSES = Number(values.presses);
const PORT = Number(values.port);
const BASE = `http://localhost:${PORT}`;

async function waitReady(page: Page): Promise<void> {
  await page.getByRole('status').first().filter({ hasText: /^(Ready|Error.*)$/ }).waitFor({ timeout: 300_000 });
  const text = await page.getByRole('status').first().textContent();
  if (text !== 'Ready') throw new Error(`studio did not start: ${text}`);
}

async function waitForServer(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(BASE)).ok) return;
    } catch {
      /* not up yet */
    }
    await sleep(250);
  }
  throw new Error(`vite preview did not answer on ${BASE}`);
}

async function main() {
  const cores = availableParallelism();
  const load0 = loadavg();
  if (!existsSync('dist/index.html') || process.env.BENCH_BUILD !== '0') {
    const b = spawnSync('npx', ['vite', 'build'], { stdio: 'ignore' });
    if (b.status !== 0) throw new Error('vite build failed');
  }
  const server: ChildProcess = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort'], { stdio: 'ignore', detached: true });
  const browser = await chromium.launch({
    ...(existsSync('/usr/bin/chromium') ? { executablePath: '/usr/bin/chromium' } : {}),
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'],
  });
  const rows: [string, string, string][] = [];
  const notes: string[] = [];
  try {
    await waitForServer();
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
    await context.addInitScript(INIT_SCRIPT);
    const page = await context.newPage();

    // ---- 1. long tasks during a batch of 8 -------------------------------------------------------------------
    await page.goto(`${BASE}/?backend=wasm&debug`);
    await waitReady(page);
    const env = (await page.evaluate(`(() => ({ hc: navigator.hardwareConcurrency, coi: crossOriginIsolated, engine: document.querySelector('[data-testid=engine]')?.textContent?.trim() ?? '', defaults: globalThis.ddsDebug.store.getState().model.manifest.defaults, ua: navigator.userAgent }))()`)) as {
      hc: number; coi: boolean; engine: string; defaults: { steps: number; sampler: string; guidance: number }; ua: string;
    };
    console.log(`environment: ${cores} cores (${cpus()[0]?.model ?? '?'}), load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start`);
    console.log(`  browser: Chromium ${browser.version()} headless, navigator.hardwareConcurrency ${env.hc}, crossOriginIsolated ${env.coi}`);
    console.log(`  studio: ${env.engine}`);
    console.log(`  node ${process.version}; settings: batch ${BATCH}, ${env.defaults.steps} steps (model default), ${env.defaults.sampler}, guidance ${env.defaults.guidance}`);
    const sup = ((await page.evaluate('globalThis.__bench.supported')) as string[]);
    if (!sup.includes('longtask')) notes.push('longtask entries are not supported by this browser: long-task figures are empty, not zero');

    await page.getByLabel('Batch size').fill(String(BATCH));
    await page.getByLabel('Steps').fill(String(env.defaults.steps));
    const set = (await page.evaluate('globalThis.ddsDebug.store.getState().settings')) as { batchSize: number; steps: number };
    if (set.batchSize !== BATCH || set.steps !== env.defaults.steps) throw new Error(`settings not applied: ${JSON.stringify(set)}`);
    const gen = page.getByRole('button', { name: 'Generate', exact: true });
    const batchDone = page.evaluate(`(${WAIT_ITEMS})(${BATCH})`) as Promise<number>;
    await gen.click();
    const batchEnd = await batchDone;
    await page.getByRole('status').first().filter({ hasText: /^Ready$/ }).waitFor({ timeout: 10_000 });
    const log1 = await readLog(page);
    const batchStart = lastClick(log1, 'Generate');
    const loadLt = log1.longtasks.filter((t) => t.start < batchStart);
    const batchLt = log1.longtasks.filter((t) => t.start >= batchStart && t.start < batchEnd);
    const lb = ltSummary(batchLt);
    const ll = ltSummary(loadLt);
    const batchMs = batchEnd - batchStart;
    rows.push([`long tasks (> 50 ms) during a batch of ${BATCH} (${env.defaults.steps} steps)`, `${lb.n}: longest ${fmt(lb.max)} ms, total ${fmt(lb.total)} ms`, '0']);
    rows.push([`batch of ${BATCH}: click -> ${BATCH} items stored, Ready`, `${fmt(batchMs / 1000, 2)} s (${fmt(batchMs / BATCH / 1000, 2)} s/image)`, '']);
    rows.push(['long tasks during page load (before the click)', `${ll.n}: longest ${fmt(ll.max)} ms, total ${fmt(ll.total)} ms`, '']);
    console.log(`\n[1] batch: clicked at ${fmt(batchStart, 0)} ms after navigation, finished ${fmt(batchMs, 0)} ms later`);
    console.log(`  long tasks during the batch (start ms after the click, duration):${batchLt.length ? '' : ' none'}`);
    for (const t of batchLt) console.log(`    +${fmt(t.start - batchStart, 0).padStart(6)}  ${fmt(t.dur).padStart(6)} ms  ${t.attr}`);
    console.log(`  long tasks during page load (ms after navigation, duration):${loadLt.length ? '' : ' none'}`);
    for (const t of loadLt) console.log(`    ${fmt(t.start, 0).padStart(7)}  ${fmt(t.dur).padStart(6)} ms  ${t.attr}`);
    const s1 = loafScripts(log1, batchStart, batchEnd);
    if (s1.length) console.log(`  scripts in long animation frames during the batch (sum):\n    ${s1.join('\n    ')}`);

    // ---- 2. keypresses on 1,000 items ------------------------------------------------------------------------
    const seeded = (await page.evaluate(`(${SEED})(${ITEMS})`)) as { added: number; pngBytes: number; maskBytes: number };
    await page.reload();
    // Functions, not strings: the app's Content-Security-Policy forbids the eval a string predicate needs.
    const inStore = (await (await page.waitForFunction((k) => {
      const d = (globalThis as unknown as { ddsDebug?: { store: { getState(): { items: unknown[] } } } }).ddsDebug;
      return d && d.store.getState().items.length >= k ? performance.now() : 0;
    }, ITEMS, { timeout: 120_000 })).jsonValue()) as number;
    const inGrid = (await (await page.waitForFunction((k) => (document.querySelectorAll('ul.grid li[data-id]').length >= k ? performance.now() : 0), ITEMS, { timeout: 120_000 })).jsonValue()) as number;
    await waitReady(page);
    const readyAt = (await page.evaluate('performance.now()')) as number;
    const count = (await page.evaluate('globalThis.ddsDebug.store.getState().items.length')) as number;
    if (count !== ITEMS) throw new Error(`expected ${ITEMS} items after reload, the store has ${count}`);
    const log2a = await readLog(page);
    const reloadLt = ltSummary(log2a.longtasks);
    rows.push([`reload with ${ITEMS} items: navigation -> items in store / cells in grid`, `${fmt(inStore, 0)} / ${fmt(inGrid, 0)} ms (Ready at ${fmt(readyAt, 0)} ms)`, '']);
    rows.push([`long tasks during that reload`, `${reloadLt.n}: longest ${fmt(reloadLt.max)} ms, total ${fmt(reloadLt.total)} ms`, '']);

    await page.locator('ul.grid li[data-id]').first().click();
    await sleep(300);
    if (!(await page.evaluate(KEY_PROBE))) throw new Error('review grid not found');
    const before2 = (await page.evaluate('performance.now()')) as number;
    type Rec = { key: string; handler: number; commit?: number; raf: number; frame: number; inputDelay: number };
    const recs: Rec[] = [];
    for (let i = 0; i < PRESSES; i++) {
      await page.keyboard.press(i % 2 ? 'r' : 'a');
      recs.push((await page.evaluate(`globalThis.__kb.wait(${i})`)) as Rec);
      await sleep(40);
    }
    await sleep(300); // let the last IndexedDB writes finish
    const log2 = await readLog(page);
    const after2 = (await page.evaluate('performance.now()')) as number;
    const st2 = (await page.evaluate(`(() => { const c = { pending: 0, accepted: 0, rejected: 0 }; for (const i of globalThis.ddsDebug.store.getState().items) c[i.status]++; return c; })()`)) as Record<string, number>;
    const commits = recs.map((r) => r.commit ?? NaN).filter(Number.isFinite);
    const frames = recs.map((r) => r.frame);
    const handlers = recs.map((r) => r.handler);
    const keyLt = ltSummary(log2.longtasks.filter((t) => t.start >= before2 && t.start < after2));
    const evs = log2.events.filter((e) => e.start >= before2 - 50 && e.start < after2);
    rows.push([`keypress A/R on ${ITEMS} items: keydown -> DOM committed (med / p95 / max)`, `${fmt(pct(commits, 0.5))} / ${fmt(pct(commits, 0.95))} / ${fmt(Math.max(...commits))} ms`, '< 16 ms']);
    rows.push([`keypress: keydown -> next frame, rAF+setTimeout (med / p95 / max)`, `${fmt(pct(frames, 0.5))} / ${fmt(pct(frames, 0.95))} / ${fmt(Math.max(...frames))} ms`, '< 16 ms (includes vsync wait)']);
    rows.push([`keypress: Event Timing keydown entries >= 16 ms (browser's input -> paint)`, `${evs.length} of ${PRESSES}${evs.length ? `, longest ${fmt(Math.max(...evs.map((e) => e.dur)), 0)} ms` : ''}`, '0']);
    rows.push([`long tasks during the ${PRESSES} presses`, `${keyLt.n}: longest ${fmt(keyLt.max)} ms`, '0']);
    console.log(`\n[2] seeded ${seeded.added} clones of one item (png ${seeded.pngBytes} B + mask ${seeded.maskBytes} B) into IndexedDB; reloaded: ${count} items`);
    console.log(`  reload long tasks (ms after navigation, duration): ${log2a.longtasks.map((t) => `${fmt(t.start, 0)}:${fmt(t.dur, 0)}`).join(', ') || 'none'}`);
    const s2a = loafScripts(log2a, 0, readyAt);
    if (s2a.length) console.log(`  scripts in long animation frames during the reload (sum):\n    ${s2a.join('\n    ')}`);
    console.log(`  ${PRESSES} presses (a/r alternating), after them: ${JSON.stringify(st2)}; MutationObserver saw a commit on ${commits.length}/${PRESSES}`);
    console.log(`  keydown dispatch (capture -> after the app's listener and the microtasks it queued, React's commit included): median ${fmt(pct(handlers, 0.5))} ms, max ${fmt(Math.max(...handlers))} ms; input delay (event.timeStamp -> capture listener) median ${fmt(pct(recs.map((r) => r.inputDelay), 0.5))} ms`);
    const keyLoafs = log2.loafs.filter((f) => f.start >= before2 && f.start < after2);
    if (keyLoafs.length) {
      const med = (f: (x: Loaf) => number) => fmt(pct(keyLoafs.map(f), 0.5));
      console.log(`  long animation frames (> 50 ms) during the presses: ${keyLoafs.length}; median duration ${med((f) => f.dur)} ms, of which scripts ${med((f) => f.scripts.reduce((a, x) => a + x.dur, 0))} ms, rendering (style/layout/paint, from styleAndLayoutStart to the frame's end) ${med((f) => f.start + f.dur - f.styleStart)} ms`);
    }
    console.log(`  keydown -> DOM committed, ms: ${recs.map((r) => fmt(r.commit ?? NaN)).join(' ')}`);

    // ---- 3. export of 1,000 items ----------------------------------------------------------------------------
    const cdp = await context.newCDPSession(page);
    // V8 heap (JSHeapUsedSize) does not count ArrayBuffer backing stores (the PNG bytes, the zip), so they are added.
    const heap = async () => {
      const h = await cdp.send('Runtime.getHeapUsage');
      return { js: h.usedSize, buffers: h.backingStorageSize, total: h.usedSize + h.backingStorageSize };
    };
    await cdp.send('HeapProfiler.collectGarbage');
    await sleep(200);
    const heapBefore = await heap();
    // The dataset panel is a tab of the left column (issue 17's one-screen layout).
    await page.getByRole('tablist', { name: 'Panels' }).getByRole('tab', { name: 'Dataset', exact: true }).click();
    const btn = page.getByRole('button', { name: 'Export dataset', exact: true });
    await btn.scrollIntoViewIfNeeded();
    // Page-clock end of the export: the button's busy state (disabled) is cleared when exportDataset() returns.
    const exportDoneP = page.evaluate(`new Promise((res) => {
      const b = [...document.querySelectorAll('button')].find((x) => x.textContent.trim() === 'Export dataset');
      let busy = false;
      new MutationObserver(() => { if (b.disabled) busy = true; else if (busy) res(performance.now()); }).observe(b, { attributes: true, attributeFilter: ['disabled'] });
    })`) as Promise<number>;
    let sampling = true;
    const samples: { t: number; v: { js: number; buffers: number; total: number } }[] = [];
    const sampler = (async () => {
      while (sampling) {
        const t = performance.now();
        const v = await heap();
        samples.push({ t: performance.now(), v });
        await sleep(Math.max(0, 50 - (performance.now() - t)));
      }
    })();
    await sleep(120);
    const t0 = performance.now();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), btn.click()]);
    const tDownload = performance.now() - t0;
    const exportEnd = await exportDoneP;
    const file = await download.path();
    await sleep(300);
    sampling = false;
    await sampler;
    const log3 = await readLog(page);
    const exportStart = lastClick(log3, 'Export dataset');
    const expLt = ltSummary(log3.longtasks.filter((t) => t.start >= exportStart));
    const zipBytes = statSync(file).size;
    const entries = Object.keys(unzipSync(new Uint8Array(readFileSync(file))));
    const during = samples.filter((s) => s.t >= t0);
    const peak = Math.max(...during.map((s) => s.v.total));
    const peakJs = Math.max(...during.map((s) => s.v.js));
    const peakBuf = Math.max(...during.map((s) => s.v.buffers));
    let gap = 0;
    for (let i = 1; i < during.length; i++) gap = Math.max(gap, (during[i]?.t ?? 0) - (during[i - 1]?.t ?? 0));
    rows.push([`export ${ITEMS} items: click -> download event (Node clock)`, `${fmt(tDownload, 0)} ms; in page click -> done ${fmt(exportEnd - exportStart, 0)} ms`, '']);
    rows.push(['export zip size', `${mib(zipBytes)} (${zipBytes} B, ${entries.length} entries)`, '']);
    rows.push(['long tasks during the export', `${expLt.n}: longest ${fmt(expLt.max)} ms, total ${fmt(expLt.total)} ms`, '0']);
    rows.push(['page memory during export: peak - before (V8 heap + ArrayBuffers, 50 ms samples)', `+${mib(peak - heapBefore.total)} (before ${mib(heapBefore.total)}, peak ${mib(peak)})`, '']);
    console.log(`\n[3] export: ${download.suggestedFilename()}, ${entries.filter((e) => e.endsWith('.png')).length} PNG entries, metadata.jsonl ${entries.includes('metadata.jsonl') ? 'present' : 'MISSING'}`);
    console.log(`  memory (CDP Runtime.getHeapUsage) before: V8 heap ${mib(heapBefore.js)} + ArrayBuffers ${mib(heapBefore.buffers)}; peaks during export: V8 heap ${mib(peakJs)}, ArrayBuffers ${mib(peakBuf)}, sum ${mib(peak)}`);
    console.log(`  ${during.length} samples during export, largest gap between samples ${fmt(gap, 0)} ms (a peak between two samples is missed, so the peak is a lower bound)`);
    const s3 = loafScripts(log3, exportStart, exportEnd + 1);
    if (s3.length) console.log(`  scripts in long animation frames during the export (sum):\n    ${s3.join('\n    ')}`);

    // ---- diagnostics for the reload and keypress figures (same page, after the export) ------------------------
    const diag = (await page.evaluate(`(${DIAG})(${ITEMS})`)) as Record<string, { commit: number; frame: number }>;
    console.log(`\n[diagnostics] same page, ${ITEMS} items in the store; commit = until a microtask after React's flush, frame = rAF + setTimeout 0`);
    for (const [k, d] of Object.entries(diag)) console.log(`  ${k.padEnd(58)} commit ${fmt(d.commit).padStart(7)} ms, frame ${fmt(d.frame).padStart(7)} ms`);

    const w = Math.max(...rows.map((r) => r[0].length));
    const v = Math.max(...rows.map((r) => r[1].length));
    console.log(`\n| ${'measure'.padEnd(w)} | ${'value'.padEnd(v)} | target |`);
    console.log(`|${'-'.repeat(w + 2)}|${'-'.repeat(v + 2)}|--------|`);
    for (const r of rows) console.log(`| ${r[0].padEnd(w)} | ${r[1].padEnd(v)} | ${r[2]} |`);
    console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    if (Math.max(load0[0] ?? 0, loadavg()[0] ?? 0) > cores)
      notes.push(`the load average exceeded the ${cores} cores: other processes competed for the CPU, so long tasks and frame times include time the page waited for a core`);
    for (const n of notes) console.log(`note: ${n}`);
    await context.close();
  } finally {
    await browser.close();
    if (server.pid) process.kill(-server.pid);
  }
}

await main();
