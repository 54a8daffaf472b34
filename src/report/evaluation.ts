/**
 * The report's one adapter to the quality code: its numbers come from src/core/quality/evaluateDataset.ts, the
 * evaluation the studio's quality and downstream panels and `npm run evaluate` all call, with its defaults, so
 * the report shows what the panel shows. Added here: each class's second reference point, the KID between the
 * class's real reference features and the defect-free class's ("clearly another class"), with the same
 * subsets and subset size.
 */
import { evaluateDataset, type DatasetEvaluation, type EvalSample } from '../core/quality/evaluateDataset';
import type { ReferenceFeatures } from '../core/quality/features';
import { kid } from '../core/quality/kid';
import type { QualityNumbers, QualityRow } from './types';

export type { DatasetEvaluation, EvalSample };
export type { DownstreamResult } from '../core/quality/downstream';

/** The defect-free class: its real features are the "clearly another class" reference point of each class. */
export const FREE_CLASS = 'Free';
const FREE_KID_SEED = 2;

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** The quality numbers of an evaluation, per class of the evaluation. */
export function reportQuality(ev: DatasetEvaluation, ref: ReferenceFeatures, classifierId: string, featuresFrom: string): QualityNumbers {
  const free = ref.classes[FREE_CLASS]?.features ?? [];
  const o = ev.options;
  const rows = ev.classes.map((cls): QualityRow => {
    const c = ev.perClass[cls];
    const real = ref.classes[cls]?.features ?? [];
    return {
      className: cls,
      n: c?.n ?? 0,
      consistency: c?.n ? c.labelConsistency : null,
      kid: c?.kid ? { mean: c.kid.mean, std: c.kid.std } : null,
      realKid: c?.realKid ? { mean: c.realKid.mean, std: c.realKid.std } : null,
      freeKid: cls !== FREE_CLASS && c?.n && real.length >= 2 && free.length >= 2 ? kid(real, free, { subsets: o.kidSubsets, subsetSize: o.kidSubsetSize, seed: FREE_KID_SEED }) : null,
      diversity: c ? finite(c.diversity.synthetic) : null,
      realDiversity: c ? finite(c.diversity.real) : null,
      memorised: c?.memorised.count ?? 0,
    };
  });
  return {
    classifierId,
    rows,
    method:
      `Computed by evaluateDataset (the studio's quality panel and npm run evaluate use it with the same defaults). KID: unbiased MMD² with the polynomial kernel on the classifier's features, mean ± std over ${o.kidSubsets} subsets of up to ${o.kidSubsetSize}, accepted images against the shipped real reference features of the class; ` +
      `real vs real: the reference features split in two halves at the accepted set's subset size; Free vs class: the class's reference features against the defect-free class's (seed ${FREE_KID_SEED}; its ± is 0 when every subset is the whole of both reference sets). ` +
      `Diversity: mean pairwise feature distance. Possible memorisation: nearest real feature closer than the class's real-vs-real threshold. Features: ${featuresFrom}.`,
  };
}

/** The studio's quality numbers: its accepted items' recorded features, evaluated as the quality panel does. */
export async function studioQuality(classes: readonly string[], ref: ReferenceFeatures, samples: readonly EvalSample[], classifierId: string): Promise<QualityNumbers> {
  return reportQuality(await evaluateDataset({ classes, reference: ref, samples }), ref, classifierId, 'as recorded with each image by the worker (the Quality tab\'s numbers)');
}
