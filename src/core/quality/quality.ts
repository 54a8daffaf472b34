/**
 * Sample-quality measures on classifier features (pure TS; float64 inside, inputs are float32 feature rows).
 * The feature-space measures match training/ddstudio/metrics.py numerically on the same inputs:
 *
 * - KID (Binkowski et al. 2018, "Demystifying MMD GANs", arXiv:1801.01401): unbiased MMD^2 with the polynomial
 *   kernel k(a, b) = (a.b / d + 1)^3, averaged over random subsets. Subset size m = min(subsetSize, |x|, |y|)
 *   rows drawn without replacement from each set (x first, then y) per subset; returns the mean and the
 *   POPULATION std (ddof 0, numpy's default) over subsets. Subsets are drawn with src/core/diffusion/rng.ts (xoshiro128**),
 *   not numpy's generator, so for m < |x| or m < |y| the individual subsets differ from Python's; when m equals
 *   both set sizes every subset is the whole set and the value is identical to Python's (to rounding).
 * - Diversity: mean pairwise L2 distance within a set (over ordered pairs i != j, i.e. all unordered pairs).
 * - Nearest-neighbour L2 distances (memorisation check) against a reference set.
 *
 * Plus what the evaluation CLI (scripts/evaluate.ts) needs on top: the reference-features file format
 * (public/models/<classifier>/reference_features.json, written by training/train_classifier.py), a per-class
 * outlier score, the memorisation threshold, and a downstream-utility check (multinomial logistic regression
 * trained on real features with and without the synthetic ones, scored by macro-F1 on held-out real features).
 */
import { StudioError } from '../errors';
import { Rng } from '../diffusion/rng';

export type Features = readonly Float32Array[] | readonly Float64Array[];
type Row = Float32Array | Float64Array;

function dim(x: Features, name: string): number {
  const d = x[0]?.length ?? 0;
  for (const r of x) if (r.length !== d) throw new StudioError('badRequest', `${name}: feature rows have different lengths (${d} and ${r.length})`);
  return d;
}

function dot(a: Row, b: Row): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function dist(a: Row, b: Row): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const t = (a[i] as number) - (b[i] as number);
    s += t * t;
  }
  return Math.sqrt(s);
}

/** Polynomial kernel of KID: (a.b / d + 1)^3. */
export function polyKernel(a: Row, b: Row): number {
  const v = dot(a, b) / a.length + 1;
  return v * v * v;
}

/** Unbiased MMD^2: mean k(x_i,x_j) over i != j + the same for y - 2 mean k(x_i,y_j). Needs >= 2 rows each. */
export function mmd2Unbiased(x: Features, y: Features): number {
  const m = x.length;
  const n = y.length;
  if (m < 2 || n < 2) throw new StudioError('badRequest', `MMD needs at least 2 samples per set, got ${m} and ${n}`);
  if (dim(x, 'x') !== dim(y, 'y')) throw new StudioError('badRequest', `MMD: feature dimensions differ (${x[0]?.length} and ${y[0]?.length})`);
  let sxx = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) sxx += polyKernel(x[i] as Row, x[j] as Row);
  let syy = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) syy += polyKernel(y[i] as Row, y[j] as Row);
  let sxy = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) sxy += polyKernel(x[i] as Row, y[j] as Row);
  return (2 * sxx) / (m * (m - 1)) + (2 * syy) / (n * (n - 1)) - (2 * sxy) / (m * n);
}

/** k distinct indices of [0, n) in random order (partial Fisher-Yates). */
export function sampleWithoutReplacement(n: number, k: number, rng: Rng): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.nextFloat() * (n - i));
    const t = idx[i] as number;
    idx[i] = idx[j] as number;
    idx[j] = t;
  }
  return idx.slice(0, k);
}

export interface KidOptions {
  /** Number of random subsets (default 50, as metrics.py). */
  subsets?: number;
  /** Rows per subset before the min with the set sizes (default 100, as metrics.py). */
  subsetSize?: number;
  /** Seed of the subset draws (default 0). */
  seed?: number;
}
export interface KidResult {
  mean: number;
  /** Population std (ddof 0) over subsets; 0 when every subset is the whole of both sets. */
  std: number;
  subsets: number;
  /** m = min(subsetSize, |x|, |y|), the rows per subset actually used. */
  subsetSize: number;
}

/** KID between feature sets x and y (see the file comment for the conventions). */
export function kid(x: Features, y: Features, opts: KidOptions = {}): KidResult {
  const subsets = opts.subsets ?? 50;
  const m = Math.min(opts.subsetSize ?? 100, x.length, y.length);
  if (!Number.isInteger(subsets) || subsets < 1) throw new StudioError('badRequest', `KID subsets must be an integer >= 1, got ${subsets}`);
  if (m < 2) throw new StudioError('badRequest', `KID needs at least 2 samples per set, got ${x.length} and ${y.length}`);
  const rng = new Rng(opts.seed ?? 0);
  const vals: number[] = [];
  for (let s = 0; s < subsets; s++) {
    const xi = sampleWithoutReplacement(x.length, m, rng).map((i) => x[i] as Row);
    const yi = sampleWithoutReplacement(y.length, m, rng).map((i) => y[i] as Row);
    vals.push(mmd2Unbiased(xi as Features, yi as Features));
  }
  const { mean, std } = meanStd(vals);
  return { mean, std, subsets, subsetSize: m };
}

/** Mean and population std (ddof 0). NaN for an empty list. */
export function meanStd(v: readonly number[]): { mean: number; std: number } {
  if (!v.length) return { mean: NaN, std: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) * (b - mean), 0) / v.length);
  return { mean, std };
}

/** Percentile q in [0, 100] with linear interpolation between order statistics (numpy's default). */
export function percentile(values: readonly number[] | Float64Array, q: number): number {
  const s = Array.from(values).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return (s[lo] as number) + (pos - lo) * ((s[hi] as number) - (s[lo] as number));
}

/** Mean L2 distance over all pairs i != j (NaN for fewer than 2 rows), as metrics.mean_pairwise_distance. */
export function meanPairwiseDistance(x: Features): number {
  const n = x.length;
  if (n < 2) return NaN;
  dim(x, 'x');
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += dist(x[i] as Row, x[j] as Row);
  return (2 * s) / (n * (n - 1));
}

/** For each row of x, the L2 distance to its nearest row of ref (metrics.nn_distances). */
export function nearestDistances(x: Features, ref: Features): Float64Array {
  const out = new Float64Array(x.length);
  if (!x.length) return out;
  if (!ref.length) throw new StudioError('badRequest', 'nearest neighbour against an empty set');
  if (dim(x, 'x') !== dim(ref, 'ref')) throw new StudioError('badRequest', `nearest neighbour: feature dimensions differ (${x[0]?.length} and ${ref[0]?.length})`);
  for (let i = 0; i < x.length; i++) {
    let best = Infinity;
    for (const r of ref) best = Math.min(best, dist(x[i] as Row, r));
    out[i] = best;
  }
  return out;
}

export interface ClassStats {
  mean: Float64Array;
  /** Per-dimension population std (ddof 0). */
  std: Float64Array;
  /** Lower bound used for std in z-scores: 0.1 x the mean per-dimension std (+1e-12). */
  stdFloor: number;
  count: number;
}

/** Per-dimension mean and std of a class's reference features. */
export function classStats(ref: Features): ClassStats {
  if (!ref.length) throw new StudioError('badRequest', 'classStats of an empty set');
  const d = dim(ref, 'ref');
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const r of ref) for (let k = 0; k < d; k++) mean[k] = (mean[k] as number) + (r[k] as number) / ref.length;
  for (const r of ref)
    for (let k = 0; k < d; k++) {
      const t = (r[k] as number) - (mean[k] as number);
      std[k] = (std[k] as number) + (t * t) / ref.length;
    }
  let avg = 0;
  for (let k = 0; k < d; k++) {
    std[k] = Math.sqrt(std[k] as number);
    avg += (std[k] as number) / d;
  }
  return { mean, std, stdFloor: 0.1 * avg + 1e-12, count: ref.length };
}

/**
 * Outlier score of one feature row against a class: the RMS over dimensions of the z-scores
 * z_k = (f_k - mean_k) / max(std_k, stdFloor). The classifier's features are post-ReLU, so some dimensions are
 * (almost) always 0 in a class; the floor (10% of the class's mean std) keeps one such dimension from making
 * every sample an outlier. A typical real sample scores about 1.
 */
export function outlierScore(f: Row, stats: ClassStats): number {
  const d = stats.mean.length;
  if (f.length !== d) throw new StudioError('badRequest', `outlierScore: feature has ${f.length} dimensions, the class stats ${d}`);
  let s = 0;
  for (let k = 0; k < d; k++) {
    const z = ((f[k] as number) - (stats.mean[k] as number)) / Math.max(stats.std[k] as number, stats.stdFloor);
    s += z * z;
  }
  return Math.sqrt(s / d);
}

/**
 * Outlier cut-off of a class: the q-th percentile (default 99) of the outlier scores of the class's own
 * reference rows. About 1% of real reference windows score above it, so a synthetic share well above 1% means
 * samples off the real class manifold. (In-sample, so slightly optimistic for small reference sets.)
 */
export function outlierThreshold(ref: Features, stats: ClassStats, q = 99): number {
  return percentile(ref.map((r) => outlierScore(r, stats)), q);
}

// ---------------------------------------------------------------------------------------------------------
// reference_features.json

export interface NnStats {
  count: number;
  min: number;
  p1: number;
  p5: number;
  p50: number;
}
export interface ReferenceClass {
  count: number;
  tileGroups: number;
  features: Float32Array[];
}
export interface ReferenceFeatures {
  classifierId: string;
  classifierSha256: string;
  featureDim: number;
  classes: Record<string, ReferenceClass>;
  nearestNeighbour: Record<string, { valToTrain: NnStats | null; trainLeaveGroupOut: NnStats | null }>;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 (with or without '=' padding) -> bytes. */
export function base64ToBytes(s: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const v = B64.indexOf(clean[i] as string);
    if (v < 0) throw new StudioError('badRequest', `invalid base64 character "${clean[i]}" at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

function refFail(field: string, problem: string): never {
  throw new StudioError('modelInvalid', `reference_features.json: "${field}" ${problem}`);
}
function nnStats(v: unknown, field: string): NnStats | null {
  if (v === null || v === undefined) return null;
  const o = v as Record<string, unknown>;
  for (const k of ['count', 'min', 'p1', 'p5', 'p50']) if (typeof o[k] !== 'number') refFail(`${field}.${k}`, 'must be a number');
  return { count: o['count'] as number, min: o['min'] as number, p1: o['p1'] as number, p5: o['p5'] as number, p50: o['p50'] as number };
}

/** Validates and decodes reference_features.json (features: base64 little-endian float32, count x featureDim). */
export function parseReferenceFeatures(json: unknown): ReferenceFeatures {
  if (typeof json !== 'object' || json === null) refFail('(root)', 'must be an object');
  const j = json as Record<string, unknown>;
  if (j['format'] !== 'defect-diffusion-reference-features') refFail('format', `is ${JSON.stringify(j['format'])}; accepted: "defect-diffusion-reference-features"`);
  if (j['dtype'] !== 'float32' || j['byteOrder'] !== 'little') refFail('dtype/byteOrder', 'accepted: float32, little');
  const d = j['featureDim'];
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) refFail('featureDim', 'must be a positive integer');
  const classesIn = j['classes'];
  if (typeof classesIn !== 'object' || classesIn === null) refFail('classes', 'must be an object');
  const classes: Record<string, ReferenceClass> = {};
  for (const [name, cv] of Object.entries(classesIn as Record<string, unknown>)) {
    const c = cv as Record<string, unknown>;
    const count = c['count'];
    if (typeof count !== 'number' || typeof c['features'] !== 'string') refFail(`classes.${name}`, 'needs count (number) and features (base64 string)');
    const bytes = base64ToBytes(c['features'] as string);
    if (bytes.length !== count * d * 4) refFail(`classes.${name}.features`, `holds ${bytes.length} bytes; count x featureDim x 4 = ${count * d * 4}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const rows: Float32Array[] = [];
    for (let i = 0; i < count; i++) {
      const r = new Float32Array(d);
      for (let k = 0; k < d; k++) r[k] = view.getFloat32((i * d + k) * 4, true);
      rows.push(r);
    }
    classes[name] = { count, tileGroups: typeof c['tileGroups'] === 'number' ? c['tileGroups'] : 0, features: rows };
  }
  const nn: ReferenceFeatures['nearestNeighbour'] = {};
  const per = ((j['nearestNeighbour'] as Record<string, unknown> | undefined)?.['perClass'] ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, v] of Object.entries(per)) {
    nn[name] = { valToTrain: nnStats(v['valToTrain'], `nearestNeighbour.perClass.${name}.valToTrain`), trainLeaveGroupOut: nnStats(v['trainLeaveGroupOut'], `nearestNeighbour.perClass.${name}.trainLeaveGroupOut`) };
  }
  return {
    classifierId: String(j['classifierId'] ?? ''),
    classifierSha256: String(j['classifierSha256'] ?? ''),
    featureDim: d,
    classes,
    nearestNeighbour: nn,
  };
}

export interface MemorisationThreshold {
  threshold: number;
  basis: string;
}

/**
 * Per-class memorisation threshold on the nearest-reference L2 feature distance of a synthetic sample.
 *
 * The reference file ships, per class, the nearest-neighbour distances between REAL windows that cannot be
 * copies of each other: trainLeaveGroupOut (each reference window to its nearest reference window from another
 * physical tile) and valToTrain (held-out-tile windows to their nearest reference window). The threshold is the
 * smaller of their 1st percentiles (p1). Rationale: independent real windows come closer than p1 to a reference
 * window only ~1% of the time, so a synthetic window that does is closer to a training window than genuinely new
 * data gets -- a memorisation suspect. p1 rather than min: one near-duplicate pair in the reference (same tile
 * labelled twice) should not set the bar; p1 rather than p5/p50: the check must flag copies, not merely good
 * samples (a sample at the p50 distance is a typical new real-looking window). The smaller of the two: fewer
 * false alarms. A class without either statistic gets no threshold (NaN: nothing is flagged).
 */
export function memorisationThreshold(ref: ReferenceFeatures): Record<string, MemorisationThreshold> {
  const out: Record<string, MemorisationThreshold> = {};
  for (const [name, s] of Object.entries(ref.nearestNeighbour)) {
    const cands: [number, string][] = [];
    if (s.trainLeaveGroupOut) cands.push([s.trainLeaveGroupOut.p1, 'trainLeaveGroupOut.p1']);
    if (s.valToTrain) cands.push([s.valToTrain.p1, 'valToTrain.p1']);
    if (!cands.length) {
      out[name] = { threshold: NaN, basis: 'no real-vs-real statistics for this class' };
      continue;
    }
    cands.sort((a, b) => a[0] - b[0]);
    const [t, basis] = cands[0] as [number, string];
    out[name] = { threshold: t, basis: `min(${cands.map((c) => c[1]).join(', ')}) = ${basis}` };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Downstream utility: multinomial logistic regression on features.

export interface SoftmaxOptions {
  epochs: number;
  lr: number;
  /** L2 penalty on the weights (not the biases): loss + l2/2 |W|^2. */
  l2: number;
  seed: number;
}

/**
 * Multinomial logistic regression trained by full-batch gradient descent on the mean cross-entropy.
 * Inputs are standardised with the training set's per-dimension mean and std (std < 1e-8 -> 1), weights start at
 * N(0, 0.01^2) from Rng(seed), biases at 0. Deterministic for a given seed. Returns f -> class probabilities.
 */
export function trainSoftmax(features: Features, labels: readonly number[], classes: number, opts: SoftmaxOptions): (f: Row) => number[] {
  const n = features.length;
  if (n === 0) throw new StudioError('badRequest', 'trainSoftmax: no training samples');
  if (labels.length !== n) throw new StudioError('badRequest', `trainSoftmax: ${n} feature rows but ${labels.length} labels`);
  for (const y of labels) if (!Number.isInteger(y) || y < 0 || y >= classes) throw new StudioError('badRequest', `trainSoftmax: label ${y} is not in [0, ${classes})`);
  const d = dim(features, 'features');
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const r of features) for (let k = 0; k < d; k++) mu[k] = (mu[k] as number) + (r[k] as number) / n;
  for (const r of features)
    for (let k = 0; k < d; k++) {
      const t = (r[k] as number) - (mu[k] as number);
      sd[k] = (sd[k] as number) + (t * t) / n;
    }
  for (let k = 0; k < d; k++) sd[k] = (sd[k] as number) < 1e-16 ? 1 : Math.sqrt(sd[k] as number);
  const X = features.map((r) => {
    const z = new Float64Array(d);
    for (let k = 0; k < d; k++) z[k] = ((r[k] as number) - (mu[k] as number)) / (sd[k] as number);
    return z;
  });
  const rng = new Rng(opts.seed);
  const W = new Float64Array(classes * d);
  for (let i = 0; i < W.length; i++) W[i] = 0.01 * rng.gaussian();
  const b = new Float64Array(classes);
  const gW = new Float64Array(classes * d);
  const gb = new Float64Array(classes);
  const p = new Float64Array(classes);

  const probs = (z: Float64Array, out: Float64Array): void => {
    let mx = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = b[c] as number;
      const o = c * d;
      for (let k = 0; k < d; k++) s += (W[o + k] as number) * (z[k] as number);
      out[c] = s;
      if (s > mx) mx = s;
    }
    let tot = 0;
    for (let c = 0; c < classes; c++) {
      out[c] = Math.exp((out[c] as number) - mx);
      tot += out[c] as number;
    }
    for (let c = 0; c < classes; c++) out[c] = (out[c] as number) / tot;
  };

  for (let e = 0; e < opts.epochs; e++) {
    gW.fill(0);
    gb.fill(0);
    for (let i = 0; i < n; i++) {
      const z = X[i] as Float64Array;
      probs(z, p);
      p[labels[i] as number] = (p[labels[i] as number] as number) - 1;
      for (let c = 0; c < classes; c++) {
        const g = (p[c] as number) / n;
        if (g === 0) continue;
        gb[c] = (gb[c] as number) + g;
        const o = c * d;
        for (let k = 0; k < d; k++) gW[o + k] = (gW[o + k] as number) + g * (z[k] as number);
      }
    }
    for (let i = 0; i < W.length; i++) W[i] = (W[i] as number) - opts.lr * ((gW[i] as number) + opts.l2 * (W[i] as number));
    for (let c = 0; c < classes; c++) b[c] = (b[c] as number) - opts.lr * (gb[c] as number);
  }
  return (f: Row) => {
    if (f.length !== d) throw new StudioError('badRequest', `classifier expects ${d}-dim features, got ${f.length}`);
    const z = new Float64Array(d);
    for (let k = 0; k < d; k++) z[k] = ((f[k] as number) - (mu[k] as number)) / (sd[k] as number);
    const out = new Float64Array(classes);
    probs(z, out);
    return Array.from(out);
  };
}

export function argmax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if ((v[i] as number) > (v[best] as number)) best = i;
  return best;
}

/**
 * F1 per class = 2TP / (2TP + FP + FN). A class with no true samples gets null (its F1 is undefined on this
 * test set; predictions of it still count as false negatives of the true classes).
 */
export function f1PerClass(pred: readonly number[], truth: readonly number[], classes: number): (number | null)[] {
  if (pred.length !== truth.length) throw new StudioError('badRequest', `f1PerClass: ${pred.length} predictions but ${truth.length} labels`);
  const tp = new Array<number>(classes).fill(0);
  const fp = new Array<number>(classes).fill(0);
  const fn = new Array<number>(classes).fill(0);
  const support = new Array<number>(classes).fill(0);
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] as number;
    const t = truth[i] as number;
    support[t] = (support[t] as number) + 1;
    if (p === t) tp[t] = (tp[t] as number) + 1;
    else {
      if (p >= 0 && p < classes) fp[p] = (fp[p] as number) + 1;
      fn[t] = (fn[t] as number) + 1;
    }
  }
  return tp.map((t, c) => ((support[c] as number) === 0 ? null : (2 * t) / (2 * t + (fp[c] as number) + (fn[c] as number))));
}

/** Mean of the non-null per-class F1 values (classes absent from the test set are left out); NaN if none. */
export function macroF1(f1: readonly (number | null)[]): number {
  const v = f1.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}

export interface LabelledFeatures {
  features: Features;
  labels: readonly number[];
}
export interface DownstreamInput {
  realTrain: LabelledFeatures;
  realTest: LabelledFeatures;
  synthetic: LabelledFeatures;
  classes: number;
  /** Names used in the warning (default: the class indices). */
  classNames?: readonly string[];
  /** Seeds, or a count n meaning seeds 0..n-1. */
  seeds: number | readonly number[];
  train?: Partial<SoftmaxOptions>;
  /** Below this many test samples in a class, a warning is given (default 10). */
  minTestPerClass?: number;
}
export interface DownstreamResult {
  /** Mean over seeds; null for classes without test samples. */
  perClass: { f1RealOnly: number | null; f1WithSynth: number | null; delta: number | null }[];
  macroF1RealOnly: { mean: number; std: number };
  macroF1WithSynth: { mean: number; std: number };
  /** Per-seed paired difference (with synthetic - real only), mean and population std over seeds. */
  delta: { mean: number; std: number };
  nTest: number;
  nTrain: number;
  nSynthetic: number;
  seeds: number[];
  warning?: string;
}

export const DOWNSTREAM_DEFAULTS: Omit<SoftmaxOptions, 'seed'> = { epochs: 200, lr: 0.5, l2: 1e-3 };

/** Stratified bootstrap: within each class, as many draws with replacement as the class has samples. */
function stratifiedBootstrap(labels: readonly number[], rng: Rng): number[] {
  const by = new Map<number, number[]>();
  labels.forEach((y, i) => {
    const l = by.get(y) ?? [];
    l.push(i);
    by.set(y, l);
  });
  const out: number[] = [];
  for (const y of [...by.keys()].sort((a, b) => a - b)) {
    const idx = by.get(y) as number[];
    for (let k = 0; k < idx.length; k++) out.push(idx[Math.floor(rng.nextFloat() * idx.length)] as number);
  }
  return out;
}

/**
 * Does adding the synthetic features help a classifier of real data? Per seed: a stratified bootstrap of
 * real-train (and, independently, of the synthetic set) from Rng(seed); model (a) is trained on the real
 * bootstrap only, model (b) on the same real bootstrap + the synthetic bootstrap, both with init seed `seed`
 * (paired); both are scored by macro-F1 on the whole of real-test. Reports mean and population std over seeds.
 * Warns when a class is missing from the test or training set, or has fewer than minTestPerClass test samples.
 */
export function downstreamCheck(inp: DownstreamInput): DownstreamResult {
  const seeds = typeof inp.seeds === 'number' ? Array.from({ length: inp.seeds }, (_, i) => i) : [...inp.seeds];
  if (!seeds.length) throw new StudioError('badRequest', 'downstreamCheck needs at least one seed');
  const C = inp.classes;
  const { realTrain, realTest, synthetic } = inp;
  if (!realTrain.features.length) throw new StudioError('badRequest', 'downstreamCheck: real-train set is empty');
  if (!realTest.features.length) throw new StudioError('badRequest', 'downstreamCheck: real-test set is empty');
  const opts = { ...DOWNSTREAM_DEFAULTS, ...inp.train };
  const perA: (number | null)[][] = [];
  const perB: (number | null)[][] = [];
  const macA: number[] = [];
  const macB: number[] = [];
  const deltas: number[] = [];
  for (const seed of seeds) {
    const rng = new Rng(seed);
    const ri = stratifiedBootstrap(realTrain.labels, rng);
    const si = synthetic.features.length ? stratifiedBootstrap(synthetic.labels, rng) : [];
    const xa = ri.map((i) => realTrain.features[i] as Row);
    const ya = ri.map((i) => realTrain.labels[i] as number);
    const xb = [...xa, ...si.map((i) => synthetic.features[i] as Row)];
    const yb = [...ya, ...si.map((i) => synthetic.labels[i] as number)];
    const score = (f: (r: Row) => number[]): (number | null)[] =>
      f1PerClass(realTest.features.map((r) => argmax(f(r as Row))), realTest.labels, C);
    const fa = score(trainSoftmax(xa as Features, ya, C, { ...opts, seed }));
    const fb = score(trainSoftmax(xb as Features, yb, C, { ...opts, seed }));
    perA.push(fa);
    perB.push(fb);
    macA.push(macroF1(fa));
    macB.push(macroF1(fb));
    deltas.push(macroF1(fb) - macroF1(fa));
  }
  const avg = (rows: (number | null)[][], c: number): number | null => {
    const v = rows.map((r) => r[c]).filter((x): x is number => x !== null && x !== undefined);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const perClass = Array.from({ length: C }, (_, c) => {
    const a = avg(perA, c);
    const b = avg(perB, c);
    return { f1RealOnly: a, f1WithSynth: b, delta: a === null || b === null ? null : b - a };
  });
  const count = (labels: readonly number[]) => {
    const k = new Array<number>(C).fill(0);
    for (const y of labels) k[y] = (k[y] as number) + 1;
    return k;
  };
  const minTest = inp.minTestPerClass ?? 10;
  const testCounts = count(realTest.labels);
  const trainCounts = count(realTrain.labels);
  const problems: string[] = [];
  const nm = (c: number): string => inp.classNames?.[c] ?? String(c);
  const missingTest = testCounts.flatMap((k, c) => (k === 0 ? [nm(c)] : []));
  const fewTest = testCounts.flatMap((k, c) => (k > 0 && k < minTest ? [`${nm(c)} (${k})`] : []));
  const missingTrain = trainCounts.flatMap((k, c) => (k === 0 ? [nm(c)] : []));
  if (missingTest.length) problems.push(`classes ${missingTest.join(', ')} have no held-out test samples (left out of macro-F1)`);
  if (fewTest.length) problems.push(`classes ${fewTest.join(', ')} have fewer than ${minTest} test samples`);
  if (missingTrain.length) problems.push(`classes ${missingTrain.join(', ')} have no real training samples`);
  const res: DownstreamResult = {
    perClass,
    macroF1RealOnly: meanStd(macA),
    macroF1WithSynth: meanStd(macB),
    delta: meanStd(deltas),
    nTest: realTest.features.length,
    nTrain: realTrain.features.length,
    nSynthetic: synthetic.features.length,
    seeds,
  };
  if (problems.length) res.warning = `held-out set too small for a reliable check: ${problems.join('; ')}`;
  return res;
}
