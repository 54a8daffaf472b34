/**
 * The report's one adapter to the quality code (src/core/quality): everything the report knows about how KID,
 * diversity and the real-vs-real reference are computed is here, with the parameters the studio's quality panel
 * uses (src/features/quality/QualityPanel.tsx: 20 subsets of up to 50, seed 0; real halves seed 1), so the report
 * and the panel show the same numbers. When the quality code becomes one evaluation function, repoint this file.
 */
import { kid, meanPairwiseDistance, type ReferenceFeatures } from '../core/quality/quality';
import type { QualityNumbers, QualityRow, ReportRecord } from './types';

export type { DownstreamResult } from '../core/quality/quality';

const SUBSETS = 20;
const SUBSET_SIZE = 50;
/** The defect-free class: its real features are the "clearly another class" reference point of each class. */
export const FREE_CLASS = 'Free';

/** Per-class quality of the accepted records that carry classifier features (record.quality). */
export function qualityNumbers(records: readonly ReportRecord[], classes: readonly string[], ref: ReferenceFeatures, classifierId: string): QualityNumbers {
  const free = ref.classes[FREE_CLASS]?.features ?? [];
  const rows = classes.map((cls): QualityRow => {
    const acc = records.filter((r) => r.className === cls && r.status === 'accepted' && r.quality);
    const feats = acc.map((r) => Float32Array.from(r.quality?.features ?? []));
    const real = ref.classes[cls]?.features ?? [];
    const m = Math.min(SUBSET_SIZE, feats.length, Math.floor(real.length / 2));
    const halves = [real.filter((_, k) => k % 2 === 0), real.filter((_, k) => k % 2 === 1)] as const;
    return {
      className: cls,
      n: acc.length,
      consistency: acc.length ? acc.filter((r) => r.quality?.consistent).length / acc.length : null,
      kid: feats.length >= 2 && real.length >= 2 ? kid(feats, real, { subsets: SUBSETS, subsetSize: SUBSET_SIZE, seed: 0 }) : null,
      realKid: m >= 2 ? kid(halves[0], halves[1], { subsets: SUBSETS, subsetSize: m, seed: 1 }) : null,
      freeKid: cls !== FREE_CLASS && real.length >= 2 && free.length >= 2 ? kid(real, free, { subsets: SUBSETS, subsetSize: SUBSET_SIZE, seed: 2 }) : null,
      diversity: feats.length >= 2 ? meanPairwiseDistance(feats) : null,
      realDiversity: real.length >= 2 ? meanPairwiseDistance(real) : null,
      memorised: acc.filter((r) => r.quality?.flags.includes('memorised')).length,
    };
  });
  return {
    classifierId,
    rows,
    method:
      `KID: unbiased MMD² with the polynomial kernel on the classifier's features, mean ± std over ${SUBSETS} subsets of up to ${SUBSET_SIZE}, accepted images against the shipped real reference features of the class; ` +
      `real vs real: the reference features split in two halves at the accepted set's subset size; Free vs class: the class's reference features against the defect-free class's. ` +
      'Diversity: mean pairwise feature distance. Possible memorisation: the per-image flag (nearest real reference feature closer than real images are to each other).',
  };
}
