import { describe, expect, it } from 'vitest';
import { blendKnown } from './inpaint';
import { Rng } from './rng';
import type { TrainTimestep } from './schedule';
import { makeAlphasCumprod } from './schedule';

const ac = makeAlphasCumprod({
  numTrainTimesteps: 1000,
  betaSchedule: 'squaredcos_cap_v2',
  betaStart: 0.0001,
  betaEnd: 0.02,
  predictionType: 'v_prediction',
});

function gaussian(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  new Rng(seed).fillGaussian(a);
  return a;
}

describe('blendKnown', () => {
  const n = 256;
  const sample = gaussian(n, 1);
  const known = gaussian(n, 2);
  const noise = gaussian(n, 3);
  const mask = new Float32Array(n).map((_, i) => (i % 4 === 0 ? 1 : 0));

  it('with t = null equals known exactly where keep = 1 and sample elsewhere', () => {
    const out = blendKnown(sample, known, mask, ac, null, null);
    for (let i = 0; i < n; i++) {
      expect(Object.is(out[i], mask[i] === 1 ? known[i] : sample[i])).toBe(true);
    }
  });

  it('with a timestep re-noises the known image: sqrt(ab) known + sqrt(1 - ab) noise', () => {
    const t = 500 as TrainTimestep;
    const a = ac[500] ?? NaN;
    const out = blendKnown(sample, known, mask, ac, t, noise);
    for (let i = 0; i < n; i++) {
      const want = mask[i] === 1 ? Math.fround(Math.sqrt(a) * (known[i] ?? 0) + Math.sqrt(1 - a) * (noise[i] ?? 0)) : sample[i];
      expect(out[i]).toBe(want);
    }
  });

  it('blends soft mask values linearly', () => {
    const half = new Float32Array(n).fill(0.5);
    const out = blendKnown(sample, known, half, ac, null, null);
    expect(out[7]).toBe(Math.fround(0.5 * (known[7] ?? 0) + 0.5 * (sample[7] ?? 0)));
  });

  it('requires noise when t is given and rejects masks outside [0, 1]', () => {
    expect(() => blendKnown(sample, known, mask, ac, 10 as TrainTimestep, null)).toThrow(/noise/);
    const bad = mask.slice();
    bad[3] = 2;
    expect(() => blendKnown(sample, known, bad, ac, null, null)).toThrow(/keepMask\[3\] = 2/);
  });
});
