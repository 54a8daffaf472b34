/**
 * DDIM sampler.
 *
 * Paper: Song, Meng & Ermon, "Denoising Diffusion Implicit Models", ICLR 2021, arXiv:2010.02502.
 * Eq. (12): the generalised reverse step; eq. (16): sigma_t(eta). Follows diffusers
 * src/diffusers/schedulers/scheduling_ddim.py (DDIMScheduler.step, set_alpha_to_one = true,
 * use_clipped_model_output = false).
 *
 * Notation (code -> paper, where the DDIM paper's alpha_t is DDPM's alpha_bar_t):
 *   alphaProd = alphasCumprod[t]         -> alpha_t
 *   alphaProdPrev                        -> alpha_{t-1} (the next timestep of the loop; 1 after the last step)
 *   predOriginalSample                   -> f_theta(x_t) / "predicted x_0"
 *   predEpsilon                          -> eps_theta(x_t)
 *   stdDevT                              -> sigma_t(eta) = eta sqrt((1-alpha_{t-1})/(1-alpha_t)) sqrt(1-alpha_t/alpha_{t-1})
 *   direction                            -> "direction pointing to x_t" = sqrt(1 - alpha_{t-1} - sigma_t^2) eps
 *
 * One difference from diffusers, on purpose: diffusers takes the previous timestep as t - T // N, which is
 * only the next grid point for "leading" spacing (and "trailing" when N divides T). We step to the next
 * timestep of the grid itself, so every spacing lands exactly where the loop evaluates the model next and
 * where inpainting re-noises the known region. For leading spacing the two are identical.
 */
import type { NoiseSource } from '../rng';
import type { LoopIndex, ScheduleConfig } from '../schedule';
import { SamplerBase } from './base';
import type { Sampler, SamplerOptions, StepOutput } from './common';
import { checkLengths, clipInPlace, predictX0, toFloat32 } from './common';

export class DDIMSampler extends SamplerBase implements Sampler {
  readonly eta: number;

  constructor(schedule: ScheduleConfig, opts: SamplerOptions) {
    super(schedule, opts);
    const eta = opts.eta ?? 0;
    // eta > 1 makes 1 - alpha_{t-1} - sigma_t^2 negative (a NaN direction term).
    if (!Number.isFinite(eta) || eta < 0 || eta > 1) {
      throw new RangeError(`eta ${String(eta)} is invalid; accepted: a number in [0, 1]`);
    }
    this.eta = eta;
  }

  step(modelOutput: Float32Array, loopIndex: LoopIndex, sample: Float32Array, rng: NoiseSource): StepOutput {
    checkLengths(modelOutput, sample);
    const { t, prevT } = this.positions(loopIndex);
    const alphaProd = this.alphaProd(t);
    const alphaProdPrev = this.alphaProd(prevT);
    const betaProd = 1 - alphaProd;
    const n = sample.length;

    const x0 = predictX0(this.config.predictionType, modelOutput, sample, alphaProd);
    // eps is derived from the unclipped x0, as in diffusers (use_clipped_model_output = false).
    const eps = new Float64Array(n);
    const sa = Math.sqrt(alphaProd);
    const sb = Math.sqrt(betaProd);
    const p = this.config.predictionType;
    for (let i = 0; i < n; i++) {
      const m = modelOutput[i] ?? 0;
      const x = sample[i] ?? 0;
      eps[i] = p === 'epsilon' ? m : p === 'v_prediction' ? sa * m + sb * x : (x - sa * (x0[i] ?? 0)) / sb;
    }
    if (this.clipRange !== null) clipInPlace(x0, this.clipRange);

    const variance = ((1 - alphaProdPrev) / betaProd) * (1 - alphaProd / alphaProdPrev);
    const stdDevT = this.eta * Math.sqrt(variance);
    // Rounding can leave 1 - alpha_{t-1} - sigma^2 at -1e-17 when eta = 1 on the last step.
    const dirCoeff = Math.sqrt(Math.max(0, 1 - alphaProdPrev - stdDevT * stdDevT));
    const x0Coeff = Math.sqrt(alphaProdPrev);

    let noise: Float32Array | null = null;
    if (this.eta > 0) {
      noise = new Float32Array(n);
      rng.fillGaussian(noise);
    }
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let v = x0Coeff * (x0[i] ?? 0) + dirCoeff * (eps[i] ?? 0);
      if (noise !== null) v += stdDevT * (noise[i] ?? 0);
      prev[i] = v;
    }
    return { prevSample: prev, predOriginalSample: toFloat32(x0) };
  }
}
