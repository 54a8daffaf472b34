import { describe, expect, it } from 'vitest';
import type { ScheduleConfig, TimestepSpacing } from './schedule';
import { makeAlphasCumprod, makeBetas, setTimesteps } from './schedule';

const linear: ScheduleConfig = {
  numTrainTimesteps: 1000,
  betaSchedule: 'linear',
  betaStart: 0.0001,
  betaEnd: 0.02,
  predictionType: 'epsilon',
};
const cosine: ScheduleConfig = { ...linear, betaSchedule: 'squaredcos_cap_v2' };
const SPACINGS: TimestepSpacing[] = ['leading', 'trailing', 'linspace'];

describe('makeBetas / makeAlphasCumprod', () => {
  it('linear: known answers computed by hand', () => {
    const b = makeBetas(linear);
    const ac = makeAlphasCumprod(linear);
    expect(b[0]).toBe(0.0001);
    expect(b[999]).toBe(0.02);
    expect(b[1]).toBeCloseTo(0.0001 + 0.0199 / 999, 17);
    expect(ac[0]).toBe(1 - 0.0001);
    expect(ac[1]).toBeCloseTo(0.9999 * (1 - (0.0001 + 0.0199 / 999)), 15);
    // alpha_bar_{T-1} = prod (1 - beta_i) ~ exp(-sum beta) * correction: 4.035e-5 for the DDPM schedule
    expect(ac[999]).toBeGreaterThan(4.0e-5);
    expect(ac[999]).toBeLessThan(4.1e-5);
  });

  it('cosine: alpha_bar_t = f(t+1)/f(0) until the 0.999 cap, last beta capped', () => {
    const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    const ac = makeAlphasCumprod(cosine);
    const b = makeBetas(cosine);
    for (const t of [0, 1, 100, 500, 900]) {
      expect(Math.abs((ac[t] ?? NaN) / (f((t + 1) / 1000) / f(0)) - 1)).toBeLessThan(1e-12);
    }
    expect(b[999]).toBe(0.999);
    expect(b[998]).toBeLessThan(0.999);
  });

  it('works for any T >= 2 and is strictly decreasing in (0, 1)', () => {
    for (const cfg of [linear, cosine]) {
      for (const T of [2, 3, 37, 1000, 4000]) {
        const ac = makeAlphasCumprod({ ...cfg, numTrainTimesteps: T });
        expect(ac.length).toBe(T);
        for (let i = 0; i < T; i++) {
          expect(ac[i]).toBeGreaterThan(0);
          expect(ac[i]).toBeLessThan(1);
          if (i > 0) expect(ac[i]).toBeLessThan(ac[i - 1] ?? NaN);
        }
      }
    }
  });

  it('rejects bad configs, naming the value and the accepted ones', () => {
    expect(() => makeBetas({ ...linear, numTrainTimesteps: 1 })).toThrow(/numTrainTimesteps 1 .*>= 2/);
    expect(() => makeBetas({ ...linear, betaSchedule: 'scaled_linear' as never })).toThrow(
      /'scaled_linear'.*linear, squaredcos_cap_v2/,
    );
    expect(() => makeBetas({ ...linear, predictionType: 'x0' as never })).toThrow(/'x0'.*epsilon, v_prediction, sample/);
    expect(() => makeBetas({ ...linear, betaEnd: 1.5 })).toThrow(/betaEnd 1.5/);
  });
});

describe('setTimesteps', () => {
  it('matches diffusers DDIMScheduler for T=1000, N=10', () => {
    expect(setTimesteps(1000, 10, 'leading')).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect(setTimesteps(1000, 10, 'trailing')).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    expect(setTimesteps(1000, 10, 'linspace')).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
  });

  it('rounds half to even like numpy', () => {
    // trailing T=5, N=2: arange(5, 0, -2.5) = [5, 2.5] -> round [5, 2] -> minus 1
    expect(setTimesteps(5, 2, 'trailing')).toEqual([4, 1]);
    // linspace T=6, N=3: [0, 2.5, 5] -> [0, 2, 5]
    expect(setTimesteps(6, 3, 'linspace')).toEqual([5, 2, 0]);
  });

  it('keeps exactly N values where numpy arange would return N+1 (diffusers ends on -1 there)', () => {
    const ts = setTimesteps(1000, 61, 'trailing');
    expect(ts.length).toBe(61);
    expect(ts[60]).toBe(15);
  });

  it('is strictly descending, in [0, T-1] and of length N for every (T, N), including N = T', () => {
    const cases: [number, number][] = [];
    for (let T = 2; T <= 64; T++) for (let N = 1; N <= T; N++) cases.push([T, N]);
    for (let N = 1; N <= 1000; N++) cases.push([1000, N]);
    for (const [T, N] of cases) {
      for (const sp of SPACINGS) {
        const ts = setTimesteps(T, N, sp);
        expect(ts.length).toBe(N);
        let ok = (ts[0] ?? -1) <= T - 1 && (ts[N - 1] ?? -1) >= 0;
        for (let i = 1; i < N; i++) ok &&= (ts[i] ?? Infinity) < (ts[i - 1] ?? -Infinity);
        if (!ok) throw new Error(`bad grid for T=${T} N=${N} ${sp}: ${ts.join(',')}`);
      }
    }
    expect(setTimesteps(1000, 1000, 'trailing')[999]).toBe(0);
    expect(setTimesteps(1000, 1000, 'linspace')[0]).toBe(999);
  });

  it('rejects bad values, naming them and the accepted ones', () => {
    expect(() => setTimesteps(1000, 0, 'leading')).toThrow(/numInferenceSteps 0 .*\[1, 1000\]/);
    expect(() => setTimesteps(1000, 1001, 'leading')).toThrow(/numInferenceSteps 1001/);
    expect(() => setTimesteps(1000, 2.5, 'leading')).toThrow(/2.5/);
    expect(() => setTimesteps(1000, 10, 'karras' as never)).toThrow(/'karras'.*leading, trailing, linspace/);
  });
});
