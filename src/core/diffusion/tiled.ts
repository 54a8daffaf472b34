/**
 * Joint denoising of overlapping windows on a photo: MultiDiffusion, Bar-Tal et al., "MultiDiffusion: Fusing
 * Diffusion Paths for Controlled Image Generation", ICML 2023, arXiv:2302.08113, eq. (3)-(5).
 *
 * The sample is the whole canvas (the union of the item's windows, kept as a compact array of those pixels in
 * photo scan order). At every step each window's crop of the canvas goes through the model (all windows in one
 * batched call, split into calls of `rowsPerCall` rows), classifier-free guidance is combined per window as in
 * generate.ts, and the per-pixel weighted average of the windows' outputs becomes the canvas's model output.
 * Every sampler in ./samplers is elementwise in (modelOutput, sample) and predictX0 is linear in the model output
 * at fixed x_t and t, so one sampler step on the averaged output is the average of the per-window steps: the
 * closed-form minimiser of eq. (3) with per-pixel weights W_i (eq. 5), which the paper takes for its update.
 * Then known-region blending (inpaint.ts) puts the photo, re-noised to the next timestep, back outside the
 * holes; after the last step only hole pixels are written into the photo, so every other pixel is the photo.
 * The blend's keep mask can be soft inside the holes (tiling.feather, tiling.reach): along a hole's edge, and
 * beyond `reach` pixels from the painted defect, the photo is blended in at every step with weights that ramp
 * over `feather` pixels, so the regenerated texture fades into the photo instead of ending at a rectangle (on
 * real tiles an unfeathered hole's edge showed as a step: scripts/photoBench.ts, src/core/quality/seam.ts).
 *
 * Notation (code -> paper): windows[k] -> F_i (crop of the canvas J), out_k -> Phi(x_t^i | y_i),
 * weight -> W_i (a tent, or 1), modelOutput -> the weighted average sum_i F_i^{-1}(W_i * Phi) / sum_i F_i^{-1}(W_i).
 *
 * Noise: one Rng seeded with deriveSeed(seed, 1) (the seed the older one-window-at-a-time path gave its first
 * window), drawn in a fixed order over the compact canvas: the initial sample, then per step the sampler's own
 * noise and the blend's. A single window is therefore the same computation as composite.ts's generateInWindows
 * (same bytes), and the same seed, model, backend and thread count give the same bytes.
 */
import { StudioError } from '../errors';
import { checkModelOutput, pngText, validateRequest, type GenerateHooks } from './generate';
import type { DenoiseBatch, DenoiseFn } from '../model/denoiser';
import { checkPhoto, checkWindows, photoProvenance, planWindows, type Photo } from './composite';
import { cumulativeStepCost, etaAfterStep } from './eta';
import { combineGuidance, guidanceApplies } from './guidance';
import { encodeGeneratedPng, encodeMaskPng, fromUint8, toUint8 } from '../formats/image';
import { blendKnown } from './inpaint';
import { chessboardDepth } from '../quality/seam';
import type { ModelManifest } from '../model/manifest';
import type { MaskLibrary } from '../formats/maskLibrary';
import type { Backend, GenerateRequest, GenerateResult, PhotoWindow, StepProgress, Tiling } from '../model/protocol';
import { Rng, deriveSeed } from './rng';
import { createSampler } from './samplers';
import { asLoopIndex } from './schedule';

/** What the studio and the CLI use. 32 rows: 16 guided windows per call; the call's cost per row is flat on CPU. */
export const DEFAULT_TILING: Tiling = { method: 'multidiffusion', weighting: 'tent', rowsPerCall: 32, feather: 6, reach: 4 };
export const MAX_ROWS_PER_CALL = 256;
export const MAX_FEATHER = 64;

/**
 * Reads a recorded provenance.tiling (a JSON value), or says why it is not one; for readers of metadata.jsonl
 * (scripts/reproduce.ts, and the dataset record schema once it carries the field).
 */
export function parseTiling(raw: unknown): Tiling {
  const bad = (why: string): never => {
    throw new StudioError('badRequest', `tiling ${why}, got ${JSON.stringify(raw)}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('must be an object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['method', 'weighting', 'rowsPerCall', 'feather', 'reach'].includes(k)) bad(`has an unknown field "${k}"`);
  if (o['method'] !== 'multidiffusion') bad('method must be "multidiffusion"');
  if (o['weighting'] !== 'tent' && o['weighting'] !== 'uniform') bad('weighting must be "tent" or "uniform"');
  const int = (k: string, lo: number, hi: number) => {
    const v = o[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi)) bad(`${k} must be an integer from ${lo} to ${hi}`);
    return v as number;
  };
  return {
    method: 'multidiffusion', weighting: o['weighting'] as Tiling['weighting'], rowsPerCall: int('rowsPerCall', 2, MAX_ROWS_PER_CALL),
    ...(o['feather'] !== undefined ? { feather: int('feather', 0, MAX_FEATHER) } : {}),
    ...(o['reach'] !== undefined ? { reach: int('reach', 0, MAX_FEATHER) } : {}),
  };
}

/** Weight of window pixel (x, y): 1 in the middle, falling linearly to 1/(size/2) at the edges; 1 everywhere for 'uniform'. */
export function windowWeights(size: number, weighting: Tiling['weighting']): Float64Array {
  const out = new Float64Array(size * size).fill(1);
  if (weighting === 'uniform') return out;
  const half = size / 2;
  const ramp = (i: number) => Math.min(i + 1, size - i, half) / half;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = ramp(x) * ramp(y);
  return out;
}

/** The canvas: the union of the windows as compact pixel indices, and each window's map into it. */
export interface Canvas {
  /** photo pixel index of each canvas pixel, in photo scan order */
  photoIndex: Int32Array;
  /** per window, canvas index of each of its size*size pixels (window scan order) */
  windowIndex: Int32Array[];
  /** 0 inside a hole (regenerated), 1 elsewhere (the photo) */
  keep: Float32Array;
  /** windows covering each canvas pixel */
  coverage: Uint16Array;
  /** 0 outside the holes; inside, the chessboard distance to the nearest pixel outside them (1 on the hole's edge) */
  depth: Uint16Array;
  /** chessboard distance to the nearest painted pixel in the windows' box (0 on it; 65535 when none) */
  fromDefect: Uint16Array;
}

export function buildCanvas(photoWidth: number, windows: readonly PhotoWindow[], size: number, defect?: Uint8Array): Canvas {
  const X0 = Math.min(...windows.map((w) => w.x)), Y0 = Math.min(...windows.map((w) => w.y));
  const bw = Math.max(...windows.map((w) => w.x)) + size - X0, bh = Math.max(...windows.map((w) => w.y)) + size - Y0;
  const at = new Int32Array(bw * bh).fill(-1);
  const hole = new Uint8Array(bw * bh);
  for (const w of windows) {
    for (let y = 0; y < size; y++) at.fill(0, (w.y - Y0 + y) * bw + w.x - X0, (w.y - Y0 + y) * bw + w.x - X0 + size);
    for (let y = w.hole.y0; y < w.hole.y1; y++) hole.fill(1, (w.y - Y0 + y) * bw + w.x - X0 + w.hole.x0, (w.y - Y0 + y) * bw + w.x - X0 + w.hole.x1);
  }
  let n = 0;
  for (let i = 0; i < at.length; i++) if (at[i] === 0) at[i] = n++;
  // Chessboard distance into the holes; pixels outside the box are the photo.
  const dist = chessboardDepth(hole, bw, bh, true);
  const notDefect = new Uint8Array(bw * bh).fill(1);
  if (defect) for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) if (defect[(Y0 + y) * photoWidth + X0 + x]) notDefect[y * bw + x] = 0;
  const toDefect = chessboardDepth(notDefect, bw, bh, false);
  const photoIndex = new Int32Array(n);
  const keep = new Float32Array(n);
  const depth = new Uint16Array(n);
  const fromDefect = new Uint16Array(n);
  for (let i = 0; i < at.length; i++) {
    const c = at[i] as number;
    if (c < 0) continue;
    const x = i % bw, y = (i - x) / bw;
    photoIndex[c] = (Y0 + y) * photoWidth + X0 + x;
    keep[c] = hole[i] ? 0 : 1;
    depth[c] = dist[i] as number;
    fromDefect[c] = toDefect[i] as number;
  }
  const coverage = new Uint16Array(n);
  const windowIndex = windows.map((w) => {
    const idx = new Int32Array(size * size);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const c = at[(w.y - Y0 + y) * bw + w.x - X0 + x] as number;
        idx[y * size + x] = c;
        coverage[c] = (coverage[c] as number) + 1;
      }
    return idx;
  });
  return { photoIndex, windowIndex, keep, coverage, depth, fromDefect };
}

/**
 * MultiDiffusion's per-pixel fusion: the weighted average of the outputs of the windows covering each canvas pixel
 * (perWindow holds K model-sized outputs, window-major). A pixel seen by one window takes its output as is (no
 * w * o / w rounding), which keeps a single window bit-identical to the one-window path.
 */
export function fuseOutputs(perWindow: Float32Array, canvas: Pick<Canvas, 'windowIndex' | 'coverage'>, weights: Float64Array): Float32Array {
  const N = canvas.coverage.length;
  const n = weights.length;
  const acc = new Float64Array(N);
  const wsum = new Float64Array(N);
  const out = new Float32Array(N);
  canvas.windowIndex.forEach((idx, k) => {
    for (let j = 0; j < n; j++) {
      const c = idx[j] as number;
      const o = perWindow[k * n + j] as number;
      if (canvas.coverage[c] === 1) out[c] = o;
      else {
        const wt = weights[j] as number;
        acc[c] = (acc[c] as number) + wt * o;
        wsum[c] = (wsum[c] as number) + wt;
      }
    }
  });
  for (let c = 0; c < N; c++) if ((canvas.coverage[c] as number) > 1) out[c] = (acc[c] as number) / (wsum[c] as number);
  return out;
}

/**
 * Plans windows for the painted mask (composite.ts planWindows) and generates them jointly. The mask library is
 * not used (the painted mask is the mask); the parameter keeps the signature of generateImage.
 */
export async function generateOnPhoto(
  m: ModelManifest,
  _lib: MaskLibrary | null,
  denoise: DenoiseFn,
  req: GenerateRequest,
  photo: Photo,
  mask: Uint8Array,
  backend: Backend,
  hooks: GenerateHooks = {},
  margin = 4,
): Promise<GenerateResult> {
  checkPhoto(m, photo, mask);
  const windows = planWindows(Uint8Array.from(mask, (v) => (v ? 1 : 0)), photo.width, photo.height, m.image.width, margin);
  // A single window is feathered too (an unfeathered one left a visible rectangle: seam ratio 3.2-5.9 on the
  // blowhole cases of scripts/photoBench.ts); its tiling is recorded like any tiled item's, which the dataset
  // record schema carries (src/dataset/record.ts). Items made before, with no tiling record, reproduce as they were.
  return generateTiled(m, denoise, req, photo, mask, windows, backend, hooks, DEFAULT_TILING);
}

/**
 * Generates a defect into the photo over the given windows, denoised jointly; provenance records the windows
 * and the tiling, except for a single window without feather (the one-window computation: see the header).
 */
export async function generateTiled(
  m: ModelManifest,
  denoise: DenoiseFn,
  req: GenerateRequest,
  photo: Photo,
  mask: Uint8Array,
  windows: readonly PhotoWindow[],
  backend: Backend,
  hooks: GenerateHooks = {},
  tiling: Tiling = DEFAULT_TILING,
): Promise<GenerateResult> {
  checkPhoto(m, photo, mask);
  checkWindows(m, photo, windows, true);
  const { defectMask: _d, knownImage: _k, keepMask: _p, ...params } = req;
  validateRequest(m, params);
  if (tiling.method !== 'multidiffusion' || (tiling.weighting !== 'tent' && tiling.weighting !== 'uniform'))
    throw new StudioError('badRequest', `tiling ${JSON.stringify(tiling)} is not supported; accepted: method multidiffusion, weighting tent or uniform`);
  if (!Number.isInteger(tiling.rowsPerCall) || tiling.rowsPerCall < 2 || tiling.rowsPerCall > MAX_ROWS_PER_CALL)
    throw new StudioError('badRequest', `tiling.rowsPerCall must be an integer from 2 to ${MAX_ROWS_PER_CALL}, got ${tiling.rowsPerCall}`);
  for (const [k, v] of [['feather', tiling.feather], ['reach', tiling.reach]] as const)
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= MAX_FEATHER))
      throw new StudioError('badRequest', `tiling.${k} must be an integer from 0 to ${MAX_FEATHER} pixels, got ${v}`);
  const now = hooks.now ?? (() => Date.now());
  const t0 = now();
  const { width: w, height: h } = photo;
  const size = m.image.width;
  const n = size * size;
  const K = windows.length;
  const bin = Uint8Array.from(mask, (v) => (v ? 1 : 0));
  const canvas = buildCanvas(w, windows, size, bin);
  const N = canvas.photoIndex.length;
  if (!canvas.keep.some((v) => v === 0)) throw new StudioError('badRequest', 'the windows have no hole: nothing to regenerate');
  const keep = canvas.keep;
  const photoC = fromUint8(Uint8Array.from(canvas.photoIndex, (p) => photo.pixels[p] as number), m.image.pixelRange);
  const known = Float32Array.from(photoC, (v, c) => v * (keep[c] as number));
  const maskC = Float32Array.from(canvas.photoIndex, (p) => bin[p] as number);
  // The blend's keep mask: the model's (0 in the holes) where the feather is 0. With a feather F, off the painted
  // pixels the photo is blended in along the inside of a hole's edge (weight 1 - d/(F + 1) at depth d) and,
  // with a reach R, beyond R pixels from the painted defect (weight rising from 1/(F + 1) to 1 over F pixels):
  // the regenerated background shrinks to a soft band around the defect, the model's keep input stays the
  // rectangles it was trained with.
  const feather = tiling.feather ?? 0;
  const reach = tiling.reach;
  const blendKeep = feather > 0
    ? Float32Array.from(keep, (v, c) => {
      if (v === 1) return 1;
      const dm = canvas.fromDefect[c] as number;
      if (dm === 0) return 0;
      const edge = Math.max(0, 1 - (canvas.depth[c] as number) / (feather + 1));
      const far = reach === undefined ? 0 : Math.min(1, Math.max(0, (dm - reach) / (feather + 1)));
      return Math.max(edge, far);
    })
    : keep;
  const classIndex = m.classes.indexOf(req.className);

  // Static per-row inputs. Rows are [window 0..K-1 with the class ; window 0..K-1 with the null label] when the
  // step is guided, [window 0..K-1 with the class] when not; they go to the model rowsPerCall at a time.
  const gather = (src: Float32Array, k: number, dst: Float32Array, at: number) => {
    const idx = canvas.windowIndex[k] as Int32Array;
    for (let j = 0; j < n; j++) dst[at + j] = src[idx[j] as number] as number;
  };
  const makeCalls = (labels: number[]): DenoiseBatch[] => {
    const rows = labels.length * K;
    const calls: DenoiseBatch[] = [];
    for (let r0 = 0; r0 < rows; r0 += tiling.rowsPerCall) {
      const batch = Math.min(tiling.rowsPerCall, rows - r0);
      const b: DenoiseBatch = {
        batch, sample: new Float32Array(n * batch), timestep: new Float32Array(batch), classLabels: new BigInt64Array(batch),
        defectMask: new Float32Array(n * batch), knownImage: new Float32Array(n * batch), keepMask: new Float32Array(n * batch),
      };
      for (let r = 0; r < batch; r++) {
        const k = (r0 + r) % K;
        b.classLabels[r] = BigInt(labels[Math.floor((r0 + r) / K)] as number);
        gather(maskC, k, b.defectMask, r * n);
        gather(known, k, b.knownImage, r * n);
        gather(keep, k, b.keepMask, r * n);
      }
      calls.push(b);
    }
    return calls;
  };
  const condCalls = makeCalls([classIndex]);
  const guidedCalls = req.guidance !== 1 ? makeCalls([classIndex, m.nullClassIndex]) : null;
  const weights = windowWeights(size, tiling.weighting);

  const sampler = createSampler(req.sampler, { schedule: m.schedule, numInferenceSteps: req.steps, timestepSpacing: req.timestepSpacing, eta: req.eta, clipSample: req.clipSample });
  const rng = new Rng(deriveSeed(req.seed, 1));
  let x: Float32Array = new Float32Array(N);
  rng.fillGaussian(x);
  const noise = new Float32Array(N);
  const steps = sampler.timesteps.length;
  const previewEvery = req.previewIntervalMs ?? 100;
  let lastPreview = -Infinity;
  let modelMs = 0;
  let modelEvaluations = 0;
  const cost = cumulativeStepCost(sampler.timesteps, sampler.alphasCumprod, guidedCalls !== null, req.guidanceInterval);
  for (let i = 0; i < steps; i++) {
    const t = sampler.timesteps[i] as number;
    const guided = guidedCalls !== null && guidanceApplies(sampler.alphasCumprod[t] as number, req.guidanceInterval);
    const calls = guided ? guidedCalls : condCalls;
    const all = new Float32Array(n * K * (guided ? 2 : 1));
    let row = 0;
    for (const b of calls) {
      if (hooks.isCancelled?.()) throw new StudioError('aborted', `generation cancelled after ${i} of ${steps} steps`);
      for (let r = 0; r < b.batch; r++) gather(x, (row + r) % K, b.sample, r * n);
      b.timestep.fill(t);
      const tm = now();
      const out = await denoise(b);
      modelMs += now() - tm;
      modelEvaluations += b.batch;
      checkModelOutput(out, n * b.batch, i, t);
      all.set(out, row * n);
      row += b.batch;
    }
    const perWindow = guided ? combineGuidance(all, K, req.guidance) : all;
    const modelOutput = fuseOutputs(perWindow, canvas, weights);
    const res = sampler.step(modelOutput, asLoopIndex(i, steps), x, rng);
    const next = sampler.timesteps[i + 1];
    if (next !== undefined) rng.fillGaussian(noise);
    x = blendKnown(res.prevSample, photoC, blendKeep, sampler.alphasCumprod, next ?? null, next !== undefined ? noise : null);
    if (hooks.onProgress) {
      const elapsed = now() - t0;
      const p: StepProgress = { step: i + 1, totalSteps: steps, timestep: t, elapsedMs: elapsed, etaMs: etaAfterStep(elapsed, cost, i) };
      if (elapsed - lastPreview >= previewEvery || i === steps - 1) {
        // The preview is model-sized: the first window's crop of the predicted clean canvas.
        const crop = new Float32Array(n);
        gather(res.predOriginalSample, 0, crop, 0);
        p.preview = toUint8(crop, m.image.pixelRange);
        lastPreview = elapsed;
      }
      hooks.onProgress(p);
    }
  }
  const gen = toUint8(x, m.image.pixelRange);
  const out = photo.pixels.slice();
  for (let c = 0; c < N; c++) if (keep[c] === 0) out[canvas.photoIndex[c] as number] = gen[c] as number;
  const provenance = photoProvenance(m, req, photo, bin, windows, backend, { totalMs: now() - t0, modelMs, steps }, modelEvaluations, K > 1 || feather > 0 ? tiling : undefined);
  return { width: w, height: h, pixels: out, mask: bin, png: encodeGeneratedPng(out, w, h, pngText(provenance)), maskPng: encodeMaskPng(bin, w, h), provenance };
}
