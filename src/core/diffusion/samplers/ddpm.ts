/**
 * DDPM ancestral sampler.
 *
 * Paper: Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020, arXiv:2006.11239.
 * Eq. (15): x0 from the predicted noise; eq. (6)-(7): the posterior q(x_{t-1} | x_t, x_0) with mean
 * mu~_t and variance beta~_t ("fixed_small"). On a sub-grid of timesteps the per-step beta is
 * 1 - alpha_bar_t / alpha_bar_prev (Nichol & Dhariwal 2021, arXiv:2102.09672, sec. 4). Follows diffusers
 * src/diffusers/schedulers/scheduling_ddpm.py (DDPMScheduler.step, variance_type "fixed_small").
 *
 * Notation (code -> paper):
 *   alphaProd / alphaProdPrev           -> alpha_bar_t / alpha_bar_{t-1} (t-1 = next grid timestep; 1 at the end)
 *   currentAlpha, currentBeta           -> alpha_t = alpha_bar_t / alpha_bar_{t-1}, beta_t = 1 - alpha_t
 *   x0Coeff, sampleCoeff                -> sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t),
 *                                          sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)   (eq. 7)
 *   variance                            -> beta~_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t    (eq. 7)
 *
 * Final step: diffusers adds noise whenever t > 0, and on the last step beta~ is 0, clamped to 1e-20
 * (std 1e-10, below float32 resolution of the image). We add no noise on the last step, so the output equals
 * the clean prediction and the random stream does not depend on the timestep spacing.
 */
import type { NoiseSource } from '../rng';
import type { LoopIndex } from '../schedule';
import { SamplerBase } from './base';
import type { Sampler, StepOutput } from './common';
import { checkLengths, clipInPlace, predictX0, toFloat32 } from './common';

export class DDPMSampler extends SamplerBase implements Sampler {
  step(modelOutput: Float32Array, loopIndex: LoopIndex, sample: Float32Array, rng: NoiseSource): StepOutput {
    checkLengths(modelOutput, sample);
    const { t, prevT } = this.positions(loopIndex);
    const alphaProd = this.alphaProd(t);
    const alphaProdPrev = this.alphaProd(prevT);
    const betaProd = 1 - alphaProd;
    const betaProdPrev = 1 - alphaProdPrev;
    const currentAlpha = alphaProd / alphaProdPrev;
    const currentBeta = 1 - currentAlpha;
    const n = sample.length;

    const x0 = predictX0(this.config.predictionType, modelOutput, sample, alphaProd);
    if (this.clipRange !== null) clipInPlace(x0, this.clipRange);

    const x0Coeff = (Math.sqrt(alphaProdPrev) * currentBeta) / betaProd;
    const sampleCoeff = (Math.sqrt(currentAlpha) * betaProdPrev) / betaProd;

    let noise: Float32Array | null = null;
    let std = 0;
    if (prevT !== null) {
      noise = new Float32Array(n);
      rng.fillGaussian(noise);
      std = Math.sqrt(Math.max((betaProdPrev / betaProd) * currentBeta, 1e-20));
    }
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let v = x0Coeff * (x0[i] ?? 0) + sampleCoeff * (sample[i] ?? 0);
      if (noise !== null) v += std * (noise[i] ?? 0);
      prev[i] = v;
    }
    return { prevSample: prev, predOriginalSample: toFloat32(x0) };
  }
}
