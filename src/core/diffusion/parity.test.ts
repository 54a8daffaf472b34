/**
 * Cross-language parity: the TypeScript core against training/reference/sampler_reference.json, which
 * training/make_reference.py writes from the training code (ddstudio.diffusion, ddstudio.samplers).
 * training/tests/test_reference.py fails when that file is stale, so training and browser cannot drift.
 *
 * Tolerances:
 * - schedules: alphas_cumprod 1e-12 relative. Both sides evaluate the same float64 expressions; only Math.cos
 *   vs the C library's cos (cosine schedule) may differ by an ulp, ~1e-16 per factor, summed over <= 1000
 *   factors by cumprod (observed: 7e-16). betas get 1e-12 relative plus 4e-16 absolute: beta = 1 - ratio is a
 *   difference from 1, so its absolute error is ~ulp(1) whatever its size, and the small early cosine betas
 *   (~1e-5) would turn one ulp into 1e-11 relative (observed: 3.7e-13).
 *   Linear schedules are bit-identical.
 * - timesteps: exact (integers).
 * - trajectories: 1e-5 absolute on float32 values of magnitude <= ~3. Both sides do the same float64
 *   arithmetic and round to float32 at the same points, so values are bit-identical today; the budget
 *   covers ulp-level differences between V8's and the C library's exp/log/sin/cos that can flip a float32
 *   rounding (one float32 ulp at magnitude 3 is 2.4e-7) and its propagation through <= 8 steps. A real
 *   formula difference (wrong coefficient, off-by-one timestep, missing clip) shows up at 1e-3 or more.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { combineGuidance, guidanceApplies } from './guidance';
import { blendKnown } from './inpaint';
import type { NoiseSource } from './rng';
import type { BetaSchedule, LoopIndex, PredictionType, ScheduleConfig, TimestepSpacing } from './schedule';
import { makeAlphasCumprod, makeBetas, setTimesteps } from './schedule';
import type { SamplerName } from './samplers';
import { createSampler } from './samplers';

interface PyScheduleConfig {
  num_train_timesteps: number;
  beta_schedule: BetaSchedule;
  beta_start: number;
  beta_end: number;
  prediction_type: PredictionType;
}
interface Reference {
  format_version: number;
  shape: number[];
  x_T: number[];
  schedules: { name: string; config: PyScheduleConfig; betas: number[]; alphas_cumprod: number[] }[];
  timesteps: { num_train_timesteps: number; num_inference_steps: number; timestep_spacing: TimestepSpacing; timesteps: number[] }[];
  runs: {
    name: string;
    sampler: SamplerName;
    schedule: PyScheduleConfig;
    num_inference_steps: number;
    timestep_spacing: TimestepSpacing;
    eta: number;
    clip_sample: boolean;
    clip_sample_range: number;
    guidance_scale: number | null;
    guidance_interval: [number, number] | null;
    inpaint: { known: number[]; keep_mask: number[] } | null;
    timesteps: number[];
    noise: number[][];
    samples: number[][];
    pred_original_samples: number[][];
  }[];
}

const here = dirname(fileURLToPath(import.meta.url));
const ref = JSON.parse(
  readFileSync(resolve(here, '../../../training/reference/sampler_reference.json'), 'utf8'),
) as Reference;

const toTs = (c: PyScheduleConfig): ScheduleConfig => ({
  numTrainTimesteps: c.num_train_timesteps,
  betaSchedule: c.beta_schedule,
  betaStart: c.beta_start,
  betaEnd: c.beta_end,
  predictionType: c.prediction_type,
});

/** The fake network of make_reference.fake_model, transcribed expression for expression. */
function fakeModel(x: Float32Array, t: number, a: number, p: PredictionType, phase: number): Float32Array {
  const c = Math.cos(t / 300);
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] ?? 0;
    const x0hat = 0.7 * Math.sin(0.37 * i + phase) + 0.4 * xi * c;
    const eps = (xi - sa * x0hat) / sb;
    out[i] = p === 'epsilon' ? eps : p === 'v_prediction' ? sa * eps - sb * x0hat : x0hat;
  }
  return out;
}

/** Replays the noise Python drew, in the same order, instead of a TS Rng. */
class GivenNoise implements NoiseSource {
  used = 0;
  constructor(private readonly arrays: number[][]) {}
  fillGaussian(out: Float32Array): void {
    const a = this.arrays[this.used++];
    if (a === undefined || a.length !== out.length) throw new Error(`recorded noise ${this.used - 1} missing or mis-sized`);
    out.set(a);
  }
}

/** Largest |got - want| / (|want| + floor / 1e-12): <= 1e-12 means within 1e-12 relative + floor absolute. */
function maxRelDiff(got: Float64Array, want: number[], absFloor = 0): number {
  let m = 0;
  want.forEach((w, i) => {
    m = Math.max(m, Math.abs((got[i] ?? NaN) - w) / (Math.abs(w) + absFloor / 1e-12));
  });
  return m;
}

function maxAbsDiff(got: Float32Array, want: number[]): number {
  let m = 0;
  want.forEach((w, i) => {
    m = Math.max(m, Math.abs((got[i] ?? NaN) - w));
  });
  return m;
}

describe('parity with training/reference/sampler_reference.json', () => {
  it('is the format this test understands', () => {
    expect(ref.format_version).toBe(1);
    expect(ref.shape).toEqual([1, 1, 8, 8]);
    expect(ref.runs.length).toBeGreaterThanOrEqual(15);
  });

  for (const s of ref.schedules) {
    it(`schedule ${s.name}: alphas_cumprod within 1e-12 relative, betas within 1e-12 relative + 4e-16`, () => {
      const cfg = toTs(s.config);
      expect(makeBetas(cfg).length).toBe(s.betas.length);
      expect(maxRelDiff(makeBetas(cfg), s.betas, 4e-16)).toBeLessThanOrEqual(1e-12);
      expect(maxRelDiff(makeAlphasCumprod(cfg), s.alphas_cumprod)).toBeLessThanOrEqual(1e-12);
    });
  }

  it('timestep grids match exactly', () => {
    expect(ref.timesteps.length).toBeGreaterThan(30);
    for (const c of ref.timesteps) {
      expect(setTimesteps(c.num_train_timesteps, c.num_inference_steps, c.timestep_spacing), JSON.stringify(c)).toEqual(c.timesteps);
    }
  });

  for (const run of ref.runs) {
    it(`run ${run.name}: every step within 1e-5 absolute`, () => {
      const p = run.schedule.prediction_type;
      const sampler = createSampler(run.sampler, {
        schedule: toTs(run.schedule),
        numInferenceSteps: run.num_inference_steps,
        timestepSpacing: run.timestep_spacing,
        eta: run.eta,
        clipSample: run.clip_sample,
        clipSampleRange: run.clip_sample_range,
      });
      expect(sampler.timesteps).toEqual(run.timesteps);
      const noise = new GivenNoise(run.noise);
      const known = run.inpaint ? Float32Array.from(run.inpaint.known) : null;
      const mask = run.inpaint ? Float32Array.from(run.inpaint.keep_mask) : null;
      let x: Float32Array = Float32Array.from(ref.x_T);
      sampler.timesteps.forEach((t, i) => {
        const a = sampler.alphasCumprod[t] ?? NaN;
        let modelOutput: Float32Array;
        if (run.guidance_scale === null || !guidanceApplies(a, run.guidance_interval ?? undefined)) {
          modelOutput = fakeModel(x, t, a, p, 0);
        } else {
          const both = new Float32Array(2 * x.length);
          both.set(fakeModel(x, t, a, p, 0));
          both.set(fakeModel(x, t, a, p, 1), x.length);
          modelOutput = combineGuidance(both, 1, run.guidance_scale);
        }
        const out = sampler.step(modelOutput, i as LoopIndex, x, noise);
        x = out.prevSample;
        if (known && mask) {
          const next = sampler.timesteps[i + 1] ?? null;
          let n: Float32Array | null = null;
          if (next !== null) {
            n = new Float32Array(x.length);
            noise.fillGaussian(n);
          }
          x = blendKnown(x, known, mask, sampler.alphasCumprod, next, n);
        }
        const wantX = run.samples[i] ?? [];
        const wantX0 = run.pred_original_samples[i] ?? [];
        expect(wantX.length).toBe(64);
        expect(maxAbsDiff(x, wantX), `sample after step ${i}`).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(out.predOriginalSample, wantX0), `pred x0 at step ${i}`).toBeLessThanOrEqual(1e-5);
      });
      expect(noise.used).toBe(run.noise.length);
      if (known && mask) {
        for (let i = 0; i < x.length; i++) if (mask[i] === 1) expect(x[i]).toBe(known[i]);
      }
    });
  }
});
