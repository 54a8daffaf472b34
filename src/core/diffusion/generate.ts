/**
 * The denoising loop, written once (diffusers' pipeline_ddim.py shape) and shared by the Web Worker and the
 * command-line generator. The runtime is passed in as `denoise`; this module knows nothing of onnxruntime.
 *
 * Per step: one model call on a batch of 2 ([conditional ; null label], classifier-free guidance combined
 * here) or 1 when guidance is 1 or the step's noise level is outside the request's guidance interval;
 * sampler.step; then, when inpainting, the known region is re-noised to the next timestep and put back
 * (inpaint.ts). All noise comes from one Rng seeded with the request's seed, in a
 * fixed order, so the same seed, model and backend give the same bytes.
 */
import { StudioError } from '../errors';
import { cumulativeStepCost, etaAfterStep } from './eta';
import { checkGuidanceInterval, combineGuidance, guidanceApplies } from './guidance';
import { encodeGeneratedPng, encodeMaskPng, fromUint8, toUint8 } from '../formats/image';
import { blendKnown } from './inpaint';
import type { ModelManifest } from '../model/manifest';
import { randomMask, type MaskLibrary } from '../formats/maskLibrary';
import type { Backend, GenerateRequest, GenerateResult, Provenance, StepProgress } from '../model/protocol';
import type { DenoiseBatch, DenoiseFn } from '../model/denoiser';
import { Rng, deriveSeed } from './rng';
import { SAMPLER_NAMES, createSampler } from './samplers';
import { TIMESTEP_SPACINGS, asLoopIndex } from './schedule';
import { MAX_ETA, MAX_GUIDANCE, MAX_SEED, MAX_STEPS } from '../model/request';
import { buildProvenance } from '../model/provenance';


export interface GenerateHooks {
  onProgress?: (p: StepProgress) => void;
  /** Checked before every model call; an aborted job throws StudioError('aborted'). */
  isCancelled?: () => boolean;
  now?: () => number;
}

// The limits live with the request builder (model/request.ts); re-exported for the readers of records.
export { MAX_SEED, MAX_STEPS } from '../model/request';

/** Validates a request against a model; the message names the field and what is accepted. */
export function validateRequest(m: ModelManifest, r: GenerateRequest): void {
  const bad = (field: string, msg: string): never => {
    throw new StudioError('badRequest', `${field} ${msg}`);
  };
  const n = m.image.width * m.image.height;
  if (!m.classes.includes(r.className)) bad('class', `"${r.className}" is not a class of model ${m.id}; classes are ${m.classes.join(', ')}`);
  if (!Number.isSafeInteger(r.seed) || r.seed < 0) bad('seed', `must be an integer from 0 to ${MAX_SEED}, got ${r.seed}`);
  if (!SAMPLER_NAMES.includes(r.sampler)) bad('sampler', `"${r.sampler}" is not supported; accepted: ${SAMPLER_NAMES.join(', ')}`);
  if (!Number.isInteger(r.steps) || r.steps < 1 || r.steps > Math.min(MAX_STEPS, m.schedule.numTrainTimesteps))
    bad('steps', `must be an integer from 1 to ${Math.min(MAX_STEPS, m.schedule.numTrainTimesteps)}, got ${r.steps}`);
  if (!Number.isFinite(r.guidance) || r.guidance < 0 || r.guidance > MAX_GUIDANCE) bad('guidance', `must be a number from 0 to ${MAX_GUIDANCE}, got ${r.guidance}`);
  if (m.distillation && r.guidance !== 1)
    bad('guidance', `must be 1 for model ${m.id}: it is distilled with guidance ${m.distillation.guidanceBakedIn} built into its weights (one call per step), got ${r.guidance}`);
  if (r.guidanceInterval !== undefined) {
    const why = checkGuidanceInterval(r.guidanceInterval);
    if (why) bad('guidanceInterval', why);
  }
  if (!Number.isFinite(r.eta) || r.eta < 0 || r.eta > MAX_ETA) bad('eta', `must be a number from 0 to ${MAX_ETA}, got ${r.eta}`);
  if (!TIMESTEP_SPACINGS.includes(r.timestepSpacing)) bad('timestepSpacing', `"${r.timestepSpacing}" is not supported; accepted: ${TIMESTEP_SPACINGS.join(', ')}`);
  for (const [field, arr] of [['defectMask', r.defectMask], ['knownImage', r.knownImage], ['keepMask', r.keepMask]] as const)
    if (arr !== undefined && arr.length !== n)
      bad(field, `has ${arr.length} pixels; the model takes ${m.image.width}x${m.image.height} = ${n}`);
  if ((r.knownImage === undefined) !== (r.keepMask === undefined)) bad('knownImage/keepMask', 'must be given together');
  if (r.knownImage && !m.conditions.inpainting) bad('knownImage', `is not accepted by model ${m.id} (it does not support inpainting)`);
  if (r.defectMask && !m.conditions.defectMask) bad('defectMask', `is not accepted by model ${m.id} (it is not mask-conditioned)`);
}

/** Refuses a model output of the wrong length or with a non-finite value (step is the loop index i). */
export function checkModelOutput(out: Float32Array, expected: number, step: number, t: number): void {
  if (out.length !== expected) throw new StudioError('inference', `model returned ${out.length} values, expected ${expected}`);
  for (let k = 0; k < out.length; k++)
    if (!Number.isFinite(out[k] as number)) throw new StudioError('inference', `model output has a non-finite value at step ${step + 1} (t=${t})`);
}

/** The deterministic parameters written into each PNG's tEXt chunks (no timings: files must be reproducible). */
export function pngText(p: Provenance): Record<string, string> {
  return {
    Software: 'Defect Diffusion Studio',
    'dds:model': `${p.modelId}@${p.modelVersion} sha256:${p.modelSha256}`,
    'dds:params': JSON.stringify({
      className: p.className, prompt: p.prompt, seed: p.seed, sampler: p.sampler, steps: p.steps, guidance: p.guidance,
      ...(p.guidanceInterval ? { guidanceInterval: p.guidanceInterval } : {}),
      eta: p.eta, timestepSpacing: p.timestepSpacing, clipSample: p.clipSample, maskSource: p.maskSource, maskSha256: p.maskSha256,
      inpainting: p.inpainting,
      ...(p.modelEvaluations !== undefined ? { modelEvaluations: p.modelEvaluations } : {}),
      ...(p.basePhoto ? { basePhoto: p.basePhoto, windows: p.windows } : {}),
      ...(p.tiling ? { tiling: p.tiling } : {}),
    }),
  };
}

export async function generateImage(
  m: ModelManifest,
  maskLibrary: MaskLibrary | null,
  denoise: DenoiseFn,
  req: GenerateRequest,
  backend: Backend,
  hooks: GenerateHooks = {},
): Promise<GenerateResult> {
  validateRequest(m, req);
  const now = hooks.now ?? (() => Date.now());
  const t0 = now();
  const { width: w, height: h } = m.image;
  const n = w * h;
  const classIndex = m.classes.indexOf(req.className);

  let maskSource: Provenance['maskSource'] = 'none';
  let mask: Uint8Array = new Uint8Array(n);
  if (req.defectMask) {
    mask = Uint8Array.from(req.defectMask, (v) => (v ? 1 : 0));
    maskSource = 'given';
  } else if (m.conditions.defectMask && maskLibrary) {
    mask = randomMask(maskLibrary, req.className, deriveSeed(req.seed, 0));
    maskSource = 'library';
  }
  const inpainting = req.knownImage !== undefined && req.keepMask !== undefined;
  const known = inpainting ? fromUint8(req.knownImage as Uint8Array, m.image.pixelRange) : new Float32Array(n);
  const keep = inpainting ? Float32Array.from(req.keepMask as Uint8Array, (v) => (v ? 1 : 0)) : new Float32Array(n);
  if (inpainting) for (let i = 0; i < n; i++) known[i] = (known[i] as number) * (keep[i] as number);
  const maskF = Float32Array.from(mask);

  const sampler = createSampler(req.sampler, {
    schedule: m.schedule,
    numInferenceSteps: req.steps,
    timestepSpacing: req.timestepSpacing,
    eta: req.eta,
    clipSample: req.clipSample,
  });
  // Two input sets: [class ; null label] for guided steps, [class] for the others.
  const makeInputs = (labels: number[]): DenoiseBatch => {
    const batch = labels.length;
    const rep = (a: Float32Array): Float32Array => {
      const out = new Float32Array(a.length * batch);
      for (let b = 0; b < batch; b++) out.set(a, b * a.length);
      return out;
    };
    return {
      batch,
      sample: new Float32Array(n * batch),
      timestep: new Float32Array(batch),
      classLabels: BigInt64Array.from(labels, (c) => BigInt(c)),
      defectMask: rep(maskF),
      knownImage: rep(known),
      keepMask: rep(keep),
    };
  };
  const condInputs = makeInputs([classIndex]);
  const guidedInputs = req.guidance !== 1 ? makeInputs([classIndex, m.nullClassIndex]) : null;

  const rng = new Rng(req.seed);
  let x: Float32Array = new Float32Array(n);
  rng.fillGaussian(x);
  const noise = new Float32Array(n);
  const steps = sampler.timesteps.length;
  const previewEvery = req.previewIntervalMs ?? 100;
  let lastPreview = -Infinity;
  let modelMs = 0;
  let modelEvaluations = 0;
  const cost = cumulativeStepCost(sampler.timesteps, sampler.alphasCumprod, guidedInputs !== null, req.guidanceInterval);
  for (let i = 0; i < steps; i++) {
    if (hooks.isCancelled?.()) throw new StudioError('aborted', `generation cancelled after ${i} of ${steps} steps`);
    const t = sampler.timesteps[i] as number;
    const guided = guidedInputs !== null && guidanceApplies(sampler.alphasCumprod[t] as number, req.guidanceInterval);
    const inputs = guided ? guidedInputs : condInputs;
    const batch = inputs.batch;
    for (let b = 0; b < batch; b++) inputs.sample.set(x, b * n);
    inputs.timestep.fill(t);
    const tm = now();
    const out = await denoise(inputs);
    modelMs += now() - tm;
    modelEvaluations += batch;
    checkModelOutput(out, n * batch, i, t);
    const modelOutput = guided ? combineGuidance(out, 1, req.guidance) : out;
    const res = sampler.step(modelOutput, asLoopIndex(i, steps), x, rng);
    x = res.prevSample;
    if (inpainting) {
      const next = sampler.timesteps[i + 1];
      if (next !== undefined) rng.fillGaussian(noise);
      x = blendKnown(x, known, keep, sampler.alphasCumprod, next ?? null, next !== undefined ? noise : null);
    }
    if (hooks.onProgress) {
      const elapsed = now() - t0;
      const p: StepProgress = { step: i + 1, totalSteps: steps, timestep: t, elapsedMs: elapsed, etaMs: etaAfterStep(elapsed, cost, i) };
      if (elapsed - lastPreview >= previewEvery || i === steps - 1) {
        p.preview = toUint8(res.predOriginalSample, m.image.pixelRange);
        lastPreview = elapsed;
      }
      hooks.onProgress(p);
    }
  }
  const pixels = toUint8(x, m.image.pixelRange);
  if (inpainting) {
    // The blend after the last step used the known image exactly; re-assert it on the 8-bit pixels so the
    // kept region is the input photo bit for bit (no float round trip).
    const kp = req.knownImage as Uint8Array;
    for (let i = 0; i < n; i++) if (keep[i]) pixels[i] = kp[i] as number;
  }
  const provenance = buildProvenance(m, req, { maskSource, mask, inpainting, backend, timings: { totalMs: now() - t0, modelMs, steps }, modelEvaluations });
  return {
    width: w,
    height: h,
    pixels,
    mask,
    png: encodeGeneratedPng(pixels, w, h, pngText(provenance)),
    maskPng: encodeMaskPng(mask, w, h),
    provenance,
  };
}
