/**
 * The app's actions: the single DiffusionClient, the generation queue runner, review decisions with undo,
 * persistence, export/import and user models. Components call these; they never touch the worker or
 * IndexedDB directly.
 */
import * as Comlink from 'comlink';
import { DiffusionClient } from './client/diffusionClient';
import { readUrlConfig, modelBaseUrl, CLASSIFIER_ID, DEFAULT_MODEL_ID, EMBEDDED_MODEL_IDS, EMBEDDED_MODEL_NOTES } from './config';
import { StudioError, isErrorCode } from './core/errors';
import { formatBytes, MAX_IMPORT_INFLATED_BYTES, MAX_MODEL_JSON_BYTES, MAX_MODEL_ONNX_BYTES, MAX_MODEL_ZIP_INFLATED_BYTES } from './core/model/limits';
import { parseManifest } from './core/model/manifest';
import { maskFromPrompt, parseMaskLibrary, sampleMask, type MaskLibrary } from './core/formats/maskLibrary';
import { parsePrompt } from './core/model/prompt';
import type { GenerateRequest, ModelSource, Provenance, StepProgress } from './core/model/protocol';
import { canvasState, type BasePhoto } from './features/mask/maskDoc';
import * as store from './dataset/db';
import type { DatasetItem, ReviewStatus } from './dataset/types';
import type { ArchiveWorkerApi } from '../workers/archive.worker';
import { useStudio, type ItemView, type ModelChoice } from './state/store';

const urlConfig = readUrlConfig(typeof location === 'undefined' ? '' : location.search);
export const client = new DiffusionClient({
  backend: urlConfig.backend,
  numThreads: urlConfig.numThreads,
  classifierBaseUrl: modelBaseUrl(CLASSIFIER_ID),
  // Nothing was running, so nothing failed; but the user should know why the worker (and its model) restarted.
  onIdleCrash: ({ error, reloaded, reloadError }) => {
    if (reloaded) {
      S().setNotice({ kind: 'info', text: `The worker stopped while idle (${error.message}): ${reloaded.manifest.id} was reloaded on a fresh worker; nothing was lost.` });
    } else {
      S().setNotice({ kind: 'error', text: `The worker stopped while idle (${error.message}), and reloading the model failed: ${(reloadError as Error | undefined)?.message ?? 'no model'}. Choose a model to load it again.` });
      S().setStatus({ kind: 'error', ...fail(reloadError ?? new StudioError('inference', 'no model is loaded')) });
    }
  },
});
if (urlConfig.debug) (globalThis as unknown as { ddsDebug: unknown }).ddsDebug = { client, store: useStudio, canvas: canvasState };

const S = () => useStudio.getState();
const pngUrl = (bytes: Uint8Array) => URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' }));

function fail(e: unknown): { code: string; message: string } {
  const err = e as Error;
  return { code: err.name || 'error', message: err.message || String(e) };
}

async function sourceFor(choice: ModelChoice): Promise<ModelSource> {
  if (choice.source === 'embedded') return { kind: 'url', baseUrl: modelBaseUrl(choice.id) };
  const rec = (await store.listUserModels()).find((m) => m.id === choice.id);
  if (!rec) throw new StudioError('modelInvalid', `model ${choice.id} is no longer stored in this browser`);
  return { kind: 'bytes', manifest: rec.manifest, onnx: rec.onnx, ...(rec.maskLibrary ? { maskLibrary: rec.maskLibrary } : {}) };
}

/** The active model's mask-shape library, for random and prompt masks drawn in the page. */
let maskLibrary: MaskLibrary | null = null;

async function fetchMaskLibrary(choice: ModelChoice): Promise<MaskLibrary | null> {
  try {
    if (choice.source === 'user') {
      const rec = (await store.listUserModels()).find((m) => m.id === choice.id);
      return rec?.maskLibrary ? parseMaskLibrary(rec.maskLibrary) : null;
    }
    const res = await fetch(`${modelBaseUrl(choice.id)}/mask_library.json`);
    return res.ok && (res.headers.get('content-type') ?? '').includes('json') ? parseMaskLibrary(await res.json()) : null;
  } catch {
    return null;
  }
}

/** Puts a window-sized mask into the canvas: as is on a window, or centred at (px, py) on a photo. */
function placeMask(win: Uint8Array, size: number, px: number, py: number): void {
  const doc = canvasState.doc;
  if (doc.width === size && doc.height === size) {
    doc.set(win);
    return;
  }
  const out = new Uint8Array(doc.width * doc.height);
  const x0 = Math.min(doc.width - size, Math.max(0, Math.round(px * doc.width - size / 2)));
  const y0 = Math.min(doc.height - size, Math.max(0, Math.round(py * doc.height - size / 2)));
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[(y0 + y) * doc.width + x0 + x] = win[y * size + x] as number;
  doc.set(out);
}

/** A random real mask shape of the chosen class into the canvas (editable before generating). */
export function randomMaskIntoCanvas(): void {
  const { model, settings } = S();
  if (!model || !maskLibrary) {
    S().setNotice({ kind: 'error', text: 'this model ships no mask library (mask_library.json), so random masks are not available' });
    return;
  }
  const size = model.manifest.image.width;
  const m = sampleMask(maskLibrary, settings.className, randomSeed());
  if (!m.some((v) => v)) {
    S().setNotice({ kind: 'info', text: `${settings.className} has no mask shapes (a defect-free class): the mask stays empty` });
    return;
  }
  placeMask(m, size, 0.5, 0.5);
  S().updateCanvas({ useMask: true, maskOrigin: 'library' }, true);
}

/** Turns the prompt into a class and a mask the user can see and edit; returns the parser's notes. */
export function applyPrompt(): string[] {
  const { model, settings } = S();
  if (!model) return [];
  const cond = parsePrompt(settings.prompt, model.manifest.classes, { currentClass: settings.className });
  const cls = cond.className ?? settings.className;
  if (cond.className) S().updateSettings({ className: cond.className });
  if (maskLibrary && cls) {
    const size = model.manifest.image.width;
    const m = maskFromPrompt(maskLibrary, { ...cond, placement: canvasState.photo ? null : cond.placement }, randomSeed(), cls);
    if (m.some((v) => v)) {
      // On a photo the prompt's placement chooses where the window goes; inside it the shape is centred.
      placeMask(m, size, cond.placement?.x ?? 0.5, cond.placement?.y ?? 0.5);
      S().updateCanvas({ useMask: true, maskOrigin: 'prompt' }, true);
    }
  }
  const summary = `${cls}: ${cond.count} × ${cond.size}${cond.shape !== 'any' ? ` ${cond.shape}` : ''}${cond.orientation !== 'any' ? `, ${cond.orientation}` : ''}${cond.placement ? `, at (${cond.placement.x.toFixed(2)}, ${cond.placement.y.toFixed(2)})` : ''}`;
  return [summary, ...cond.messages];
}

async function refreshModels(): Promise<ModelChoice[]> {
  const users = await store.listUserModels().catch(() => []);
  const models: ModelChoice[] = [
    ...EMBEDDED_MODEL_IDS.map((id) => ({ id, label: `${id} (${EMBEDDED_MODEL_NOTES[id] ?? 'embedded'})`, source: 'embedded' as const })),
    ...users.map((u) => ({ id: u.id, label: `${u.id} (loaded ${u.addedAt.slice(0, 10)})`, source: 'user' as const })),
  ];
  S().setModels(models);
  return models;
}

export async function activateModel(id: string): Promise<void> {
  const choice = S().models.find((m) => m.id === id) ?? S().models[0];
  if (!choice) return;
  S().setStatus({ kind: 'loadingModel' });
  try {
    const [model, lib] = await Promise.all([client.loadModel(await sourceFor(choice)), fetchMaskLibrary(choice)]);
    maskLibrary = lib;
    S().setEngine(S().handshake, model);
    const { settings } = S();
    const patch: Partial<typeof settings> = { modelId: choice.id };
    const d = model.manifest.defaults;
    // Another model brings its own sampler settings: a distilled student takes guidance 1 and few steps, and a
    // teacher's 20 guided steps would waste it (or be refused).
    if (settings.modelId !== choice.id || (model.manifest.distillation && settings.guidance !== 1))
      Object.assign(patch, { sampler: d.sampler, steps: d.steps, guidance: d.guidance });
    if (!model.manifest.classes.includes(settings.className)) patch.className = model.manifest.classes[0] ?? '';
    S().updateSettings(patch);
    S().setStatus({ kind: 'ready' });
    void runQueue();
  } catch (e) {
    S().setStatus({ kind: 'error', ...fail(e) });
  }
}

export async function startEngine(): Promise<void> {
  S().setStatus({ kind: 'loadingModel' });
  // Start-up marks (performance.getEntriesByType('mark')): bench/bench.ts prints them beside the worker's phases.
  performance.mark('dds:engine-start');
  try {
    const [info] = await Promise.all([
      client.handshake().then((h) => (performance.mark('dds:worker-handshake'), h)),
      loadDataset().then(() => performance.mark('dds:dataset-loaded')),
    ]);
    S().setEngine(info, null);
    // The zip worker's script is fetched now, while the studio's files can be reached (export works offline later).
    archiveWorker();
    const models = await refreshModels();
    const wanted = urlConfig.modelId !== DEFAULT_MODEL_ID ? urlConfig.modelId : S().settings.modelId || DEFAULT_MODEL_ID;
    await activateModel(models.some((m) => m.id === wanted) ? wanted : DEFAULT_MODEL_ID);
    performance.mark('dds:model-ready');
    restoreQueue();
    void store.requestPersistence().catch(() => false);
  } catch (e) {
    S().setStatus({ kind: 'error', ...fail(e) });
  }
}

/**
 * Loads the stored dataset in chunks, yielding to the event loop between them: creating thousands of Blob
 * URLs in one go blocks the page for seconds (measured by bench/studio.ts).
 */
async function loadDataset(): Promise<void> {
  const { items, damaged } = await store.listItems();
  const CHUNK = 100;
  S().setItems([]);
  for (let i = 0; i < items.length; i += CHUNK) {
    const part = items.slice(i, i + CHUNK);
    const images = await store.getImages(part.map((it) => it.id));
    S().addItems(
      part.flatMap((it) => {
        const img = images.get(it.id);
        if (!img || !(img.png instanceof Uint8Array) || !(img.maskPng instanceof Uint8Array)) {
          damaged.push({ key: it.id, problem: 'its image or mask bytes are not stored', raw: it });
          return [];
        }
        return [{ ...it, url: pngUrl(img.png), maskUrl: pngUrl(img.maskPng) }];
      }),
    );
    await new Promise((r) => setTimeout(r, 0));
  }
  S().setDamaged(damaged);
  if (damaged.length)
    S().setNotice({ kind: 'error', text: `${damaged.length} stored item${damaged.length === 1 ? ' is' : 's are'} damaged and not shown (first: ${damaged[0]?.key}: ${damaged[0]?.problem}). The Dataset panel lists them; download or delete them there.` });
}

/** Deletes the damaged records (and any pixels stored under their keys). */
export async function deleteDamaged(): Promise<number> {
  const keys = S().damaged.map((d) => d.key);
  await store.deleteItems(keys);
  S().setDamaged([]);
  return keys.length;
}

/** The damaged records as they are stored, with their pixels base64-encoded where present, as one JSON file. */
export async function exportDamaged(): Promise<{ bytes: Uint8Array; name: string }> {
  const { damaged } = S();
  const images = await store.getImages(damaged.map((d) => d.key));
  const b64 = (b: unknown) => (b instanceof Uint8Array ? btoa(Array.from(b, (c) => String.fromCharCode(c)).join('')) : null);
  const out = damaged.map((d) => ({ key: d.key, problem: d.problem, record: d.raw, png: b64(images.get(d.key)?.png), maskPng: b64(images.get(d.key)?.maskPng) }));
  return { bytes: new TextEncoder().encode(JSON.stringify(out, null, 1)), name: 'damaged-items.json' };
}

function randomSeed(): number {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return ((a[0] as number) & 0x1fffff) * 2 ** 32 + (a[1] as number);
}

/** Mask and photo pixels attached to queued jobs (kept out of the store). */
const jobPayloads = new Map<number, { mask: Uint8Array; photo: BasePhoto | null; margin: number; origin: 'painted' | 'library' | 'prompt' }>();

/**
 * "Reuse this seed": puts an item's class, prompt, seed, sampler, steps and guidance back in the form, and says
 * what the next image will not share with it (the model, the spacing and guidance interval, which come from the
 * loaded model's manifest; the mask, which comes from the canvas; the photo). npm run reproduce makes an item
 * again exactly.
 */
export function reuseSeed(p: Provenance): void {
  S().updateSettings({ seed: p.seed, randomSeed: false, className: p.className, prompt: p.prompt, sampler: p.sampler, steps: p.steps, guidance: p.guidance });
  const m = S().model?.manifest;
  const differs: string[] = [];
  if (m && p.modelSha256 !== m.sha256) differs.push(`it was made with model ${p.modelId} ${p.modelVersion}, the loaded one is ${m.id} ${m.version}`);
  if (m && p.timestepSpacing !== m.defaults.timestepSpacing) differs.push(`it used ${p.timestepSpacing} timestep spacing, the model's default is ${m.defaults.timestepSpacing}`);
  const interval = (i: readonly number[] | undefined) => (i ? `(${i[0]}, ${i[1]}]` : 'every step');
  if (m && p.guidance !== 1 && interval(p.guidanceInterval) !== interval(m.defaults.guidanceInterval))
    differs.push(`it was guided at ${interval(p.guidanceInterval)}, the model's default is ${interval(m.defaults.guidanceInterval)}`);
  if (p.eta !== 0 || !p.clipSample) differs.push(`it used eta ${p.eta} and clip ${String(p.clipSample)}, the studio uses eta 0 and clip true`);
  if (p.basePhoto) differs.push(`it was made on photo ${p.basePhoto.name}`);
  else if (p.maskSource === 'given') differs.push('its mask was painted: the canvas mask is used if there is one, else a library mask');
  S().setNotice({
    kind: 'info',
    text: differs.length
      ? `Seed ${p.seed} and its settings are in the form, but the next image will differ: ${differs.join('; ')}. npm run reproduce makes the item again exactly from its record.`
      : `Seed ${p.seed} and its settings are in the form${p.maskSource === 'library' ? ' (with no canvas mask in use, the same library mask is drawn again)' : ''}.`,
  });
}

/** Queues the form's request; `steps` overrides the form's step count (the distilled model's fast preview). */
export function enqueueFromSettings(opts: { steps?: number } = {}): void {
  const { canvas } = S();
  const settings = opts.steps === undefined ? S().settings : { ...S().settings, steps: opts.steps };
  const useMask = canvas.useMask && !canvasState.doc.isEmpty();
  if (canvas.useMask && canvasState.doc.isEmpty() && canvasState.photo) {
    S().setNotice({ kind: 'error', text: 'The mask is empty: paint on the photo where the defect should go.' });
    return;
  }
  const base = settings.randomSeed ? randomSeed() : settings.seed;
  const n = Math.max(1, Math.min(16, settings.batchSize));
  const photo = useMask ? canvasState.photo : null;
  const id = S().enqueue({
    className: settings.className, prompt: settings.prompt, sampler: settings.sampler, steps: settings.steps, guidance: settings.guidance,
    seeds: Array.from({ length: n }, (_, k) => Math.min(Number.MAX_SAFE_INTEGER, base + k)),
    ...(useMask ? { masked: photo ? ('photo' as const) : ('window' as const) } : {}),
  });
  if (useMask) jobPayloads.set(id, { mask: canvasState.doc.data.slice(), photo, margin: canvas.margin, origin: canvas.maskOrigin });
  void runQueue();
}

/** Queues what is missing to reach each class's target (accepted + pending + queued count towards it). */
export function fillToTarget(): number {
  const { settings, items, queue, model } = S();
  if (!model) return 0;
  let queued = 0;
  for (const cls of model.manifest.classes) {
    const target = settings.targets[cls] ?? 0;
    const have = items.filter((i) => i.className === cls && i.status !== 'rejected').length + queue.filter((j) => j.className === cls).reduce((a, j) => a + j.seeds.length - j.done, 0);
    let need = target - have;
    while (need > 0) {
      const n = Math.min(16, need);
      const base = randomSeed();
      S().enqueue({ className: cls, prompt: settings.prompt, sampler: settings.sampler, steps: settings.steps, guidance: settings.guidance, seeds: Array.from({ length: n }, (_, k) => base + k) });
      need -= n;
      queued += n;
    }
  }
  void runQueue();
  return queued;
}

/**
 * The queue as it was before a reload: requests without a painted mask are queued again for the images they had
 * left; those with a painted mask or photo are dropped (their pixels lived in this page only), and a notice says
 * how many of each.
 */
function restoreQueue(): void {
  const jobs = S().restoredQueue;
  if (!jobs.length) return;
  useStudio.setState({ restoredQueue: [] });
  const classes = S().model?.manifest.classes ?? [];
  const keep = jobs.filter((j) => !j.masked && classes.includes(j.className));
  const dropped = jobs.length - keep.length;
  let images = 0;
  for (const j of keep) {
    const seeds = j.seeds.slice(j.done);
    images += seeds.length;
    S().enqueue({ className: j.className, prompt: j.prompt, sampler: j.sampler, steps: j.steps, guidance: j.guidance, seeds });
  }
  const parts: string[] = [];
  if (keep.length) parts.push(`${keep.length} queued request${keep.length === 1 ? '' : 's'} from before the reload ${keep.length === 1 ? 'was' : 'were'} queued again (${images} image${images === 1 ? '' : 's'} left)`);
  if (dropped) parts.push(`${dropped} request${dropped === 1 ? '' : 's'} with a painted mask or photo, or a class this model does not have, ${dropped === 1 ? 'was' : 'were'} dropped (a mask and photo are not kept across a reload): paint and Generate again`);
  S().setNotice({ kind: 'info', text: `${parts.join('; ')}.` });
  void runQueue();
}

let running = false;
/** Jobs the user cancelled; checked after every await of the runner so a cancel between images is not lost. */
const cancelledJobs = new Set<number>();

/** Removes a queued request (and the mask/photo pixels attached to it). */
export function removeQueuedJob(id: number): void {
  S().removeJob(id);
  jobPayloads.delete(id);
}

/** Runs queued jobs one image at a time until the queue is empty, cancelled, or storage is full. */
export async function runQueue(): Promise<void> {
  if (running) return;
  running = true;
  try {
    for (;;) {
      const { queue, model, status } = S();
      const job = queue[0];
      if (!job || !model || (status.kind !== 'ready' && status.kind !== 'generating')) break;
      const seed = job.seeds[job.done];
      if (cancelledJobs.has(job.id)) {
        cancelledJobs.delete(job.id);
        removeQueuedJob(job.id);
        S().setStatus({ kind: 'ready' });
        continue;
      }
      if (seed === undefined) {
        S().removeJob(job.id);
        jobPayloads.delete(job.id);
        continue;
      }
      const payload = jobPayloads.get(job.id);
      const req: GenerateRequest = {
        className: job.className, prompt: job.prompt, seed, sampler: job.sampler, steps: job.steps, guidance: job.guidance, eta: 0,
        timestepSpacing: model.manifest.defaults.timestepSpacing, clipSample: true, previewIntervalMs: 150,
        ...(model.manifest.defaults.guidanceInterval ? { guidanceInterval: model.manifest.defaults.guidanceInterval } : {}),
      };
      S().setStatus({ kind: 'generating', progress: null });
      const steps: number[] = [];
      try {
        const onProgress = (p: StepProgress) => {
          steps.push(p.step);
          S().setStatus({ kind: 'generating', progress: p });
          if (p.preview) S().setPreview(grayToDataUrl(p.preview, model.manifest.image.width, model.manifest.image.height));
        };
        if (payload && !payload.photo) req.defectMask = payload.mask;
        const r = payload?.photo
          ? await client.generateOnPhoto(req, payload.photo, payload.mask, payload.margin, onProgress)
          : await client.generate(req, onProgress);
        r.provenance.maskOrigin = payload ? payload.origin : r.provenance.maskSource === 'library' ? 'library' : undefined;
        const item: DatasetItem = {
          id: `${r.provenance.className}-s${seed}-${Date.now().toString(36)}`,
          createdAt: new Date().toISOString(),
          status: 'pending',
          decidedAt: null,
          className: r.provenance.className,
          width: r.width,
          height: r.height,
          provenance: r.provenance,
          citation: model.manifest.training.citation,
          ...(r.quality ? { quality: r.quality } : {}),
        };
        if (S().settings.autoRejectFlagged && (r.quality?.flags.length ?? 0) > 0) {
          item.status = 'rejected';
          item.decidedAt = item.createdAt;
          item.rejectReason = `Auto-rejected: flagged ${r.quality?.flags.join(', ')}`;
        }
        await store.putItems([{ item, images: { id: item.id, png: r.png, maskPng: r.maskPng } }]);
        S().addItems([{ ...item, url: pngUrl(r.png), maskUrl: pngUrl(r.maskPng) }]);
        useStudio.setState({ lastProgressSteps: steps });
        const cur = S().queue.find((j) => j.id === job.id);
        if (cur) useStudio.setState({ queue: S().queue.map((j) => (j.id === job.id ? { ...j, done: j.done + 1 } : j)) });
        S().setStatus({ kind: 'ready' });
      } catch (e) {
        const err = e as Error;
        if (err.name === 'aborted' || cancelledJobs.has(job.id)) {
          cancelledJobs.delete(job.id);
          removeQueuedJob(job.id);
          S().setStatus({ kind: 'ready' });
          continue;
        }
        if (err.name === 'storageFull') {
          // Nothing more can be saved: the rest of the queue is dropped (and says so) rather than kept paused,
          // where a reload would start it again into a full storage.
          const left = S().queue.reduce((a, j) => a + j.seeds.length - j.done, 0);
          for (const j of S().queue) removeQueuedJob(j.id);
          S().setStatus({ kind: 'ready' });
          S().setNotice({ kind: 'error', text: `${err.message} The ${left} image${left === 1 ? '' : 's'} left in the queue ${left === 1 ? 'was' : 'were'} not made.` });
          break;
        }
        if (err.name === 'badRequest') {
          S().removeJob(job.id);
          jobPayloads.delete(job.id);
          S().setStatus({ kind: 'ready' });
          S().setNotice({ kind: 'error', text: err.message });
          continue;
        }
        // Worker crash, device lost or inference failure: restart the worker with the same model and stop the queue.
        S().setNotice({ kind: 'error', text: `${err.name}: ${err.message}. The worker was restarted; the queue is paused (press Generate to continue).` });
        S().setStatus({ kind: 'loadingModel' });
        try {
          await client.restart();
          S().setStatus({ kind: 'ready' });
        } catch (e2) {
          S().setStatus({ kind: 'error', ...fail(e2) });
        }
        break;
      }
    }
  } finally {
    running = false;
    S().setPreview(null);
  }
}

/** Cancels the running request (the rest of its batch too): the current image stops within one step. */
export function cancelGeneration(): void {
  const job = S().queue[0];
  if (job) cancelledJobs.add(job.id);
  void client.cancel().catch(() => undefined);
}

let decisionBatch = 0;

/**
 * Sets the review status of `ids` (one item or a bulk selection; undone together). A rejection may carry a
 * reason (one of the offered ones or free text), kept on the item as rejectReason and written to metadata.jsonl;
 * rejecting a rejected item again with another reason changes the reason. Any other status drops the reason.
 */
export async function decide(ids: readonly string[], status: ReviewStatus, rejectReason?: string): Promise<void> {
  const byId = new Map(S().items.map((i) => [i.id, i]));
  const now = new Date().toISOString();
  const changed: DatasetItem[] = [];
  const batch = ++decisionBatch;
  for (const id of ids) {
    const it = byId.get(id);
    if (!it || (it.status === status && (status !== 'rejected' || rejectReason === undefined || it.rejectReason === rejectReason))) continue;
    S().pushUndo({ id, status: it.status, decidedAt: it.decidedAt, ...(it.rejectReason !== undefined ? { rejectReason: it.rejectReason } : {}), batch });
    const { rejectReason: _old, ...rest } = strip(it);
    void _old;
    const reason = status === 'rejected' ? (rejectReason ?? (it.status === 'rejected' ? it.rejectReason : undefined)) : undefined;
    changed.push({ ...rest, status, decidedAt: status === 'pending' ? null : now, ...(reason !== undefined ? { rejectReason: reason } : {}) });
  }
  if (!changed.length) return;
  // Optimistic for a smooth keyboard review, rolled back if the write fails so nothing shows as saved that is not.
  const before = changed.map((c) => strip(byId.get(c.id) as ItemView));
  S().replaceItems(changed);
  try {
    await store.updateItems(changed);
  } catch (e) {
    S().replaceItems(before);
    S().setNotice({ kind: 'error', text: `Decision not saved: ${(e as Error).message}` });
  }
}

/** Undoes the last decision: one item, or every item of a bulk decision. */
export async function undoLast(): Promise<void> {
  const entries = S().popUndoBatch();
  if (!entries.length) return;
  const byId = new Map(S().items.map((i) => [i.id, i]));
  const restored: DatasetItem[] = [];
  for (const u of entries) {
    const it = byId.get(u.id);
    if (!it) continue;
    const { rejectReason: _r, ...rest } = strip(it);
    void _r;
    restored.push({ ...rest, status: u.status, decidedAt: u.decidedAt, ...(u.rejectReason !== undefined ? { rejectReason: u.rejectReason } : {}) });
  }
  if (!restored.length) return;
  try {
    await store.updateItems(restored);
    S().replaceItems(restored);
    S().select(restored[0]?.id ?? null);
  } catch (e) {
    for (const u of entries) S().pushUndo(u);
    S().setNotice({ kind: 'error', text: `Undo not saved: ${(e as Error).message}` });
  }
}

function strip(v: ItemView): DatasetItem {
  const { url: _u, maskUrl: _m, ...rest } = v;
  void _u;
  void _m;
  return rest;
}

/**
 * The zip worker (export, import and model zips run there, so a large file does not block the page). It is
 * started at start-up, while the studio's files can still be fetched; if its script fails to load (offline
 * before it was ever fetched) or it dies, every pending call fails with a message and the next call starts a
 * fresh one, instead of a promise that never settles (which left the Export button disabled for good).
 */
let archive: { remote: Comlink.Remote<ArchiveWorkerApi>; worker: Worker; failed: Promise<never> } | null = null;
function archiveWorker(): NonNullable<typeof archive> {
  if (archive) return archive;
  const worker = new Worker(new URL('../workers/archive.worker.ts', import.meta.url), { type: 'module', name: 'archive' });
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (ev: ErrorEvent) => {
      ev.preventDefault();
      reject(new StudioError('capability', `the zip worker ${ev.message ? `stopped (${ev.message})` : 'could not be loaded (its script could not be fetched: offline?)'}; it is started again on the next try, and a reload fetches it again`));
    });
  });
  failed.catch(() => undefined);
  const a = { remote: Comlink.wrap<ArchiveWorkerApi>(worker), worker, failed };
  archive = a;
  return a;
}

async function archiveCall<T>(call: (api: Comlink.Remote<ArchiveWorkerApi>) => Promise<T>): Promise<T> {
  const a = archiveWorker();
  try {
    return await Promise.race([call(a.remote), a.failed]);
  } catch (e) {
    if ((e as Error).name === 'capability') {
      a.worker.terminate();
      if (archive === a) archive = null;
    }
    return rethrow(e);
  }
}

/** comlink rebuilds a thrown error as a plain Error with its name and message: keep them a StudioError. */
function rethrow(e: unknown): never {
  const err = e as Error;
  throw new StudioError(isErrorCode(err.name) ? err.name : 'badRequest', err.message);
}

export async function exportDataset(): Promise<{ bytes: Uint8Array; name: string }> {
  const items = S().items.map(strip);
  const images = await store.getImages(items.map((i) => i.id));
  // Categories: the model's classes in manifest order, then any other class present in the dataset (imports,
  // items made with another model), so no accepted item loses its annotation.
  const classes = [...new Set([...(S().model?.manifest.classes ?? []), ...items.map((i) => i.className)])];
  const now = new Date().toISOString();
  const bytes = await archiveCall((w) => w.buildExport(items, [...images.values()], classes, now));
  return { bytes, name: `defect-dataset-${now.slice(0, 19).replace(/[:T]/g, '-')}.zip` };
}

/**
 * Imports an export zip: the archive worker checks all of it (schema, PNGs, limits) first, then every new item is
 * stored in one transaction (all or nothing). Items whose id is already in the studio are kept as they are and
 * counted, not overwritten.
 */
export async function importDataset(file: File, opts: { skipBad?: boolean } = {}): Promise<{ imported: number; alreadyHere: number; skipped: { line: number; problem: string }[] }> {
  if (file.size > MAX_IMPORT_INFLATED_BYTES)
    throw new StudioError('badRequest', `${file.name} is ${formatBytes(file.size)}; the limit for a dataset zip is ${formatBytes(MAX_IMPORT_INFLATED_BYTES)}`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const read = await archiveCall((w) => w.readExport(Comlink.transfer(bytes, [bytes.buffer]), opts.skipBad ?? false));
  const images = new Map(read.images.map((i) => [i.id, i]));
  const existing = new Set(S().items.map((i) => i.id));
  const fresh = read.items.filter((i) => !existing.has(i.id));
  const entries = fresh.map((item) => {
    const img = images.get(item.id);
    if (!img) throw new StudioError('badRequest', `item ${item.id} came back from the zip worker without its pixels; nothing was imported`);
    return { item, images: img };
  });
  await store.putItems(entries);
  S().addItems(entries.map(({ item, images: img }) => ({ ...item, url: pngUrl(img.png), maskUrl: pngUrl(img.maskPng) })));
  return { imported: fresh.length, alreadyHere: read.items.length - fresh.length, skipped: read.skipped };
}

export async function deleteRejected(): Promise<number> {
  const ids = S().items.filter((i) => i.status === 'rejected').map((i) => i.id);
  await store.deleteItems(ids);
  const gone = new Set(ids);
  for (const it of S().items) if (gone.has(it.id)) {
    URL.revokeObjectURL(it.url);
    URL.revokeObjectURL(it.maskUrl);
  }
  S().setItems(S().items.filter((i) => !gone.has(i.id)));
  return ids.length;
}

/**
 * Loads a user model from files: model.onnx + manifest.json (+ optional mask_library.json), or one .zip
 * holding them. The worker validates it (manifest fields, sha256, session tensor names) before it is stored.
 */
export async function addUserModel(files: readonly File[]): Promise<string> {
  let manifestText: string | undefined;
  let onnx: ArrayBuffer | undefined;
  let lib: string | undefined;
  const tooBig = (f: File, limit: number, what: string) => {
    if (f.size > limit) throw new StudioError('modelInvalid', `${f.name} is ${formatBytes(f.size)}; the limit for ${what} is ${formatBytes(limit)}`);
  };
  for (const f of files) {
    const name = f.name.toLowerCase();
    if (name.endsWith('.zip')) {
      tooBig(f, MAX_MODEL_ZIP_INFLATED_BYTES, 'a model .zip');
      const bytes = new Uint8Array(await f.arrayBuffer());
      const read = await archiveCall((w) => w.readModelZip(Comlink.transfer(bytes, [bytes.buffer]), f.name));
      manifestText = read.manifestText ?? manifestText;
      lib = read.maskLibraryText ?? lib;
      if (read.onnx) onnx = read.onnx.buffer.byteLength === read.onnx.byteLength ? (read.onnx.buffer as ArrayBuffer) : read.onnx.slice().buffer;
    } else if (name.endsWith('.onnx')) {
      tooBig(f, MAX_MODEL_ONNX_BYTES, 'an .onnx file');
      onnx = await f.arrayBuffer();
    } else if (name.endsWith('.json')) {
      tooBig(f, MAX_MODEL_JSON_BYTES, "a model's JSON file");
      if (name === 'mask_library.json') lib = await f.text();
      else manifestText = await f.text();
    } else throw new StudioError('modelInvalid', `${f.name} is not a model file; accepted: model .onnx + manifest.json (+ mask_library.json), or a .zip of them`);
  }
  if (!manifestText || !onnx) throw new StudioError('modelInvalid', `a model needs both manifest.json and an .onnx file; got ${files.map((f) => f.name).join(', ')}`);
  let manifestRaw: unknown;
  try {
    manifestRaw = JSON.parse(manifestText);
  } catch {
    throw new StudioError('modelInvalid', 'manifest.json is not valid JSON');
  }
  const manifest = parseManifest(manifestRaw);
  if (EMBEDDED_MODEL_IDS.includes(manifest.id))
    throw new StudioError('modelInvalid', `manifest.json has id "${manifest.id}", the id of an embedded model; give your model its own id (letters, digits, ".", "_", "-")`);
  let maskLibraryRaw: unknown;
  try {
    maskLibraryRaw = lib ? (JSON.parse(lib) as unknown) : undefined;
  } catch {
    throw new StudioError('modelInvalid', 'mask_library.json is not valid JSON');
  }
  // Validate by loading it for real before storing it.
  S().setStatus({ kind: 'loadingModel' });
  try {
    const model = await client.loadModel({ kind: 'bytes', manifest: manifestRaw, onnx: onnx.slice(0), ...(maskLibraryRaw ? { maskLibrary: maskLibraryRaw } : {}) });
    await store.putUserModel({ id: manifest.id, addedAt: new Date().toISOString(), manifest: manifestRaw, onnx, ...(maskLibraryRaw ? { maskLibrary: maskLibraryRaw } : {}) });
    await refreshModels();
    maskLibrary = maskLibraryRaw ? parseMaskLibrary(maskLibraryRaw) : null;
    S().setEngine(S().handshake, model);
    S().updateSettings({ modelId: manifest.id, className: model.manifest.classes.includes(S().settings.className) ? S().settings.className : (model.manifest.classes[0] ?? '') });
    S().setStatus({ kind: 'ready' });
    return manifest.id;
  } catch (e) {
    // The bad model is not stored. The worker keeps the model that was loaded when a new one is refused (and
    // the client reloads it after a crash); only with none loaded is the active one loaded again.
    if (client.loadedModel) S().setStatus({ kind: 'ready' });
    else await activateModel(S().settings.modelId || DEFAULT_MODEL_ID);
    throw e;
  }
}

/**
 * Deletes a stored user model. The embedded default cannot be deleted; when the deleted model is the active one,
 * the default is loaded in its place.
 */
export async function deleteUserModel(id: string): Promise<void> {
  const choice = S().models.find((m) => m.id === id);
  if (!choice || choice.source !== 'user') throw new StudioError('badRequest', `${id} is not a stored user model (the embedded default cannot be deleted)`);
  await store.deleteUserModel(id);
  await refreshModels();
  if (S().settings.modelId === id || client.loadedModel?.manifest.id === id) await activateModel(DEFAULT_MODEL_ID);
}

function grayToDataUrl(px: Uint8Array, w: number, h: number): string {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d');
  if (!ctx) return '';
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < px.length; i++) {
    const v = px[i] as number;
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c.toDataURL();
}
