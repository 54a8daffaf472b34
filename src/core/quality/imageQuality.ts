/**
 * Per-image quality flags, computed in the worker right after generation from the embedded evaluation
 * classifier's outputs (logits + penultimate features) and the shipped real reference features:
 * - label consistency: does the classifier call it the requested class, and how confidently;
 * - memorisation: distance to the nearest real reference feature of the class, flagged below the
 *   threshold calibrated on real-vs-real distances (features.ts memorisationThreshold); a photo item only on its
 *   regenerated pixels (judge's background argument);
 * - outlier: RMS z-score against the class's real feature distribution, flagged above the 99th percentile
 *   of the real reference windows' own scores.
 */
import { StudioError } from '../errors';
import { memorisationThreshold, type MemorisationThreshold, type ReferenceFeatures } from './features';
import { classStats, nearestDistances, outlierScore, outlierThreshold, type ClassStats } from './kid';
import { memorisedRegion } from './region';

export type QualityFlag = 'inconsistent' | 'memorised' | 'outlier';

export interface ImageQuality {
  classifierId: string;
  predictedClass: string;
  confidence: number;
  /** probability the classifier gives the requested class */
  requestedProbability: number;
  consistent: boolean;
  nearestRefDistance: number;
  memorisationThreshold: number;
  outlierScore: number;
  outlierThreshold: number;
  flags: QualityFlag[];
  /** classifier features (for KID and diversity in the quality panel) */
  features: number[];
}

interface PerClass {
  ref: Float32Array[];
  stats: ClassStats;
  outlierCut: number;
  memo: MemorisationThreshold;
}

export class QualityJudge {
  private perClass = new Map<string, PerClass>();
  constructor(
    public readonly classifierId: string,
    public readonly classes: readonly string[],
    public readonly reference: ReferenceFeatures,
  ) {
    const memo = memorisationThreshold(reference);
    for (const [name, c] of Object.entries(reference.classes)) {
      if (!c.features.length) continue;
      const stats = classStats(c.features);
      this.perClass.set(name, { ref: c.features, stats, outlierCut: outlierThreshold(c.features, stats), memo: memo[name] ?? { threshold: NaN, basis: 'none' } });
    }
  }

  /** Whether this classifier knows the class (a user's model may have other classes). */
  knows(className: string): boolean {
    return this.classes.includes(className) && this.perClass.has(className);
  }

  /**
   * background: for a photo item, the features of its judged window with the regenerated pixels filled from the
   * photo (region.ts judgedRegion); when that alone is within the memorisation distance of a reference window,
   * the nearness is the real photo's and the item is not flagged memorised (region.ts memorisedRegion).
   */
  judge(requested: string, logits: Float32Array, features: Float32Array, background?: Float32Array): ImageQuality {
    if (logits.length !== this.classes.length) throw new StudioError('inference', `classifier returned ${logits.length} logits for ${this.classes.length} classes`);
    const pc = this.perClass.get(requested);
    if (!pc) throw new StudioError('badRequest', `the evaluation classifier has no reference for class "${requested}"`);
    const max = Math.max(...logits);
    const exps = Array.from(logits, (l) => Math.exp(l - max));
    const z = exps.reduce((a, b) => a + b, 0);
    const probs = exps.map((e) => e / z);
    let best = 0;
    for (let i = 1; i < probs.length; i++) if ((probs[i] as number) > (probs[best] as number)) best = i;
    const predictedClass = this.classes[best] as string;
    const nearest = nearestDistances([features], pc.ref)[0] as number;
    const out = outlierScore(features, pc.stats);
    const flags: QualityFlag[] = [];
    if (predictedClass !== requested) flags.push('inconsistent');
    const bgNearest = background ? (nearestDistances([background], pc.ref)[0] as number) : undefined;
    if (Number.isFinite(pc.memo.threshold) && memorisedRegion(nearest, pc.memo.threshold, bgNearest) === 'memorised') flags.push('memorised');
    if (out > pc.outlierCut) flags.push('outlier');
    return {
      classifierId: this.classifierId,
      predictedClass,
      confidence: probs[best] as number,
      requestedProbability: probs[this.classes.indexOf(requested)] as number,
      consistent: predictedClass === requested,
      nearestRefDistance: nearest,
      memorisationThreshold: pc.memo.threshold,
      outlierScore: out,
      outlierThreshold: pc.outlierCut,
      flags,
      features: Array.from(features),
    };
  }
}
