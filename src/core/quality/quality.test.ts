import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../diffusion/rng';
import {
  base64ToBytes,
  classStats,
  downstreamCheck,
  f1PerClass,
  kid,
  macroF1,
  meanPairwiseDistance,
  memorisationThreshold,
  mmd2Unbiased,
  nearestDistances,
  outlierScore,
  outlierThreshold,
  parseReferenceFeatures,
  percentile,
  polyKernel,
  trainSoftmax,
  argmax,
} from './quality';

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

describe('reference features and memorisation', () => {
  const json = JSON.parse(readFileSync('public/models/magtile-classifier-64/reference_features.json', 'utf8'));
  const ref = parseReferenceFeatures(json);

  it('decodes base64 little-endian float32', () => {
    expect(Array.from(base64ToBytes('AAAAAAAAgD8='))).toEqual([0, 0, 0, 0, 0, 0, 0x80, 0x3f]);
    expect(ref.featureDim).toBe(64);
    expect(Object.keys(ref.classes)).toEqual(['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Free']);
    const crack = ref.classes['Crack']!;
    expect(crack.features).toHaveLength(100);
    // the stored per-class mean (6 decimals) equals the mean of the decoded rows
    const mean = classStats(crack.features).mean;
    (json.classes.Crack.mean as number[]).forEach((m, k) => expect(mean[k]).toBeCloseTo(m, 5));
  });

  it('thresholds are the smaller real-vs-real p1 per class', () => {
    const t = memorisationThreshold(ref);
    const nn = json.nearestNeighbour.perClass;
    expect(t['Break']!.threshold).toBe(nn.Break.trainLeaveGroupOut.p1); // no valToTrain for Break
    expect(t['Crack']!.threshold).toBe(Math.min(nn.Crack.trainLeaveGroupOut.p1, nn.Crack.valToTrain.p1));
    for (const v of Object.values(t)) expect(v.threshold).toBeGreaterThan(0);
  });

  it('planted copies of reference features have distance 0 and fall under the threshold; fresh samples do not', () => {
    const t = memorisationThreshold(ref);
    for (const name of Object.keys(ref.classes)) {
      const feats = ref.classes[name]!.features;
      const copies = [feats[3]!, feats[50]!, feats[97]!].map((f) => Float32Array.from(f));
      const d = nearestDistances(copies, feats);
      expect(Array.from(d)).toEqual([0, 0, 0]);
      for (const v of d) expect(v).toBeLessThan(t[name]!.threshold);
      // a window from another tile group is not a copy: leave the row out and its distance is >= the minimum
      // leave-group-out distance statistics describe (not asserted per row: same-group neighbours exist)
    }
    // features of another class's reference windows are far from Crack's copies threshold
    const other = nearestDistances(ref.classes['Free']!.features.slice(0, 20), ref.classes['Crack']!.features);
    expect(Math.min(...other)).toBeGreaterThan(t['Crack']!.threshold);
  });
});

describe('softmax regression and F1', () => {
  it('learns a linearly separable toy problem (accuracy 1) deterministically', () => {
    const rng = new Rng(4);
    const f: Float32Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < 90; i++) {
      const c = i % 3;
      const v = Float32Array.from({ length: 2 }, () => rng.nextFloat() * 0.8);
      // class 0: x0 < 1 and x1 < 1; class 1: x0 shifted by +2; class 2: x1 shifted by +2
      if (c === 1) v[0] = v[0]! + 2;
      if (c === 2) v[1] = v[1]! + 2;
      f.push(v);
      y.push(c);
    }
    const model = trainSoftmax(f, y, 3, { epochs: 300, lr: 0.5, l2: 0, seed: 1 });
    const pred = f.map((v) => argmax(model(v)));
    expect(pred).toEqual(y);
    const p = model(f[0]!);
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    const again = trainSoftmax(f, y, 3, { epochs: 300, lr: 0.5, l2: 0, seed: 1 });
    expect(again(f[5]!)).toEqual(model(f[5]!));
  });

  it('F1 known answers', () => {
    // truth 0 0 0 1 1 2; pred 0 0 1 1 2 2
    // class 0: TP 2 FP 0 FN 1 -> 4/5; class 1: TP 1 FP 1 FN 1 -> 2/4; class 2: TP 1 FP 1 FN 0 -> 2/3
    const f1 = f1PerClass([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 2], 4);
    expect(f1[0]).toBeCloseTo(0.8, 12);
    expect(f1[1]).toBeCloseTo(0.5, 12);
    expect(f1[2]).toBeCloseTo(2 / 3, 12);
    expect(f1[3]).toBeNull(); // no true samples of class 3
    expect(macroF1(f1)).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(f1PerClass([1, 1], [0, 0], 2)).toEqual([0, null]);
  });
});

describe('downstream check: planted effects', () => {
  const d = 8;
  const C = 3;
  function set(rng: Rng, sep: number, perClass: number) {
    const features: Float32Array[] = [];
    const labels: number[] = [];
    for (let c = 0; c < C; c++)
      for (let i = 0; i < perClass; i++) {
        features.push(Float32Array.from({ length: d }, (_, k) => (k === c ? sep : 0) + rng.gaussian()));
        labels.push(c);
      }
    return { features, labels };
  }

  it('pure-noise synthetic features lower macro-F1', () => {
    const rng = new Rng(21);
    const realTrain = set(rng, 3, 10);
    const realTest = set(rng, 3, 40);
    const noise = { features: [] as Float32Array[], labels: [] as number[] };
    for (let i = 0; i < 90; i++) {
      noise.features.push(Float32Array.from({ length: d }, () => 20 * (2 * rng.nextFloat() - 1)));
      noise.labels.push(i % C);
    }
    const r = downstreamCheck({ realTrain, realTest, synthetic: noise, classes: C, seeds: 4 });
    expect(r.macroF1RealOnly.mean).toBeGreaterThan(0.8);
    expect(r.delta.mean).toBeLessThan(-0.1);
    expect(r.macroF1WithSynth.mean).toBeLessThan(r.macroF1RealOnly.mean - 0.1);
    expect(r.nTest).toBe(120);
    expect(r.warning).toBeUndefined();
    expect(r.perClass).toHaveLength(3);
    expect(r.macroF1RealOnly.std).toBeGreaterThan(0); // bootstrap resampling makes the seeds differ
  });

  it('helpful synthetic samples (from the true class distributions) raise macro-F1 when real-train is tiny', () => {
    const rng = new Rng(22);
    const realTrain = set(rng, 2, 2);
    const realTest = set(rng, 2, 40);
    const good = set(rng, 2, 30);
    const r = downstreamCheck({ realTrain, realTest, synthetic: good, classes: C, seeds: 4 });
    expect(r.delta.mean).toBeGreaterThan(0.1);
    expect(r.macroF1WithSynth.mean).toBeGreaterThan(r.macroF1RealOnly.mean + 0.1);
    for (const p of r.perClass) expect(p.delta).not.toBeNull();
  });

  it('warns when the held-out set is too small or misses a class', () => {
    const rng = new Rng(23);
    const realTrain = set(rng, 3, 5);
    const t = set(rng, 3, 5);
    const realTest = { features: t.features.slice(0, 10), labels: t.labels.slice(0, 10) }; // classes 0, 1 only
    const r = downstreamCheck({ realTrain, realTest, synthetic: { features: [], labels: [] }, classes: C, seeds: [7] });
    expect(r.warning).toMatch(/no held-out test samples/);
    expect(r.warning).toMatch(/fewer than 10/);
    expect(r.perClass[2]!.f1RealOnly).toBeNull();
    expect(r.delta.mean).toBe(0); // no synthetic data: both models are identical
    expect(r.seeds).toEqual([7]);
  });
});
