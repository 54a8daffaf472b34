/**
 * Page-side probes and small helpers for bench/studio.ts: the scripts installed in the page (long tasks, long
 * animation frames, keydown timing, clicks), the item seeding and wait strings, and number formatting. Page-side
 * code is plain JS in strings (see INIT_SCRIPT).
 */
import type { Page } from '@playwright/test';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
export const pct = (xs: readonly number[], p: number) => sorted(xs)[Math.max(0, Math.ceil(p * xs.length) - 1)] ?? NaN;
export const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
export const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export interface LongTask { start: number; dur: number; attr: string }
export interface Loaf { start: number; dur: number; blocking: number; renderStart: number; styleStart: number; scripts: { invoker: string; fn: string; url: string; dur: number }[] }
export interface KeyEvent { start: number; dur: number; procStart: number; procEnd: number }
export interface BenchLog { longtasks: LongTask[]; loafs: Loaf[]; events: KeyEvent[]; clicks: { text: string; t: number }[]; supported: string[] }

// Page-side code is plain JS in strings: tsx wraps named inner functions in a __name() helper that does not
// exist in the page. Installed before any page script on every navigation: long tasks, long animation frames
// (for attribution), keydown Event Timing entries and button clicks (page-clock time stamps).
export const INIT_SCRIPT = `(() => {
  const g = globalThis;
  const log = { longtasks: [], loafs: [], events: [], clicks: [], supported: (PerformanceObserver.supportedEntryTypes || []).slice() };
  g.__bench = log;
  const handlers = {
    longtask: (e) => log.longtasks.push({ start: e.startTime, dur: e.duration, attr: (e.attribution && e.attribution[0] && (e.attribution[0].containerType + ':' + e.attribution[0].name)) || '' }),
    'long-animation-frame': (e) => log.loafs.push({ start: e.startTime, dur: e.duration, blocking: e.blockingDuration, renderStart: e.renderStart, styleStart: e.styleAndLayoutStart, scripts: (e.scripts || []).map((s) => ({ invoker: s.invoker || '', fn: s.sourceFunctionName || '', url: (s.sourceURL || '').split('/').pop(), dur: s.duration })) }),
    event: (e) => { if (e.name === 'keydown') log.events.push({ start: e.startTime, dur: e.duration, procStart: e.processingStart, procEnd: e.processingEnd }); },
  };
  const observers = [];
  for (const [type, h] of Object.entries(handlers)) {
    if (!log.supported.includes(type)) continue;
    const o = new PerformanceObserver((l) => { for (const e of l.getEntries()) h(e); });
    o.observe(type === 'event' ? { type, buffered: true, durationThreshold: 16 } : { type, buffered: true });
    observers.push([o, h]);
  }
  log.flush = () => { for (const [o, h] of observers) for (const e of o.takeRecords()) h(e); return log; };
  addEventListener('click', (e) => {
    const b = e.target && e.target.closest ? e.target.closest('button') : null;
    if (b) log.clicks.push({ text: (b.textContent || '').trim(), t: performance.now() });
  }, true);
})();`;

export const readLog = async (page: Page): Promise<BenchLog> => {
  await sleep(300); // observers deliver asynchronously; takeRecords() picks up the rest
  return (await page.evaluate(`(() => { const l = globalThis.__bench.flush(); return { longtasks: l.longtasks, loafs: l.loafs, events: l.events, clicks: l.clicks, supported: l.supported }; })()`)) as BenchLog;
};
export const lastClick = (log: BenchLog, text: string): number => {
  const c = [...log.clicks].reverse().find((x) => x.text === text);
  if (!c) throw new Error(`no click on "${text}" was recorded`);
  return c.t;
};
export const ltSummary = (ts: readonly LongTask[]) => ({
  n: ts.length,
  max: ts.reduce((m, t) => Math.max(m, t.dur), 0),
  total: ts.reduce((s, t) => s + t.dur, 0),
});
/** The scripts that made up the long animation frames overlapping [from, to). */
export function loafScripts(log: BenchLog, from: number, to: number, limit = 6): string[] {
  const agg = new Map<string, { dur: number; n: number }>();
  for (const f of log.loafs) {
    if (f.start + f.dur < from || f.start >= to) continue;
    for (const s of f.scripts) {
      if (s.dur < 5) continue;
      const k = `${s.invoker} -> ${s.fn || '(anonymous)'} @ ${s.url || '?'}`;
      const a = agg.get(k) ?? { dur: 0, n: 0 };
      a.dur += s.dur;
      a.n += 1;
      agg.set(k, a);
    }
  }
  return [...agg.entries()].sort((a, b) => b[1].dur - a[1].dur).slice(0, limit).map(([k, a]) => `${fmt(a.dur, 0).padStart(6)} ms in ${a.n} x ${k}`);
}


// Resolves (page clock) once the store holds `n` items and the engine is ready again; no polling.
export const WAIT_ITEMS = `(n) => new Promise((resolve) => {
  const s = globalThis.ddsDebug.store;
  const ok = (st) => st.items.length >= n && st.status.kind === 'ready';
  if (ok(s.getState())) return resolve(performance.now());
  const un = s.subscribe((st) => { if (ok(st)) { un(); resolve(performance.now()); } });
})`;

// Clones the first item (metadata + the PNG/mask bytes) into the app's own IndexedDB stores until there are
// `total` items; ids are distinct and createdAt increases so the app lists them after the real ones.
export const SEED = `async (total) => {
  const st = globalThis.ddsDebug.store.getState();
  const src = st.items[0];
  const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  const db = await req(indexedDB.open('defect-diffusion-studio'));
  const img = await req(db.transaction('images').objectStore('images').get(src.id));
  if (!img) throw new Error('no stored image for ' + src.id);
  const { url, maskUrl, ...base } = src;
  let t = Math.max(...st.items.map((i) => Date.parse(i.createdAt)));
  const tx = db.transaction(['items', 'images'], 'readwrite');
  const need = total - st.items.length;
  for (let k = 0; k < need; k++) {
    const id = base.id + '-clone' + String(k).padStart(5, '0');
    tx.objectStore('items').put({ ...base, id, createdAt: new Date(++t).toISOString(), status: 'pending', decidedAt: null });
    tx.objectStore('images').put({ id, png: img.png, maskPng: img.maskPng });
  }
  await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); tx.onabort = () => rej(tx.error); });
  db.close();
  return { added: need, pngBytes: img.png.byteLength, maskBytes: img.maskPng.byteLength };
}`;

// Per-keypress timing (see the header). __kb.wait(i) resolves once press i has been measured.
export const KEY_PROBE = `(() => {
  const grid = document.querySelector('ul.grid');
  const kb = { results: [], waiters: [] };
  let cur = null;
  new MutationObserver(() => { if (cur && cur.commit === undefined) cur.commit = performance.now() - cur.t0; })
    .observe(grid, { attributes: true, childList: true, subtree: true });
  addEventListener('keydown', (e) => {
    if (e.key !== 'a' && e.key !== 'r') return;
    const rec = { key: e.key, t0: performance.now() };
    rec.inputDelay = rec.t0 - e.timeStamp;
    cur = rec;
    requestAnimationFrame(() => {
      rec.raf = performance.now() - rec.t0;
      setTimeout(() => {
        rec.frame = performance.now() - rec.t0;
        if (cur === rec) cur = null;
        kb.results.push(rec);
        for (const w of kb.waiters.splice(0)) w();
      }, 0);
    });
  }, true);
  // Registered after the app's own window listener, so it runs right after the app's synchronous handler.
  addEventListener('keydown', () => { if (cur && cur.handler === undefined) cur.handler = performance.now() - cur.t0; });
  kb.wait = (i) => new Promise((res) => { const check = () => kb.results.length > i ? res(kb.results[i]) : kb.waiters.push(check); check(); });
  globalThis.__kb = kb;
  return !!grid;
})()`;

// Splits the reload cost: Blob + object URL creation as src/app/dataset.ts loadDataset does (2 per item, ~4 KB), a
// re-render of the grid with the same items (what every decision costs React), unmounting and mounting all cells.
export const DIAG = `async (n) => {
  const s = globalThis.ddsDebug.store;
  const micro = () => new Promise((r) => queueMicrotask(r));
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const out = {};
  const time = async (label, fn) => {
    await frame();
    const t0 = performance.now();
    fn();
    await micro();
    const t1 = performance.now();
    await frame();
    out[label] = { commit: t1 - t0, frame: performance.now() - t0 };
  };
  const bytes = new Uint8Array(4240);
  const urls = [];
  await time('create ' + 2 * n + ' Blobs + URL.createObjectURL (4 KB each)', () => { for (let i = 0; i < 2 * n; i++) urls.push(URL.createObjectURL(new Blob([bytes], { type: 'image/png' }))); });
  for (const u of urls) URL.revokeObjectURL(u);
  const items = s.getState().items;
  await time('setItems(same ' + n + ' items, new array): re-render', () => s.getState().setItems(items.slice()));
  await time('setItems([]): unmount ' + n + ' cells', () => s.getState().setItems([]));
  await time('setItems(' + n + ' items): mount ' + n + ' cells', () => s.getState().setItems(items));
  return out;
}`;

