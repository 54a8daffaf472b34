/**
 * evaluateDataset: the one evaluation of a synthetic dataset, called by the studio's quality and downstream
 * panels (src/features/quality/) and by `npm run evaluate` (scripts/evaluate.ts) with the same options, so
 * both show the same numbers for the same inputs (evaluateDataset.test.ts). It takes classifier outputs, not
 * images: the caller embeds (the studio's worker, onnxruntime-node in the CLI), judging each image on
 * region.ts judgedRegion.
 *
 * Per class: n; label consistency (share the classifier assigns to the requested class) and confidence (mean
 * probability of the requested class); KID (kid.ts) against the shipped reference features of the class, and
 * real-vs-real KID (two halves of the reference, same subset size) as the scale; diversity (mean pairwise
 * feature distance) against the reference's; memorised count (nearest same-class reference feature or real
 * window under the threshold, photo items on their regenerated pixels: region.ts memorisedRegion); outlier
 * share (outlierScore above the 99th percentile of the reference windows' own scores). With real windows:
 * the downstream check (downstream.ts) on their held-out split (heldOut.ts).
 */
import type { DownstreamInput, DownstreamResult } from './downstream';
import { memorisationThreshold, type ReferenceFeatures } from './features';
import { classStats, kid, meanPairwiseDistance, nearestDistances, outlierScore, outlierThreshold, percentile, type KidResult } from './kid';
import { downstreamCheck } from './downstream';
import { argmax } from './softmax';
import { memorisedRegion, type JudgedRegion } from './region';

export interface EvaluationOptions {
  /** KID subsets and rows per subset (before the min with the set sizes), and the seed of the draws. */
  kidSubsets: number;
  kidSubsetSize: number;
  kidSeed: number;
  /** Seed of the real-vs-real KID's subsets. */
  realKidSeed: number;
  /** Downstream check: seeds 0..n-1. */
  downstreamSeeds: number;
}

/** What the studio and `npm run evaluate` both use (the CLI's flags can change them, the studio's cannot). */
export const EVALUATION_DEFAULTS: EvaluationOptions = { kidSubsets: 50, kidSubsetSize: 100, kidSeed: 0, realKidSeed: 1, downstreamSeeds: 5 };

/** Real windows, as drawn (realWindows.ts) and split (heldOut.ts). */
export const REAL_WINDOW_DEFAULTS = { realPerClass: 50, windowSeed: 0, jitter: 16, testFraction: 0.2, splitSeed: 0 } as const;

export interface EvalSample {
  className: string;
  name: string;
  features: Float32Array;
  predictedClass: string;
  /** probability the classifier gives the requested class */
  requestedProbability: number;
  region: JudgedRegion['region'];
  /** Photo items: features of the background-only window (null: not embedded, memorisation not judged). */
  backgroundFeatures?: Float32Array | null;
}

/** A sample from the classifier's logits: softmax, first maximum (as imageQuality.ts QualityJudge). */
export function sampleFromLogits(s: Omit<EvalSample, 'predictedClass' | 'requestedProbability'>, logits: Float32Array, classes: readonly string[]): EvalSample {
  const mx = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - mx));
  const z = e.reduce((a, b) => a + b, 0);
  const p = e.map((v) => v / z);
  return { ...s, predictedClass: classes[argmax(p)] as string, requestedProbability: p[classes.indexOf(s.className)] as number };
}

export interface EvalReal {
  features: readonly Float32Array[];
  labels: readonly number[];
  test: readonly boolean[];
  /** tile group of each window's image: the downstream check warns about classes held out from few groups */
  groups?: readonly string[];
}

export interface ClassEvaluation {
  n: number;
  labelConsistency: number;
  confidence: number;
  predicted: Record<string, number>;
  regions: Partial<Record<JudgedRegion['region'], number>>;
  kid: (KidResult & { against: number }) | null;
  realKid: KidResult | null;
  diversity: { synthetic: number; real: number };
  nearest: { reference: { min: number; median: number } | null; realWindows: { min: number; median: number; windows: number } | null };
  memorised: { count: number; threshold: number; basis: string; names: string[]; backgroundNearReal: string[]; notJudged: string[] };
  outlier: { share: number; median: number; threshold: number; referenceMedian: number; count: number } | null;
}

export interface DatasetEvaluation {
  classes: string[];
  options: EvaluationOptions;
  /** Every class of the classifier; n = 0 for a class without samples (its numbers are NaN or null). */
  perClass: Record<string, ClassEvaluation>;
  overall: { n: number; labelConsistency: number; confidence: number; memorised: number; outlierShare: number };
  /** null: no real windows given; skipped: a side of the split was empty. */
  downstream: DownstreamResult | { skipped: string } | null;
}

export interface EvaluateDatasetInput {
  classes: readonly string[];
  reference: ReferenceFeatures;
  samples: readonly EvalSample[];
  real?: EvalReal | null;
  options?: Partial<EvaluationOptions>;
  /** Where the downstream check runs (the studio: its worker); default here. Same input, same numbers. */
  runDownstream?: (input: DownstreamInput) => DownstreamResult | Promise<DownstreamResult>;
}

function evaluateClass(ci: number, name: string, inp: EvaluateDatasetInput, o: EvaluationOptions, memo: ReturnType<typeof memorisationThreshold>): ClassEvaluation {
  const mine = inp.samples.filter((s) => s.className === name);
  const f = mine.map((s) => s.features);
  const refF = inp.reference.classes[name]?.features ?? [];
  const realF = inp.real ? inp.real.labels.flatMap((l, i) => (l === ci ? [inp.real?.features[i] as Float32Array] : [])) : [];
  const predicted: Record<string, number> = {};
  const regions: ClassEvaluation['regions'] = {};
  for (const s of mine) {
    predicted[s.predictedClass] = (predicted[s.predictedClass] ?? 0) + 1;
    regions[s.region] = (regions[s.region] ?? 0) + 1;
  }
  const k = refF.length >= 2 && f.length >= 2 ? kid(f, refF, { subsets: o.kidSubsets, subsetSize: o.kidSubsetSize, seed: o.kidSeed }) : null;
  const halfM = Math.min(k?.subsetSize ?? o.kidSubsetSize, f.length, Math.floor(refF.length / 2));
  const realKid = halfM >= 2
    ? kid(refF.filter((_, j) => j % 2 === 0), refF.filter((_, j) => j % 2 === 1), { subsets: o.kidSubsets, subsetSize: halfM, seed: o.realKidSeed })
    : null;
  const near = (rows: readonly Float32Array[], ref: readonly Float32Array[]) => (ref.length ? nearestDistances(rows, ref) : new Float64Array(rows.length).fill(Infinity));
  const nRef = near(f, refF);
  const nReal = near(f, realF);
  const nearest = Array.from(nRef, (v, j) => Math.min(v, nReal[j] as number));
  const thr = memo[name]?.threshold ?? NaN;
  const memorised: ClassEvaluation['memorised'] = { count: 0, threshold: thr, basis: memo[name]?.basis ?? 'none', names: [], backgroundNearReal: [], notJudged: [] };
  mine.forEach((s, j) => {
    let bg: number | null | undefined;
    if (s.backgroundFeatures) bg = Math.min(near([s.backgroundFeatures], refF)[0] as number, near([s.backgroundFeatures], realF)[0] as number);
    else if (s.region === 'photo window') bg = null;
    const v = memorisedRegion(nearest[j] as number, thr, bg);
    if (v === 'memorised') {
      memorised.count++;
      memorised.names.push(s.name);
    } else if (v === 'background near real') memorised.backgroundNearReal.push(s.name);
    else if (v === 'not judged') memorised.notJudged.push(s.name);
  });
  let outlier: ClassEvaluation['outlier'] = null;
  if (refF.length >= 2 && f.length) {
    const st = classStats(refF);
    const ot = outlierThreshold(refF, st, 99);
    const sc = f.map((x) => outlierScore(x, st));
    const count = sc.filter((s) => s > ot).length;
    outlier = { share: count / f.length, median: percentile(sc, 50), threshold: ot, referenceMedian: percentile(refF.map((x) => outlierScore(x, st)), 50), count };
  }
  const consistent = mine.filter((s) => s.predictedClass === name).length;
  return {
    n: mine.length,
    labelConsistency: mine.length ? consistent / mine.length : NaN,
    confidence: mine.length ? mine.reduce((a, s) => a + s.requestedProbability, 0) / mine.length : NaN,
    predicted,
    regions,
    kid: k ? { ...k, against: refF.length } : null,
    realKid,
    diversity: { synthetic: f.length >= 2 ? meanPairwiseDistance(f) : NaN, real: refF.length >= 2 ? meanPairwiseDistance(refF) : NaN },
    nearest: {
      reference: f.length && refF.length ? { min: Math.min(...nRef), median: percentile(nRef, 50) } : null,
      realWindows: f.length && realF.length ? { min: Math.min(...nReal), median: percentile(nReal, 50), windows: realF.length } : null,
    },
    memorised,
    outlier,
  };
}

/** The evaluation (see the file comment). Async only because the downstream check may run elsewhere. */
export async function evaluateDataset(inp: EvaluateDatasetInput): Promise<DatasetEvaluation> {
  const o: EvaluationOptions = { ...EVALUATION_DEFAULTS, ...inp.options };
  const classes = [...inp.classes];
  const memo = memorisationThreshold(inp.reference);
  const perClass: Record<string, ClassEvaluation> = {};
  classes.forEach((name, ci) => (perClass[name] = evaluateClass(ci, name, inp, o, memo)));
  const known = inp.samples.filter((s) => classes.includes(s.className));
  const all = Object.values(perClass);
  const n = all.reduce((a, c) => a + c.n, 0);
  const overall = {
    n,
    labelConsistency: known.filter((s) => s.predictedClass === s.className).length / n,
    confidence: known.reduce((a, s) => a + s.requestedProbability, 0) / n,
    memorised: all.reduce((a, c) => a + c.memorised.count, 0),
    outlierShare: all.reduce((a, c) => a + (c.outlier?.count ?? 0), 0) / n,
  };
  let downstream: DatasetEvaluation['downstream'] = null;
  if (inp.real) {
    const r = inp.real;
    const pick = (test: boolean) => {
      const ii = r.labels.flatMap((_, i) => (r.test[i] === test ? [i] : []));
      return { features: ii.map((i) => r.features[i] as Float32Array), labels: ii.map((i) => r.labels[i] as number) };
    };
    const realTrain = pick(false);
    const realTest = pick(true);
    if (!realTrain.features.length || !realTest.features.length)
      downstream = { skipped: `the split left ${realTrain.features.length} train and ${realTest.features.length} held-out real windows; both must be non-empty` };
    else {
      const input: DownstreamInput = {
        realTrain, realTest,
        synthetic: { features: known.map((s) => s.features), labels: known.map((s) => classes.indexOf(s.className)) },
        classes: classes.length, classNames: classes, seeds: o.downstreamSeeds,
        ...(r.groups ? { testGroupsPerClass: classes.map((_, ci) => new Set(r.labels.flatMap((l, i) => (l === ci && r.test[i] ? [r.groups?.[i]] : []))).size) } : {}),
      };
      downstream = await (inp.runDownstream ?? downstreamCheck)(input);
    }
  }
  return { classes, options: o, perClass, overall, downstream };
}
