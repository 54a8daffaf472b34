/**
 * DPM-Solver++(2M): second-order multistep solver of the diffusion ODE in data-prediction form.
 *
 * Paper: Lu, Zhou, Bao, Chen, Li & Zhu, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
 * Probabilistic Models", arXiv:2211.01095, Algorithm 2 (DPM-Solver++(2M)); its first step is the first-order
 * DPM-Solver++ update, which equals deterministic DDIM. The log-SNR time variable lambda comes from
 * DPM-Solver, Lu et al. 2022, arXiv:2206.00927, sec. 3.1. Follows diffusers
 * src/diffusers/schedulers/scheduling_dpmsolver_multistep.py with algorithm_type "dpmsolver++",
 * solver_order 2, solver_type "midpoint", lower_order_final true, final_sigmas_type "zero".
 *
 * Notation (code -> paper):
 *   alphaT, sigmaT       -> alpha_t = sqrt(alpha_bar_t), sigma_t = sqrt(1 - alpha_bar_t)
 *   lambda(t)            -> lambda_t = log(alpha_t / sigma_t), half the log-SNR
 *   h                    -> h_i = lambda_{t_i} - lambda_{t_{i-1}}
 *   r0                   -> r_i = h_{i-1} / h_i
 *   m0, m1               -> x_theta(x_{t_{i-1}}, t_{i-1}), x_theta(x_{t_{i-2}}, t_{i-2}) (the x0 history)
 *   D0, D1               -> D0 = m0, D1 = (m0 - m1) / r0; Algorithm 2's D_i = D0 + D1 / 2
 *   update               -> x_{t_i} = (sigma_{t_i} / sigma_{t_{i-1}}) x - alpha_{t_i} (e^{-h_i} - 1) D_i
 *
 * Order schedule with solver_order 2: step 0 is first order (no history yet); steps 1..N-2 are second order;
 * the last step goes to sigma = 0 (final_sigmas_type "zero"), where h is infinite and the first-order update
 * reduces exactly to x = D0, the current x0 prediction. (diffusers' lower_order_final only changes the order
 * of the last two steps for solver_order 3, so with order 2 it is this same schedule.)
 *
 * Differences from diffusers, both numerical: alpha_t and sigma_t are taken from float64 alpha_bar directly
 * rather than through float32 sigmas = sqrt((1 - alpha_bar) / alpha_bar); and e^{-h} - 1 is evaluated with
 * expm1, because h is small for long schedules and exp(-h) - 1 would cancel. The timestep grid is the shared
 * setTimesteps (DDIM's), not DPMSolverMultistepScheduler's own leading/linspace grids.
 *
 * The x0 history lives in the instance: one sampler per job, steps called in order.
 */
import type { NoiseSource } from '../rng';
import type { LoopIndex, TrainTimestep } from '../schedule';
import { SamplerBase } from './base';
import type { Sampler, StepOutput } from './common';
import { checkLengths, clipInPlace, predictX0, toFloat32 } from './common';

export class DPMSolverMultistepSampler extends SamplerBase implements Sampler {
  /** x0 prediction of the previous step (m1 in the notation above). */
  private prevX0: Float64Array | null = null;
  private stepsTaken = 0;

  private lambda(t: TrainTimestep): number {
    const a = this.alphaProd(t);
    return Math.log(Math.sqrt(a)) - Math.log(Math.sqrt(1 - a));
  }

  step(modelOutput: Float32Array, loopIndex: LoopIndex, sample: Float32Array, _rng: NoiseSource): StepOutput {
    checkLengths(modelOutput, sample);
    if (loopIndex !== this.stepsTaken) {
      throw new RangeError(
        `loop index ${loopIndex} is out of order; accepted: ${this.stepsTaken} (the multistep history requires steps 0..${this.numInferenceSteps - 1} in order, one sampler per job)`,
      );
    }
    const { t, prevT } = this.positions(loopIndex);
    const n = sample.length;
    const m0 = predictX0(this.config.predictionType, modelOutput, sample, this.alphaProd(t));
    if (this.clipRange !== null) clipInPlace(m0, this.clipRange);

    const prev = new Float32Array(n);
    if (prevT === null) {
      // sigma_next = 0: lambda_next = +inf, e^{-h} = 0, sigma_next / sigma_s = 0, so x_next = D0 exactly.
      prev.set(m0);
    } else {
      const aS = this.alphaProd(t);
      const aT = this.alphaProd(prevT);
      const alphaT = Math.sqrt(aT);
      const sigmaT = Math.sqrt(1 - aT);
      const sigmaS = Math.sqrt(1 - aS);
      const lambdaS0 = this.lambda(t);
      const h = this.lambda(prevT) - lambdaS0;
      const ratio = sigmaT / sigmaS;
      const phi = alphaT * Math.expm1(-h); // alpha_t (e^{-h} - 1), negative
      const m1 = this.prevX0;
      const prevLoopT = this.timesteps[loopIndex - 1];
      if (m1 === null || prevLoopT === undefined) {
        for (let i = 0; i < n; i++) prev[i] = ratio * (sample[i] ?? 0) - phi * (m0[i] ?? 0);
      } else {
        const h0 = lambdaS0 - this.lambda(prevLoopT);
        const r0 = h0 / h;
        for (let i = 0; i < n; i++) {
          const d0 = m0[i] ?? 0;
          const d1 = (1 / r0) * (d0 - (m1[i] ?? 0));
          prev[i] = ratio * (sample[i] ?? 0) - phi * d0 - 0.5 * phi * d1;
        }
      }
    }
    this.prevX0 = m0;
    this.stepsTaken++;
    return { prevSample: prev, predOriginalSample: toFloat32(m0) };
  }
}
