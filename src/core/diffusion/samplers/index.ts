/**
 * Sampler factory. The sampling loop (written once, in the worker) is:
 *
 *   const s = createSampler(name, opts); let x = initial noise (rng.fillGaussian)
 *   for i in 0..N-1: out = model(x, s.timesteps[i]); x = s.step(out, i, x, rng).prevSample
 *                    (inpainting: x = blendKnown(x, known, mask, s.alphasCumprod, s.timesteps[i+1] ?? null, noise))
 *
 * The model never lives inside a sampler; a sampler instance belongs to one job. DDPM, DDIM with eta > 0 and
 * consistency sampling draw noise from rng inside step(), after the model call.
 */
import type { ScheduleConfig } from '../schedule';
import { ConsistencySampler } from './consistency';
import { DDIMSampler } from './ddim';
import { DDPMSampler } from './ddpm';
import { DPMSolverMultistepSampler } from './dpmSolverMultistep';
import type { Sampler, SamplerOptions } from './common';

export type { Sampler, SamplerOptions, StepOutput } from './common';
export { addNoise, predictX0 } from './common';
export { ConsistencySampler } from './consistency';
export { DDIMSampler } from './ddim';
export { DDPMSampler } from './ddpm';
export { DPMSolverMultistepSampler } from './dpmSolverMultistep';

export type SamplerName = 'ddpm' | 'ddim' | 'dpmpp2m' | 'consistency';
/** 'consistency' is for distilled few-step students (manifest `distillation`); the others for any denoiser. */
export const SAMPLER_NAMES: readonly SamplerName[] = ['ddpm', 'ddim', 'dpmpp2m', 'consistency'];

export interface CreateSamplerOptions extends SamplerOptions {
  schedule: ScheduleConfig;
}

export function createSampler(name: SamplerName, opts: CreateSamplerOptions): Sampler {
  const { schedule, ...rest } = opts;
  switch (name) {
    case 'ddpm':
      return new DDPMSampler(schedule, rest);
    case 'ddim':
      return new DDIMSampler(schedule, rest);
    case 'dpmpp2m':
      return new DPMSolverMultistepSampler(schedule, rest);
    case 'consistency':
      return new ConsistencySampler(schedule, rest);
    default:
      throw new RangeError(`sampler '${String(name)}' is not supported; accepted: ${SAMPLER_NAMES.join(', ')}`);
  }
}
