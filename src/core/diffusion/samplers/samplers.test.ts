import { describe, expect, it } from 'vitest';
import type { NoiseSource } from '../rng';
import { Rng } from '../rng';
import type { LoopIndex, PredictionType, ScheduleConfig, TrainTimestep } from '../schedule';
import type { Sampler, SamplerName } from './index';
import { addNoise, createSampler } from './index';

const PREDICTIONS: PredictionType[] = ['epsilon', 'v_prediction', 'sample'];
const SAMPLERS: SamplerName[] = ['ddpm', 'ddim', 'dpmpp2m', 'consistency'];

function schedule(betaSchedule: ScheduleConfig['betaSchedule'], predictionType: PredictionType): ScheduleConfig {
  return { numTrainTimesteps: 1000, betaSchedule, betaStart: 0.0001, betaEnd: 0.02, predictionType };
}

function gaussian(n: number, seed: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  new Rng(seed).fillGaussian(a);
  return a.map((v) => Math.max(-1, Math.min(1, v * scale)));
}

/** The exact model output for the current sample x when the clean image is x0 (an oracle network). */
function oracle(p: PredictionType, x: Float32Array, x0: Float32Array, a: number): Float32Array {
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  return x.map((xi, i) => {
    const x0i = x0[i] ?? 0;
    const eps = (xi - sa * x0i) / sb;
    return p === 'epsilon' ? eps : p === 'v_prediction' ? sa * eps - sb * x0i : x0i;
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  return m;
}

const li = (i: number) => i as LoopIndex;

describe('oracle model output recovers x0', () => {
  const x0 = gaussian(64, 11, 0.5);
  const noise = gaussian(64, 12, 10); // clipped to [-1, 1]; any fixed noise works
  for (const betaSchedule of ['linear', 'squaredcos_cap_v2'] as const) {
    for (const p of PREDICTIONS) {
      for (const name of SAMPLERS) {
        it(`${name} ${p} ${betaSchedule}: predOriginalSample = x0 at every step, final sample = x0`, () => {
          const s = createSampler(name, { schedule: schedule(betaSchedule, p), numInferenceSteps: 10, timestepSpacing: 'trailing' });
          const rng = new Rng(5);
          let x = addNoise(s.alphasCumprod, x0, noise, s.timesteps[0] as TrainTimestep);
          s.timesteps.forEach((t, i) => {
            const a = s.alphasCumprod[t] ?? NaN;
            const out = s.step(oracle(p, x, x0, a), li(i), x, rng);
            // x0 = (x - sigma eps) / alpha amplifies float32 rounding by sigma / alpha (5e4 for cosine t=999)
            let xmax = 0;
            for (const v of x) xmax = Math.max(xmax, Math.abs(v));
            const tol = 1e-6 * (1 + xmax) * (1 + Math.sqrt((1 - a) / a));
            expect(maxAbsDiff(out.predOriginalSample, x0)).toBeLessThanOrEqual(tol);
            x = out.prevSample;
          });
          expect(maxAbsDiff(x, x0)).toBeLessThanOrEqual(1e-5);
        });
      }
    }
  }

  it('DDIM eta 0 and DPM++ 2M stay on q(x_t | x0, noise) at every grid timestep', () => {
    for (const name of ['ddim', 'dpmpp2m'] as const) {
      const s = createSampler(name, { schedule: schedule('linear', 'epsilon'), numInferenceSteps: 8, timestepSpacing: 'linspace' });
      let x = addNoise(s.alphasCumprod, x0, noise, s.timesteps[0] as TrainTimestep);
      for (let i = 0; i < s.timesteps.length - 1; i++) {
        const a = s.alphasCumprod[s.timesteps[i] ?? -1] ?? NaN;
        x = s.step(oracle('epsilon', x, x0, a), li(i), x, new Rng(0)).prevSample;
        const want = addNoise(s.alphasCumprod, x0, noise, s.timesteps[i + 1] as TrainTimestep);
        expect(maxAbsDiff(x, want)).toBeLessThan(5e-5);
      }
    }
  });

  it('DDIM after one step from any t returns x0 exactly as predOriginalSample (x0 prediction)', () => {
    for (const t0 of [999, 640, 37, 1]) {
      const s = createSampler('ddim', { schedule: schedule('squaredcos_cap_v2', 'sample'), numInferenceSteps: 1000, timestepSpacing: 'leading' });
      const i = s.timesteps.indexOf(t0 as TrainTimestep);
      const x = addNoise(s.alphasCumprod, x0, noise, t0 as TrainTimestep);
      expect(s.step(x0, li(i), x, new Rng(0)).predOriginalSample).toEqual(x0);
    }
  });
});

describe('noise and determinism', () => {
  const x0 = gaussian(64, 21, 0.5);
  const init = gaussian(64, 22, 1);
  function run(s: Sampler, seed: number): Float32Array {
    const rng = new Rng(seed);
    let x = init;
    s.timesteps.forEach((t, i) => {
      x = s.step(oracle('epsilon', x, x0, s.alphasCumprod[t] ?? NaN).map((v) => v * 0.9), li(i), x, rng).prevSample;
    });
    return x;
  }
  const opts = { schedule: schedule('linear', 'epsilon'), numInferenceSteps: 12, timestepSpacing: 'leading' } as const;

  it('same seed gives identical bytes; different seeds differ (DDPM, DDIM eta > 0)', () => {
    for (const [name, eta] of [['ddpm', 0], ['ddim', 0.8]] as const) {
      const a = run(createSampler(name, { ...opts, eta }), 1);
      const b = run(createSampler(name, { ...opts, eta }), 1);
      const c = run(createSampler(name, { ...opts, eta }), 2);
      expect(new Uint8Array(a.buffer)).toEqual(new Uint8Array(b.buffer));
      expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-3);
    }
  });

  it('DDIM eta 0 and DPM++ 2M never touch the rng', () => {
    const untouchable: NoiseSource = {
      fillGaussian() {
        throw new Error('noise drawn by a deterministic sampler');
      },
    };
    for (const name of ['ddim', 'dpmpp2m'] as const) {
      const s = createSampler(name, opts);
      let x = init;
      s.timesteps.forEach((_, i) => {
        x = s.step(x.map((v) => v * 0.5), li(i), x, untouchable).prevSample;
      });
    }
  });

  it('DDPM draws noise on every step but the last; DDIM eta > 0 on every step', () => {
    const counter = () => {
      let n = 0;
      return {
        get n() {
          return n;
        },
        fillGaussian(out: Float32Array) {
          n++;
          out.fill(0.5);
        },
      };
    };
    for (const [name, eta, want] of [['ddpm', 0, 11], ['ddim', 0.5, 12]] as const) {
      const s = createSampler(name, { ...opts, eta });
      const c = counter();
      let x = init;
      s.timesteps.forEach((_, i) => {
        x = s.step(x.map((v) => v * 0.5), li(i), x, c).prevSample;
      });
      expect(c.n).toBe(want);
    }
  });
});

describe('stochastic steps preserve the forward marginals q(x_t | x0)', () => {
  // DDPM's posterior (Ho et al. eq. 6-7) and DDIM for any eta (Song et al. Lemma 1 / eq. 7) map
  // x_t ~ N(sqrt(ab_t) x0, 1 - ab_t) to x_prev ~ N(sqrt(ab_prev) x0, 1 - ab_prev) when x0 is predicted exactly.
  const n = 50_000;
  const x0 = new Float32Array(n).map((_, i) => 0.8 * Math.sin(i * 0.01));
  const cases = [
    ['ddpm', 0],
    ['ddim', 0.5],
    ['ddim', 1],
  ] as const;
  for (const [name, eta] of cases) {
    it(`${name} eta=${eta}: standardised x_prev has mean ~0 and variance ~1 on every step`, () => {
      const s = createSampler(name, { schedule: schedule('squaredcos_cap_v2', 'sample'), numInferenceSteps: 6, timestepSpacing: 'trailing', eta });
      const rng = new Rng(99);
      for (let i = 0; i < s.timesteps.length - 1; i++) {
        const eps = new Float32Array(n);
        rng.fillGaussian(eps);
        const x = addNoise(s.alphasCumprod, x0, eps, s.timesteps[i] as TrainTimestep);
        const prev = s.step(x0, li(i), x, rng).prevSample;
        const ap = s.alphasCumprod[s.timesteps[i + 1] ?? -1] ?? NaN;
        let m = 0;
        let v = 0;
        for (let k = 0; k < n; k++) {
          const z = ((prev[k] ?? NaN) - Math.sqrt(ap) * (x0[k] ?? NaN)) / Math.sqrt(1 - ap);
          m += z;
          v += z * z;
        }
        m /= n;
        v = v / n - m * m;
        // 5 standard errors: mean 5/sqrt(n) = 0.022, variance 5 sqrt(2/n) = 0.032
        expect(Math.abs(m)).toBeLessThan(0.022);
        expect(Math.abs(v - 1)).toBeLessThan(0.032);
      }
    });
  }
});

describe('DDIM with eta = 1 is DDPM (Song et al. eq. 16)', () => {
  it('gives the same step as DDPM for the same model output, sample and noise, for every prediction type', () => {
    const fixedNoise = gaussian(64, 31);
    const given: NoiseSource = { fillGaussian: (out) => out.set(fixedNoise) };
    for (const p of PREDICTIONS) {
      const opts = { schedule: schedule('linear', p), numInferenceSteps: 7, timestepSpacing: 'linspace' } as const;
      const ddim = createSampler('ddim', { ...opts, eta: 1 });
      const ddpm = createSampler('ddpm', opts);
      const x = gaussian(64, 32);
      const out = gaussian(64, 33, 0.7);
      for (let i = 0; i < 6; i++) {
        const a = ddim.step(out, li(i), x, given).prevSample;
        const b = ddpm.step(out, li(i), x, given).prevSample;
        expect(maxAbsDiff(a, b)).toBeLessThan(2e-6);
      }
    }
  });
});

describe('clipping, validation and history', () => {
  it('clipSample bounds predOriginalSample to the range', () => {
    const s = createSampler('ddim', { schedule: schedule('linear', 'sample'), numInferenceSteps: 4, timestepSpacing: 'leading', clipSample: true, clipSampleRange: 0.5 });
    const out = s.step(new Float32Array([3, -3, 0.25]), li(0), new Float32Array(3), new Rng(0));
    expect(Array.from(out.predOriginalSample)).toEqual([0.5, -0.5, 0.25]);
  });

  it('DPM++ 2M rejects out-of-order steps and keeps history per instance', () => {
    const mk = () => createSampler('dpmpp2m', { schedule: schedule('linear', 'epsilon'), numInferenceSteps: 5, timestepSpacing: 'trailing' });
    const s = mk();
    const x = new Float32Array([0.3, -0.2]);
    expect(() => s.step(x, li(1), x, new Rng(0))).toThrow(/loop index 1 is out of order; accepted: 0/);
    // two instances fed the same inputs give the same result: no shared module-level history
    const a = mk();
    const b = mk();
    a.step(x, li(0), x, new Rng(0));
    const ra = a.step(x, li(1), x, new Rng(0)).prevSample;
    b.step(x, li(0), x, new Rng(0));
    expect(b.step(x, li(1), x, new Rng(0)).prevSample).toEqual(ra);
    // and the second step really uses the history (second order differs from a first-order restart)
    const c = mk();
    c.step(new Float32Array([1, 1]), li(0), x, new Rng(0));
    expect(c.step(x, li(1), x, new Rng(0)).prevSample).not.toEqual(ra);
  });

  it('rejects bad options and mismatched buffers with messages naming the value', () => {
    const base = { schedule: schedule('linear', 'epsilon'), numInferenceSteps: 10, timestepSpacing: 'leading' } as const;
    expect(() => createSampler('ddim', { ...base, eta: 1.5 })).toThrow(/eta 1.5 .*\[0, 1\]/);
    expect(() => createSampler('euler' as never, base)).toThrow(/'euler'.*ddpm, ddim, dpmpp2m/);
    expect(() => createSampler('ddim', { ...base, clipSample: true, clipSampleRange: 0 })).toThrow(/clipSampleRange 0/);
    const s = createSampler('ddim', base);
    expect(() => s.step(new Float32Array(3), li(0), new Float32Array(4), new Rng(0))).toThrow(/3 .* 4/);
    expect(() => s.step(new Float32Array(3), li(10), new Float32Array(3), new Rng(0))).toThrow(/loop index 10/);
  });
});
