/**
 * The generation queue: the form's request queued (with the painted mask and photo attached, or on the stored
 * photo set: each image's photo and real mask chosen by its seed in src/app/photos.ts), fill to target,
 * the queue restored after a reload, and the runner that makes one image at a time (request from the one
 * builder, src/core/model/request.ts), stores it and handles cancel, a full storage, a refused request and a
 * crashed worker.
 *
 * State: `runner`, the one owned object of this module, not UI state: whether the runner loop is running, the
 * jobs the user cancelled, and the mask/photo pixels attached to queued jobs (pixel buffers stay out of the
 * store; the store's queue holds the jobs as the UI shows them, with `masked` saying pixels are attached).
 */
import { buildRequest, MAX_SEED } from '../core/model/request';
import type { StepProgress } from '../core/model/protocol';
import * as db from '../dataset/db';
import type { DatasetItem } from '../dataset/types';
import { useStudio } from '../state/store';
import { client } from './client';
import { fail, pngUrl, randomSeed, S } from './common';
import { canvasState, type BasePhoto } from './maskDoc';
import { photoForSeed, photoSetNames, photoSetProblemNow } from './photos';
import { grayToDataUrl } from './preview';

/** Most images one request (the form's batch size, a fill-to-target chunk) asks for. */
export const MAX_BATCH = 16;

/** Context margin around the placed mask on the photo set: the CLI's (tiled.ts generateOnPhoto's default), so the same seed gives the same windows. */
const PHOTO_SET_MARGIN = 4;

const runner: {
  running: boolean;
  /** Jobs the user cancelled; checked after every await of the runner so a cancel between images is not lost. */
  cancelled: Set<number>;
  /** Mask and photo pixels attached to queued jobs, by job id. */
  payloads: Map<number, { mask: Uint8Array; photo: BasePhoto | null; margin: number; origin: 'painted' | 'library' | 'prompt' }>;
} = { running: false, cancelled: new Set(), payloads: new Map() };

/** Queues the form's request; `steps` overrides the form's step count (the distilled model's fast preview). */
export function enqueueFromSettings(opts: { steps?: number } = {}): void {
  const { canvas } = S();
  const settings = opts.steps === undefined ? S().settings : { ...S().settings, steps: opts.steps };
  if (settings.onPhotoSet) {
    // On the photo set the photo and mask come from each image's seed; the mask canvas is not used.
    const why = photoSetProblemNow(settings.className);
    if (why) {
      S().setNotice({ kind: 'error', text: `Place defects on the stored photos is on, but ${why}. Turn the option off to generate ${settings.className || 'images'} as windows.` });
      return;
    }
  }
  const useMask = !settings.onPhotoSet && canvas.useMask && !canvasState.doc.isEmpty();
  if (!settings.onPhotoSet && canvas.useMask && canvasState.doc.isEmpty() && canvasState.photo) {
    S().setNotice({ kind: 'error', text: 'The mask is empty: paint on the photo where the defect should go.' });
    return;
  }
  const base = settings.randomSeed ? randomSeed() : settings.seed;
  const n = Math.max(1, Math.min(MAX_BATCH, settings.batchSize));
  const photo = useMask ? canvasState.photo : null;
  const id = S().enqueue({
    className: settings.className, prompt: settings.prompt, sampler: settings.sampler, steps: settings.steps, guidance: settings.guidance,
    seeds: Array.from({ length: n }, (_, k) => Math.min(MAX_SEED, base + k)),
    ...(useMask ? { masked: photo ? ('photo' as const) : ('window' as const) } : {}),
    ...(settings.onPhotoSet ? { onPhotos: true as const, photoNames: photoSetNames() } : {}),
  });
  if (useMask) runner.payloads.set(id, { mask: canvasState.doc.data.slice(), photo, margin: canvas.margin, origin: canvas.maskOrigin });
  void runQueue();
}

/**
 * Queues what is missing to reach each class's target (accepted + pending + queued count towards it). With
 * "Place defects on the stored photos" on, the images go on the photo set; a class that cannot (no real
 * whole-part masks of it, e.g. the defect-free class) is not queued, and a notice names it and why.
 */
export function fillToTarget(): number {
  const { settings, items, queue, model } = S();
  if (!model) return 0;
  let queued = 0;
  const notOnPhotos: string[] = [];
  for (const cls of model.manifest.classes) {
    const target = settings.targets[cls] ?? 0;
    const have = items.filter((i) => i.className === cls && i.status !== 'rejected').length + queue.filter((j) => j.className === cls).reduce((a, j) => a + j.seeds.length - j.done, 0);
    let need = target - have;
    const why = settings.onPhotoSet && need > 0 ? photoSetProblemNow(cls) : null;
    if (why) {
      notOnPhotos.push(`${cls} (${why})`);
      continue;
    }
    while (need > 0) {
      const n = Math.min(MAX_BATCH, need);
      const base = randomSeed();
      S().enqueue({
        className: cls, prompt: settings.prompt, sampler: settings.sampler, steps: settings.steps, guidance: settings.guidance, seeds: Array.from({ length: n }, (_, k) => base + k),
        ...(settings.onPhotoSet ? { onPhotos: true as const, photoNames: photoSetNames() } : {}),
      });
      need -= n;
      queued += n;
    }
  }
  if (notOnPhotos.length) {
    const text = `Not queued on the stored photos: ${notOnPhotos.join('; ')}. Turn "Place defects on the stored photos" off to fill ${notOnPhotos.length === 1 ? 'it' : 'them'} as windows.`;
    // The Dataset panel reports the queued count as a notice once this returns: this joins it instead of being replaced by it.
    queueMicrotask(() => {
      const cur = S().notice;
      S().setNotice({ kind: 'error', text: cur?.kind === 'info' && /^Queued \d+/.test(cur.text) ? `${cur.text} ${text}` : text });
    });
  }
  void runQueue();
  return queued;
}

/**
 * The queue as it was before a reload: requests without a painted mask are queued again for the images they had
 * left; those with a painted mask or photo are dropped (their pixels lived in this page only), and a notice says
 * how many of each.
 */
export function restoreQueue(): void {
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
    S().enqueue({ className: j.className, prompt: j.prompt, sampler: j.sampler, steps: j.steps, guidance: j.guidance, seeds, ...(j.onPhotos ? { onPhotos: true as const } : {}), ...(j.photoNames ? { photoNames: j.photoNames } : {}) });
  }
  const parts: string[] = [];
  if (keep.length) parts.push(`${keep.length} queued request${keep.length === 1 ? '' : 's'} from before the reload ${keep.length === 1 ? 'was' : 'were'} queued again (${images} image${images === 1 ? '' : 's'} left)`);
  if (dropped) parts.push(`${dropped} request${dropped === 1 ? '' : 's'} with a painted mask or photo, or a class this model does not have, ${dropped === 1 ? 'was' : 'were'} dropped (a mask and photo are not kept across a reload): paint and Generate again`);
  S().setNotice({ kind: 'info', text: `${parts.join('; ')}.` });
  void runQueue();
}

/** Removes a queued request (and the mask/photo pixels attached to it). */
export function removeQueuedJob(id: number): void {
  S().removeJob(id);
  runner.payloads.delete(id);
}

/** Runs queued jobs one image at a time until the queue is empty, cancelled, or storage is full. */
export async function runQueue(): Promise<void> {
  if (runner.running) return;
  runner.running = true;
  try {
    for (;;) {
      const { queue, model, status } = S();
      const job = queue[0];
      if (!job || !model || (status.kind !== 'ready' && status.kind !== 'generating')) break;
      const seed = job.seeds[job.done];
      if (runner.cancelled.has(job.id)) {
        runner.cancelled.delete(job.id);
        removeQueuedJob(job.id);
        S().setStatus({ kind: 'ready' });
        continue;
      }
      if (seed === undefined) {
        S().removeJob(job.id);
        runner.payloads.delete(job.id);
        continue;
      }
      const payload = runner.payloads.get(job.id);
      // The model's spacing and guidance interval, eta 0, clip: the builder's defaults.
      const req = buildRequest(model.manifest, {
        className: job.className, prompt: job.prompt, seed, sampler: job.sampler, steps: job.steps, guidance: job.guidance, previewIntervalMs: 150,
      });
      S().setStatus({ kind: 'generating', progress: null });
      const steps: number[] = [];
      try {
        const onProgress = (p: StepProgress) => {
          steps.push(p.step);
          S().setStatus({ kind: 'generating', progress: p });
          if (p.preview) S().setPreview(grayToDataUrl(p.preview, model.manifest.image.width, model.manifest.image.height));
        };
        if (payload && !payload.photo) req.defectMask = payload.mask;
        const onSet = job.onPhotos ? await photoForSeed(seed, job.className, model.manifest, job.photoNames) : null;
        const r = onSet
          ? await client.generateOnPhoto(req, onSet.photo, onSet.mask, PHOTO_SET_MARGIN, onProgress)
          : payload?.photo
            ? await client.generateOnPhoto(req, payload.photo, payload.mask, payload.margin, onProgress)
            : await client.generate(req, onProgress);
        r.provenance.maskOrigin = onSet ? 'library' : payload ? payload.origin : r.provenance.maskSource === 'library' ? 'library' : undefined;
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
        await db.putItems([{ item, images: { id: item.id, png: r.png, maskPng: r.maskPng } }]);
        S().addItems([{ ...item, url: pngUrl(r.png), maskUrl: pngUrl(r.maskPng) }]);
        useStudio.setState({ lastProgressSteps: steps });
        const cur = S().queue.find((j) => j.id === job.id);
        if (cur) useStudio.setState({ queue: S().queue.map((j) => (j.id === job.id ? { ...j, done: j.done + 1 } : j)) });
        S().setStatus({ kind: 'ready' });
      } catch (e) {
        const err = e as Error;
        if (err.name === 'aborted' || runner.cancelled.has(job.id)) {
          runner.cancelled.delete(job.id);
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
          runner.payloads.delete(job.id);
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
    runner.running = false;
    S().setPreview(null);
  }
}

/** Cancels the running request (the rest of its batch too): the current image stops within one step. */
export function cancelGeneration(): void {
  const job = S().queue[0];
  if (job) runner.cancelled.add(job.id);
  void client.cancel().catch(() => undefined);
}
