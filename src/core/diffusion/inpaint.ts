/**
 * Known-region blending for inpainting (RePaint's replacement step without resampling):
 * Lugmayr et al., "RePaint: Inpainting using Denoising Diffusion Probabilistic Models", CVPR 2022,
 * arXiv:2201.09865, eq. (8): x_{t-1} = m * x_{t-1}^known + (1 - m) * x_{t-1}^unknown, with
 * x_{t-1}^known ~ q(x_{t-1} | x_0) (eq. 4 of DDPM) and m = keepMask.
 *
 * How the loop uses it: after sampler.step at loop index i has produced the sample for timestep
 * timesteps[i + 1], call blendKnown with t = timesteps[i + 1] (the timestep of the *next* sample) and fresh
 * noise, so the known region is at the same noise level as the rest of the sample when the model sees it.
 * After the final step pass t = null: the known image is used exactly, so the output equals the known image
 * bit for bit wherever keepMask = 1.
 *
 * Notation (code -> paper): keepMask -> m, known -> x_0 (the known image), sample -> x_{t-1}^unknown,
 * alphasCumprod[t] -> alpha_bar_t.
 */
import type { TrainTimestep } from './schedule';

export function blendKnown(
  sample: Float32Array,
  known: Float32Array,
  keepMask: Float32Array,
  alphasCumprod: Float64Array,
  t: TrainTimestep | null,
  noise: Float32Array | null,
): Float32Array {
  const n = sample.length;
  if (known.length !== n || keepMask.length !== n) {
    throw new RangeError(
      `sample, known and keepMask lengths must be equal; got ${n}, ${known.length}, ${keepMask.length}`,
    );
  }
  let sa = 1;
  let sb = 0;
  if (t !== null) {
    const a = alphasCumprod[t];
    if (a === undefined) {
      throw new RangeError(`train timestep ${t} is out of range; accepted: [0, ${alphasCumprod.length - 1}] or null`);
    }
    if (noise === null || noise.length !== n) {
      throw new RangeError(`noise of length ${n} is required when t is not null; got ${noise === null ? 'null' : noise.length}`);
    }
    sa = Math.sqrt(a);
    sb = Math.sqrt(1 - a);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const m = keepMask[i] ?? 0;
    if (!(m >= 0 && m <= 1)) {
      throw new RangeError(`keepMask[${i}] = ${m} is invalid; accepted: numbers in [0, 1]`);
    }
    const s = sample[i] ?? 0;
    if (m === 0) {
      out[i] = s;
      continue;
    }
    const k = t === null ? (known[i] ?? 0) : sa * (known[i] ?? 0) + sb * (noise?.[i] ?? 0);
    // m = 1 takes the known value as is (no 1*k + 0*s rounding); soft masks blend linearly.
    out[i] = m === 1 ? k : m * k + (1 - m) * s;
  }
  return out;
}
