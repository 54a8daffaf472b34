/**
 * Shared pieces of the samplers: the step record, the Sampler interface, q_sample and the x0 prediction for
 * each prediction type. Elementwise arithmetic is done in float64 and stored as float32 (samples and model
 * outputs are float32; schedules are float64).
 *
 * Notation (code -> paper): alphasCumprod[t] -> alpha_bar_t (Ho et al. 2020, arXiv:2006.11239),
 * sqrt(alpha_bar_t) -> alpha_t and sqrt(1 - alpha_bar_t) -> sigma_t (Salimans & Ho 2022, arXiv:2202.00512,
 * sec. 4), modelOutput -> eps_theta / v_theta / x_theta depending on predictionType.
 */
import type { NoiseSource } from '../rng';
import type { LoopIndex, PredictionType, TimestepSpacing, TrainTimestep } from '../schedule';

export interface StepOutput {
  /** x at the next (smaller) timestep of the loop, or the final image after the last step. */
  prevSample: Float32Array;
  /** The sampler's estimate of x0 at this step (after clipping, when clipping is on). */
  predOriginalSample: Float32Array;
}

export interface Sampler {
  /** Training timesteps visited by the loop, strictly descending; timesteps[i] is the model's time input at step i. */
  readonly timesteps: readonly TrainTimestep[];
  /** float64 alpha_bar, index = training timestep. */
  readonly alphasCumprod: Float64Array;
  /**
   * One reverse step from timesteps[loopIndex] to timesteps[loopIndex + 1] (or to the clean image after the
   * last step). `rng` is used only where noise is needed: DDPM, and DDIM with eta > 0.
   */
  step(modelOutput: Float32Array, loopIndex: LoopIndex, sample: Float32Array, rng: NoiseSource): StepOutput;
}

export interface SamplerOptions {
  numInferenceSteps: number;
  timestepSpacing: TimestepSpacing;
  /** DDIM eta (0 = deterministic DDIM, 1 = DDPM-like variance). Ignored by the other samplers. */
  eta?: number;
  /** Clamp the predicted x0 to [-clipSampleRange, clipSampleRange] (diffusers clip_sample). Default false. */
  clipSample?: boolean;
  clipSampleRange?: number;
}

export function checkLengths(modelOutput: Float32Array, sample: Float32Array): void {
  if (modelOutput.length !== sample.length) {
    throw new RangeError(
      `modelOutput length ${modelOutput.length} does not match sample length ${sample.length}; they must be equal`,
    );
  }
}

/** q_sample, Ho et al. eq. (4): x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise. */
export function addNoise(
  alphasCumprod: Float64Array,
  x0: Float32Array,
  noise: Float32Array,
  t: TrainTimestep,
): Float32Array {
  if (noise.length !== x0.length) {
    throw new RangeError(`noise length ${noise.length} does not match x0 length ${x0.length}; they must be equal`);
  }
  const a = alphasCumprod[t];
  if (a === undefined) {
    throw new RangeError(`train timestep ${t} is out of range; accepted: [0, ${alphasCumprod.length - 1}]`);
  }
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  const out = new Float32Array(x0.length);
  for (let i = 0; i < x0.length; i++) out[i] = sa * (x0[i] ?? 0) + sb * (noise[i] ?? 0);
  return out;
}

/**
 * x0 from the model output at a point with alpha_bar = alphaProd (diffusers step 2/3):
 * epsilon: x0 = (x - sigma eps) / alpha;  v_prediction: x0 = alpha x - sigma v;  sample: x0 = model output.
 * Returned in float64 so callers can clip and combine before rounding once.
 */
export function predictX0(
  predictionType: PredictionType,
  modelOutput: Float32Array,
  sample: Float32Array,
  alphaProd: number,
): Float64Array {
  checkLengths(modelOutput, sample);
  const n = sample.length;
  const out = new Float64Array(n);
  const alpha = Math.sqrt(alphaProd);
  const sigma = Math.sqrt(1 - alphaProd);
  if (predictionType === 'epsilon') {
    for (let i = 0; i < n; i++) out[i] = ((sample[i] ?? 0) - sigma * (modelOutput[i] ?? 0)) / alpha;
  } else if (predictionType === 'v_prediction') {
    for (let i = 0; i < n; i++) out[i] = alpha * (sample[i] ?? 0) - sigma * (modelOutput[i] ?? 0);
  } else if (predictionType === 'sample') {
    for (let i = 0; i < n; i++) out[i] = modelOutput[i] ?? 0;
  } else {
    throw new RangeError(
      `predictionType '${String(predictionType)}' is not supported; accepted: epsilon, v_prediction, sample`,
    );
  }
  return out;
}

/** Clamps in place; clipping x0 (not x_t) is what diffusers' clip_sample does. */
export function clipInPlace(x: Float64Array, range: number): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i] ?? 0;
    x[i] = v > range ? range : v < -range ? -range : v;
  }
}

export function resolveClip(opts: SamplerOptions): number | null {
  if (!opts.clipSample) return null;
  const r = opts.clipSampleRange ?? 1;
  if (!Number.isFinite(r) || r <= 0) {
    throw new RangeError(`clipSampleRange ${String(r)} is invalid; accepted: a finite number > 0`);
  }
  return r;
}

export function toFloat32(x: Float64Array): Float32Array {
  return Float32Array.from(x);
}
