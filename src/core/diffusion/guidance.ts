/**
 * Classifier-free guidance (Ho & Salimans 2022, arXiv:2207.12598, eq. 6):
 *   guided = uncond + scale * (cond - uncond)
 * (the paper's w is scale - 1). The model is run once on a batch of 2B laid out as [B conditional ; B with the
 * null label], so output2B holds the B conditional outputs first, then the B unconditional ones.
 * The same combine applies to epsilon, v and x0 outputs since it is linear.
 */
export function combineGuidance(output2B: Float32Array, batch: number, scale: number): Float32Array {
  if (!Number.isSafeInteger(batch) || batch < 1) {
    throw new RangeError(`batch ${String(batch)} is invalid; accepted: integers >= 1`);
  }
  if (!Number.isFinite(scale)) {
    throw new RangeError(`guidance scale ${String(scale)} is invalid; accepted: a finite number`);
  }
  if (output2B.length % (2 * batch) !== 0) {
    throw new RangeError(
      `model output length ${output2B.length} is not divisible by 2 * batch = ${2 * batch}; accepted: [B cond ; B uncond]`,
    );
  }
  const half = output2B.length / 2;
  const cond = output2B.subarray(0, half);
  // Exactly the conditional output: in floating point uncond + 1 * (cond - uncond) can differ from cond.
  if (scale === 1) return cond.slice();
  const uncond = output2B.subarray(half);
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const u = uncond[i] ?? 0;
    out[i] = u + scale * ((cond[i] ?? 0) - u);
  }
  return out;
}

/**
 * Guidance in a limited interval of noise levels (Kynkaanniemi et al. 2024, arXiv:2404.07724): guidance at the
 * noisiest steps pulls every sample toward the class's typical layout and exposure (diversity falls), and at the
 * least noisy steps it no longer changes the class, so it is applied only where the noise level
 * sigma_t = sqrt((1 - alphaBar_t) / alphaBar_t) (the EDM noise level of a DDPM timestep) lies in (low, high].
 * Outside it the step uses the conditional output alone: one model call of batch 1 instead of 2.
 */
export type GuidanceInterval = readonly [low: number, high: number];

export function noiseLevel(alphaCumprod: number): number {
  return Math.sqrt((1 - alphaCumprod) / alphaCumprod);
}

/** Whether a step at this alphaBar is guided; no interval = every step. */
export function guidanceApplies(alphaCumprod: number, interval: GuidanceInterval | undefined): boolean {
  if (interval === undefined) return true;
  const sigma = noiseLevel(alphaCumprod);
  return sigma > interval[0] && sigma <= interval[1];
}

/** Why an interval is not acceptable, or null when it is. */
export function checkGuidanceInterval(v: unknown): string | null {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
    return `must be two finite numbers [low, high], got ${JSON.stringify(v)}`;
  const [lo, hi] = v as [number, number];
  if (lo < 0 || hi <= lo) return `must satisfy 0 <= low < high, got [${lo}, ${hi}]`;
  return null;
}
