/**
 * Multistep consistency sampling: the sampler of a distilled few-step student.
 *
 * Paper: Song, Dhariwal, Chen & Sutskever, "Consistency Models", ICML 2023, arXiv:2303.01469, Algorithm 1
 * (multistep consistency sampling). The network is trained (training/distill.py) so that its x0 prediction at
 * any x_t is where the teacher's guided ODE solver ends from that x_t (the paper's f_theta(x_t, t), eq. (5)),
 * so one call already gives a finished window; further steps put that window back at a lower noise level with
 * fresh noise and let the network finish it again, which corrects the one-call estimate.
 *
 * Notation (code -> paper, with the paper's sigma-parameterised x_t = x + sigma z written in this project's
 * variance-preserving form x_t = alpha_t x0 + sigma_t z):
 *   predOriginalSample = predictX0(modelOutput)  -> f_theta(x_{tau_n}, tau_n)
 *   alphaProdPrev (next grid timestep)           -> alpha_bar at tau_{n+1}
 *   prevSample = sqrt(alphaProdPrev) x0 + sqrt(1 - alphaProdPrev) z,  z ~ N(0, I) from the job's rng
 *                                                -> x_{tau_{n+1}} = x + sqrt(tau_{n+1}^2 - eps^2) z
 *   after the last grid point                    -> prevSample = x0 (no noise is drawn)
 *
 * Differences from the paper, on purpose: the grid is this project's timestep grid (setTimesteps, "trailing"
 * spacing starts at t = T - 1 where the sample is pure noise), not a hand-picked sigma list; and the noise
 * comes from the job's seeded Rng, drawn after the model call, so the same seed gives the same bytes.
 */
import type { NoiseSource } from '../rng';
import type { LoopIndex } from '../schedule';
import { SamplerBase } from './base';
import type { Sampler, StepOutput } from './common';
import { checkLengths, clipInPlace, predictX0, toFloat32 } from './common';

export class ConsistencySampler extends SamplerBase implements Sampler {
  step(modelOutput: Float32Array, loopIndex: LoopIndex, sample: Float32Array, rng: NoiseSource): StepOutput {
    checkLengths(modelOutput, sample);
    const { t, prevT } = this.positions(loopIndex);
    const x0 = predictX0(this.config.predictionType, modelOutput, sample, this.alphaProd(t));
    if (this.clipRange !== null) clipInPlace(x0, this.clipRange);
    const n = sample.length;
    if (prevT === null) return { prevSample: toFloat32(x0), predOriginalSample: toFloat32(x0) };
    const alphaProdPrev = this.alphaProd(prevT);
    const sa = Math.sqrt(alphaProdPrev);
    const sb = Math.sqrt(1 - alphaProdPrev);
    const noise = new Float32Array(n);
    rng.fillGaussian(noise);
    const prev = new Float32Array(n);
    for (let i = 0; i < n; i++) prev[i] = sa * (x0[i] ?? 0) + sb * (noise[i] ?? 0);
    return { prevSample: prev, predOriginalSample: toFloat32(x0) };
  }
}
