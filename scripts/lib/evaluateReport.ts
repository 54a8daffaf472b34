/**
 * From classifier outputs to `npm run evaluate`'s JSON: evaluateFromEmbeddings builds the samples and calls
 * src/core/quality/evaluateDataset.ts (the studio's panels call the same function), formatEvaluation prints
 * its numbers rounded to 4 significant digits.
 */
import { DOWNSTREAM_DEFAULTS, type DownstreamResult } from '../../src/core/quality/downstream';
import type { ReferenceFeatures } from '../../src/core/quality/features';
import type { HeldOutChoice } from '../../src/core/quality/heldOut';
import type { JudgedRegion } from '../../src/core/quality/region';
import { evaluateDataset, sampleFromLogits, type DatasetEvaluation, type EvalReal, type EvaluationOptions } from '../../src/core/quality/evaluateDataset';

export interface EmbeddedSynthetic {
  className: string;
  name: string;
  region: JudgedRegion['region'];
  logits: Float32Array;
  features: Float32Array;
  /** photo items: features of the background-only window */
  backgroundFeatures: Float32Array | null;
}

export function evaluateFromEmbeddings(classes: readonly string[], reference: ReferenceFeatures, synthetic: readonly EmbeddedSynthetic[], real: EvalReal | null, options: Partial<EvaluationOptions>): Promise<DatasetEvaluation> {
  const samples = synthetic.map((s) =>
    sampleFromLogits({ className: s.className, name: s.name, features: s.features, region: s.region, ...(s.region === 'photo window' ? { backgroundFeatures: s.backgroundFeatures } : {}) }, s.logits, classes));
  return evaluateDataset({ classes, reference, samples, real, options });
}

export const r4 = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toPrecision(4)));
const ms = (v: { mean: number; std: number }) => ({ mean: r4(v.mean), std: r4(v.std) });

export const DEFINITIONS = {
  labelConsistency: 'share of images the classifier assigns to the requested class',
  confidence: 'mean softmax probability of the requested class',
  kid: 'KID (unbiased MMD^2, kernel (a.b/64+1)^3) of the class features vs the shipped reference features of the class; mean and std over subsets; 0 = same distribution. realKid: the same between two halves of the reference at the same subset size (what "as close as real" looks like)',
  region: 'what is judged: a window item whole; a photo item its first window (around the regenerated area); a larger image without windows its centre',
  memorised: 'nearest L2 feature distance to a same-class reference feature or real window below the class threshold (smaller real-vs-real nearest-neighbour p1 in reference_features.json); a photo item only when its window with the regenerated pixels filled from the photo is not itself that near (backgroundNearReal)',
  outlierShare: 'share whose RMS z-score vs the class reference features exceeds the 99th percentile of the reference windows own scores',
  downstream: 'macro-F1 on held-out real windows of a softmax classifier on features trained on real-train only vs real-train + synthetic; delta > 0 means the synthetic images help',
};

/** The per-class, overall and downstream parts of the JSON report. */
export function formatEvaluation(ev: DatasetEvaluation, real: EvalReal | null, split: HeldOutChoice | null, splitText: string): Record<string, unknown> {
  const perClass: Record<string, unknown> = {};
  for (const name of ev.classes) {
    const c = ev.perClass[name];
    if (!c || !c.n) continue;
    perClass[name] = {
      n: c.n,
      labelConsistency: r4(c.labelConsistency),
      confidence: r4(c.confidence),
      predicted: c.predicted,
      region: c.regions,
      kid: c.kid ? { mean: r4(c.kid.mean), std: r4(c.kid.std), subsetSize: c.kid.subsetSize, subsets: c.kid.subsets, against: `${c.kid.against} reference windows` } : null,
      realKid: c.realKid ? { mean: r4(c.realKid.mean), std: r4(c.realKid.std), subsetSize: c.realKid.subsetSize, subsets: c.realKid.subsets } : null,
      diversity: { synthetic: r4(c.diversity.synthetic), real: r4(c.diversity.real), ratio: r4(c.diversity.synthetic / c.diversity.real), real_is: 'mean pairwise distance of the reference windows' },
      nearest: {
        reference: c.nearest.reference ? { min: r4(c.nearest.reference.min), median: r4(c.nearest.reference.median) } : null,
        realWindows: c.nearest.realWindows ? { min: r4(c.nearest.realWindows.min), median: r4(c.nearest.realWindows.median), windows: c.nearest.realWindows.windows } : null,
      },
      memorised: {
        count: c.memorised.count, threshold: r4(c.memorised.threshold), basis: c.memorised.basis, names: c.memorised.names,
        ...(c.memorised.backgroundNearReal.length ? { backgroundNearReal: c.memorised.backgroundNearReal } : {}),
        ...(c.memorised.notJudged.length ? { notJudged: c.memorised.notJudged } : {}),
      },
      outlierShare: c.outlier ? r4(c.outlier.share) : null,
      ...(c.outlier ? { outlierScore: { median: r4(c.outlier.median), threshold: r4(c.outlier.threshold), referenceMedian: r4(c.outlier.referenceMedian) } } : {}),
    };
  }
  const o = ev.overall;
  let downstream: Record<string, unknown> | null = null;
  const d = ev.downstream;
  const heldOut = split ? { heldOutGroups: split.heldOutGroups, heldOutFrom: split.source } : {};
  if (d && 'skipped' in d) downstream = { skipped: d.skipped, split: splitText, ...heldOut };
  else if (d && real) {
    const r = d as DownstreamResult;
    const count = (ci: number, test: boolean) => real.labels.filter((l, i) => l === ci && real.test[i] === test).length;
    downstream = {
      split: splitText,
      ...heldOut,
      features: `classifier features; multinomial logistic regression (${JSON.stringify(DOWNSTREAM_DEFAULTS)}), stratified bootstrap of the training set per seed`,
      perClass: Object.fromEntries(ev.classes.map((c, ci) => {
        const p = r.perClass[ci] as DownstreamResult['perClass'][number];
        return [c, { f1RealOnly: r4(p.f1RealOnly), f1WithSynth: r4(p.f1WithSynth), delta: r4(p.delta), nTest: count(ci, true), nTrain: count(ci, false), nSynthetic: ev.perClass[c]?.n ?? 0 }];
      })),
      macroF1RealOnly: ms(r.macroF1RealOnly),
      macroF1WithSynth: ms(r.macroF1WithSynth),
      delta: ms(r.delta),
      nTrain: r.nTrain,
      nTest: r.nTest,
      nSynthetic: r.nSynthetic,
      seeds: r.seeds.length,
      ...(r.warning ? { warning: r.warning } : {}),
    };
  }
  return {
    overall: { n: o.n, labelConsistency: r4(o.labelConsistency), confidence: r4(o.confidence), memorised: o.memorised, outlierShare: r4(o.outlierShare) },
    perClass,
    downstream,
    options: ev.options,
  };
}
