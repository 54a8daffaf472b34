import { describe, expect, it } from 'vitest';
import { Rng } from '../diffusion/rng';
import { classStats, kid, meanPairwiseDistance, mmd2Unbiased, nearestDistances, outlierScore, outlierThreshold, percentile, polyKernel } from './kid';

const rows = (a: number[][]) => a.map((r) => Float32Array.from(r));
const f64rows = (a: number[][]) => a.map((r) => Float64Array.from(r));

function gaussianSet(rng: Rng, n: number, d: number, shift = 0): Float32Array[] {
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, () => shift + rng.gaussian()));
}

/** Direct O(n^2) unbiased MMD^2 from the full kernel matrices, written independently of the module. */
function directMmd(x: Float64Array[], y: Float64Array[]): number {
  const k = (a: Float64Array, b: Float64Array) => (a.reduce((s, v, i) => s + v * (b[i] as number), 0) / a.length + 1) ** 3;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < x.length; j++) if (i !== j) sxx += k(x[i]!, x[j]!);
  let syy = 0;
  for (let i = 0; i < y.length; i++) for (let j = 0; j < y.length; j++) if (i !== j) syy += k(y[i]!, y[j]!);
  let sxy = 0;
  for (const a of x) for (const b of y) sxy += k(a, b);
  return sxx / (x.length * (x.length - 1)) + syy / (y.length * (y.length - 1)) - (2 * sxy) / (x.length * y.length);
}

// Fixed inputs shared with the Python cross-check below.
const X = [
  [0.1, 0.5, 1.2],
  [0.0, 0.3, 0.9],
  [0.7, 0.2, 0.4],
  [1.1, 0.0, 0.6],
  [0.4, 0.8, 0.2],
];
const Y = [
  [0.9, 1.4, 0.1],
  [1.5, 0.2, 0.3],
  [0.2, 1.1, 1.3],
  [0.8, 0.9, 0.7],
  [1.2, 1.0, 0.0],
];

describe('KID', () => {
  it('hand-checked tiny case: x = {0, 1}, y = {0, 2} in 1-d', () => {
    // k(a,b) = (ab + 1)^3. xx off-diagonal: k(0,1) = 1; yy: k(0,2) = 1;
    // xy: k(0,0) + k(0,2) + k(1,0) + k(1,2) = 1 + 1 + 1 + 27 = 30 -> mean 7.5. MMD^2 = 1 + 1 - 2 * 7.5 = -13.
    expect(polyKernel(Float64Array.of(1), Float64Array.of(2))).toBe(27);
    expect(mmd2Unbiased(f64rows([[0], [1]]), f64rows([[0], [2]]))).toBeCloseTo(-13, 12);
    const r = kid(f64rows([[0], [1]]), f64rows([[0], [2]]));
    expect(r.mean).toBeCloseTo(-13, 12);
    expect(r.std).toBeCloseTo(0, 12);
    expect(r.subsetSize).toBe(2);
    expect(r.subsets).toBe(50);
  });

  it('equals a direct O(n^2) computation; with m = both set sizes every subset is the whole set', () => {
    const rng = new Rng(3);
    const x = gaussianSet(rng, 7, 4);
    const y = gaussianSet(rng, 7, 4, 0.5);
    const direct = directMmd(x.map((r) => Float64Array.from(r)), y.map((r) => Float64Array.from(r)));
    expect(mmd2Unbiased(x, y)).toBeCloseTo(direct, 10);
    const r = kid(x, y, { subsets: 10, subsetSize: 100, seed: 5 });
    expect(r.subsetSize).toBe(7);
    expect(r.mean).toBeCloseTo(direct, 10);
    expect(r.std).toBeLessThan(1e-10);
    // Subsets smaller than the sets: the mean is over genuinely different subsets, each a direct MMD^2.
    const s = kid(x, y, { subsets: 20, subsetSize: 4, seed: 5 });
    expect(s.subsetSize).toBe(4);
    expect(s.std).toBeGreaterThan(0);
    expect(kid(x, y, { subsets: 20, subsetSize: 4, seed: 5 })).toEqual(s); // seeded: reproducible
    expect(kid(x, y, { subsets: 20, subsetSize: 4, seed: 6 }).mean).not.toBe(s.mean);
  });

  it('a far-shifted set scores much higher than another sample of the same distribution', () => {
    const rng = new Rng(11);
    const x = gaussianSet(rng, 60, 16);
    const same = gaussianSet(rng, 60, 16);
    const far = gaussianSet(rng, 60, 16, 3);
    const kSame = kid(x, same, { subsets: 20, subsetSize: 30 });
    const kFar = kid(x, far, { subsets: 20, subsetSize: 30 });
    expect(Math.abs(kSame.mean)).toBeLessThan(0.5);
    expect(kFar.mean).toBeGreaterThan(50 * Math.max(Math.abs(kSame.mean), 0.01));
    expect(kFar.mean).toBeGreaterThan(kSame.mean + 10 * (kFar.std + kSame.std));
  });

  it('matches training/ddstudio/metrics.py on the same input', () => {
    // Regenerate: cd training && /usr/bin/python3 -c "import numpy as np; from ddstudio.metrics import kid, mmd2_unbiased,
    //   mean_pairwise_distance, nn_distances; x = np.array(X); y = np.array(Y); print(kid(x, y), mmd2_unbiased(x, y),
    //   mean_pairwise_distance(x), nn_distances(y, x).tolist())"   (X, Y as above)
    // Python printed: (0.8551580651851848, 9.082140078317007e-16, 5) 0.8551580651851847 0.9092703124540223
    //   [0.7874007874011809, 0.5385164807134505, 0.6164414002968983, 0.6480740698407863, 0.8485281374238571]
    // Inputs go in as float64 here (Python's are float64); m = 5 = both sizes, so the subsets do not matter.
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    const k = kid(f64rows(X), f64rows(Y));
    expect(k.subsetSize).toBe(5);
    expect(rel(k.mean, 0.8551580651851848)).toBeLessThan(1e-12);
    expect(k.std).toBeLessThan(1e-12);
    expect(rel(mmd2Unbiased(f64rows(X), f64rows(Y)), 0.8551580651851847)).toBeLessThan(1e-12);
    expect(rel(meanPairwiseDistance(f64rows(X)), 0.9092703124540223)).toBeLessThan(1e-12);
    const nn = nearestDistances(f64rows(Y), f64rows(X));
    [0.7874007874011809, 0.5385164807134505, 0.6164414002968983, 0.6480740698407863, 0.8485281374238571].forEach((v, i) =>
      expect(rel(nn[i]!, v)).toBeLessThan(1e-12),
    );
    // float32 inputs agree to float32 rounding of the inputs
    expect(rel(kid(rows(X), rows(Y)).mean, 0.8551580651851848)).toBeLessThan(1e-6);
  });

  it('rejects sets too small for the unbiased estimator', () => {
    expect(() => kid(rows([[1, 2]]), rows([[1, 2], [3, 4]]))).toThrow(/at least 2/);
  });
});

describe('distances and outliers', () => {
  it('mean pairwise distance and nearest distances on known points', () => {
    // 3-4-5 triangle: pairs 3, 4, 5 -> mean 4
    expect(meanPairwiseDistance(rows([[0, 0], [3, 0], [0, 4]]))).toBeCloseTo(4, 12);
    expect(meanPairwiseDistance(rows([[1, 1]]))).toBeNaN();
    const d = nearestDistances(rows([[0, 0], [10, 10]]), rows([[3, 4], [10, 11]]));
    expect(Array.from(d)).toEqual([5, 1]);
  });

  it('outlier score: ~1 for samples of the class, large far away; percentile is numpy-linear', () => {
    const rng = new Rng(2);
    const ref = gaussianSet(rng, 200, 8);
    const st = classStats(ref);
    const inClass = gaussianSet(rng, 50, 8).map((f) => outlierScore(f, st));
    expect(inClass.reduce((a, b) => a + b) / inClass.length).toBeGreaterThan(0.8);
    expect(inClass.reduce((a, b) => a + b) / inClass.length).toBeLessThan(1.2);
    const thr = outlierThreshold(ref, st);
    expect(outlierScore(Float32Array.from({ length: 8 }, () => 6), st)).toBeGreaterThan(thr);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([5, 1, 3], 0)).toBe(1);
    expect(percentile([0, 10], 1)).toBeCloseTo(0.1, 12);
    // a dimension constant in the class does not blow the score up (std floor)
    const flat = ref.map((r) => Float32Array.from([...r, 0]));
    expect(outlierScore(Float32Array.from([...(ref[0] as Float32Array), 0.01]), classStats(flat))).toBeLessThan(5);
  });
});

