/**
 * Downstream utility: does adding synthetic features help a classifier of real data? Multinomial logistic
 * regression (softmax.ts) trained on real features with and without the synthetic ones, scored by macro-F1
 * (f1.ts) on held-out real features.
 */
import { StudioError } from '../errors';
import { Rng } from '../diffusion/rng';
import type { Features, Row } from './features';
import { meanStd } from './kid';
import { argmax, trainSoftmax, type SoftmaxOptions } from './softmax';
import { f1PerClass, macroF1 } from './f1';

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
  /**
   * Held-out tile groups (physical parts) per class, when known: windows drawn from few images can be many, so
   * a class with test samples from fewer than minTestGroupsPerClass groups (default 3) gets a warning too.
   */
  testGroupsPerClass?: readonly number[];
  minTestGroupsPerClass?: number;
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
 * Warns when a class is missing from the test or training set, or has fewer than minTestPerClass test samples
 * or (given testGroupsPerClass) test samples from fewer than minTestGroupsPerClass tile groups.
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
  const minGroups = inp.minTestGroupsPerClass ?? 3;
  const fewGroups = inp.testGroupsPerClass ? testCounts.flatMap((k, c) => (k > 0 && (inp.testGroupsPerClass?.[c] ?? 0) < minGroups ? [`${nm(c)} (${inp.testGroupsPerClass?.[c] ?? 0})`] : [])) : [];
  if (fewGroups.length) problems.push(`classes ${fewGroups.join(', ')} have held-out samples from fewer than ${minGroups} tile groups (physical parts)`);
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
