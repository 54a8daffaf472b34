/**
 * Sample-quality measures on classifier features (pure TS; float64 inside, inputs are float32 feature rows).
 * They match training/ddstudio/metrics.py numerically on the same inputs:
 *
 * - KID (Binkowski et al. 2018, "Demystifying MMD GANs", arXiv:1801.01401): unbiased MMD^2 with the polynomial
 *   kernel k(a, b) = (a.b / d + 1)^3, averaged over random subsets. Subset size m = min(subsetSize, |x|, |y|)
 *   rows drawn without replacement from each set (x first, then y) per subset; returns the mean and the
 *   POPULATION std (ddof 0, numpy's default) over subsets. Subsets are drawn with src/core/diffusion/rng.ts (xoshiro128**),
 *   not numpy's generator, so for m < |x| or m < |y| the individual subsets differ from Python's; when m equals
 *   both set sizes every subset is the whole set and the value is identical to Python's (to rounding).
 * - Diversity: mean pairwise L2 distance within a set (over ordered pairs i != j, i.e. all unordered pairs).
 * - Nearest-neighbour L2 distances (memorisation check) against a reference set.
 * - Per-class outlier score and its cut-off (the 99th percentile of the reference windows' own scores).
 */
import { StudioError } from '../errors';
import { Rng } from '../diffusion/rng';
import { dim, dist, dot, type Features, type Row } from './features';

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
