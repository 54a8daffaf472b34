/**
 * The go / no-go thresholds of a pilot report: defaults, what each one means, and a parser for a user's JSON
 * (a thresholds file for `npm run report`, the studio's small form). A bad value is refused with the field, what
 * was given and what is accepted.
 */

export interface Thresholds {
  /** Accepted images per class needed before the numbers mean anything. */
  minAcceptedPerClass: number;
  /** Accepted / reviewed (accepted + rejected). */
  minAcceptanceRate: number;
  /** Share of a class's accepted images the evaluation classifier calls that class. */
  minLabelConsistency: number;
  /**
   * Where accepted KID may lie between the class's two reference points: 0 = the real-vs-real KID, 1 = the
   * Free-vs-class KID (a different class). 0.5 is the midpoint: closer to real than to another class.
   */
  maxKidPosition: number;
  /** Accepted diversity / real diversity (below: the model repeats itself). */
  minDiversityRatio: number;
  /** Share of accepted images flagged as possible memorisation. */
  maxMemorisedShare: number;
  /** Downstream macro-F1 change (real + synthetic minus real only), mean minus its spread, must reach this. */
  minMacroF1Gain: number;
  /** Generation time per accepted image, seconds (all generated images' time / accepted). */
  maxSecondsPerAccepted: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  minAcceptedPerClass: 20,
  minAcceptanceRate: 0.3,
  minLabelConsistency: 0.7,
  maxKidPosition: 0.5,
  minDiversityRatio: 0.8,
  maxMemorisedShare: 0.05,
  minMacroF1Gain: 0,
  maxSecondsPerAccepted: 60,
};

interface Spec {
  label: string;
  min: number;
  max: number;
  integer?: boolean;
}

export const THRESHOLD_SPECS: Readonly<Record<keyof Thresholds, Spec>> = {
  minAcceptedPerClass: { label: 'accepted images per class, at least', min: 0, max: 1_000_000, integer: true },
  minAcceptanceRate: { label: 'acceptance rate (accepted / reviewed), at least', min: 0, max: 1 },
  minLabelConsistency: { label: 'label consistency per class, at least', min: 0, max: 1 },
  maxKidPosition: { label: 'KID position between real-vs-real (0) and Free-vs-class (1), at most', min: 0, max: 10 },
  minDiversityRatio: { label: 'diversity / real diversity per class, at least', min: 0, max: 10 },
  maxMemorisedShare: { label: 'share flagged as possible memorisation, at most', min: 0, max: 1 },
  minMacroF1Gain: { label: 'downstream macro-F1 gain (mean − spread), at least', min: -1, max: 1 },
  maxSecondsPerAccepted: { label: 'generation seconds per accepted image, at most', min: 0, max: 1e9 },
};

export const THRESHOLD_KEYS = Object.keys(DEFAULT_THRESHOLDS) as (keyof Thresholds)[];

export class ThresholdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThresholdError';
  }
}

/** A user's thresholds: an object with any of the keys (the rest keep their defaults). */
export function parseThresholds(raw: unknown, base: Thresholds = DEFAULT_THRESHOLDS): Thresholds {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ThresholdError(`thresholds must be a JSON object with any of ${THRESHOLD_KEYS.join(', ')}; got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`);
  const out: Thresholds = { ...base };
  for (const [k, v] of Object.entries(raw)) {
    if (!(THRESHOLD_KEYS as string[]).includes(k)) throw new ThresholdError(`thresholds: "${k}" is not a threshold; accepted: ${THRESHOLD_KEYS.join(', ')}`);
    const key = k as keyof Thresholds;
    const s = THRESHOLD_SPECS[key];
    const kind = s.integer ? 'an integer' : 'a number';
    if (typeof v !== 'number' || !Number.isFinite(v) || v < s.min || v > s.max || (s.integer && !Number.isInteger(v)))
      throw new ThresholdError(`thresholds: ${k} must be ${kind} from ${s.min} to ${s.max} (${s.label}), got ${JSON.stringify(v)}`);
    out[key] = v;
  }
  return out;
}
