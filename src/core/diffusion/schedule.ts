/**
 * Noise schedules and inference timestep grids.
 *
 * Mirrors training/ddstudio/diffusion.py (make_betas, make_alphas_cumprod) and
 * training/ddstudio/samplers.py (set_timesteps); src/core/diffusion/parity.test.ts checks all three against reference
 * values that Python writes, so the schedule the model was trained with and the one the browser samples with
 * cannot drift apart.
 *
 * References
 * - DDPM, Ho et al. 2020, arXiv:2006.11239: linear betas (sec. 4), eq. (4) q(x_t | x_0).
 * - Improved DDPM, Nichol & Dhariwal 2021, arXiv:2102.09672, eq. (17): cosine alpha_bar, betas capped at 0.999
 *   ("squaredcos_cap_v2" in diffusers).
 * - Lin et al. 2023, arXiv:2305.08891, Table 2: the "leading", "trailing" and "linspace" timestep spacings.
 *
 * Notation: alphasCumprod[t] = alpha_bar_t (DDPM), betas[t] = beta_t, T = numTrainTimesteps,
 * N = numInferenceSteps.
 *
 * All schedule arrays are float64: alpha_bar_t spans ~9 decades for the cosine schedule and the sampler
 * coefficients are ratios and square roots of it.
 */

export type BetaSchedule = 'linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

export const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'squaredcos_cap_v2'];
export const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'v_prediction', 'sample'];
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];

export interface ScheduleConfig {
  numTrainTimesteps: number;
  betaSchedule: BetaSchedule;
  betaStart: number;
  betaEnd: number;
  predictionType: PredictionType;
}

/** A training timestep, 0..T-1: the index into alphasCumprod and the model's time input. */
export type TrainTimestep = number & { __brand: 'TrainTimestep' };
/** A position in the sampling loop, 0..N-1: the index into Sampler.timesteps. */
export type LoopIndex = number & { __brand: 'LoopIndex' };

/** Cap on cosine betas (Nichol & Dhariwal sec. 3.2): prevents a singularity at t = T. */
const MAX_BETA = 0.999;

function isNonNegativeInt(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export function asTrainTimestep(t: number, numTrainTimesteps: number): TrainTimestep {
  if (!Number.isSafeInteger(t) || t < 0 || t >= numTrainTimesteps) {
    throw new RangeError(`train timestep ${t} is invalid; accepted: integers in [0, ${numTrainTimesteps - 1}]`);
  }
  return t as TrainTimestep;
}

export function asLoopIndex(i: number, numInferenceSteps: number): LoopIndex {
  if (!Number.isSafeInteger(i) || i < 0 || i >= numInferenceSteps) {
    throw new RangeError(`loop index ${i} is invalid; accepted: integers in [0, ${numInferenceSteps - 1}]`);
  }
  return i as LoopIndex;
}

export function validateScheduleConfig(cfg: ScheduleConfig): void {
  const n = cfg.numTrainTimesteps;
  if (!Number.isSafeInteger(n) || n < 2) {
    throw new RangeError(`numTrainTimesteps ${String(n)} is invalid; accepted: integers >= 2`);
  }
  if (!BETA_SCHEDULES.includes(cfg.betaSchedule)) {
    throw new RangeError(
      `betaSchedule '${String(cfg.betaSchedule)}' is not supported; accepted: ${BETA_SCHEDULES.join(', ')}`,
    );
  }
  if (!PREDICTION_TYPES.includes(cfg.predictionType)) {
    throw new RangeError(
      `predictionType '${String(cfg.predictionType)}' is not supported; accepted: ${PREDICTION_TYPES.join(', ')}`,
    );
  }
  if (cfg.betaSchedule === 'linear') {
    for (const [name, v] of [['betaStart', cfg.betaStart], ['betaEnd', cfg.betaEnd]] as const) {
      if (!Number.isFinite(v) || v <= 0 || v >= 1) {
        throw new RangeError(`${name} ${String(v)} is invalid; accepted: a number in (0, 1)`);
      }
    }
  }
}

/** Cosine alpha_bar(t), Nichol & Dhariwal eq. (17) with s = 0.008 (unnormalised; only ratios are used). */
function cosineAlphaBar(t: number): number {
  const c = Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2));
  return c * c;
}

/** float64 betas, length numTrainTimesteps; same formulas as diffusion.make_betas. */
export function makeBetas(cfg: ScheduleConfig): Float64Array {
  validateScheduleConfig(cfg);
  const n = cfg.numTrainTimesteps;
  const betas = new Float64Array(n);
  if (cfg.betaSchedule === 'linear') {
    // Written as numpy.linspace evaluates it (i * step + start, last element = stop) so the values are
    // bit-identical to the Python schedule, not merely close.
    const step = (cfg.betaEnd - cfg.betaStart) / (n - 1);
    for (let i = 0; i < n; i++) betas[i] = i * step + cfg.betaStart;
    betas[n - 1] = cfg.betaEnd;
  } else {
    for (let i = 0; i < n; i++) {
      betas[i] = Math.min(1 - cosineAlphaBar((i + 1) / n) / cosineAlphaBar(i / n), MAX_BETA);
    }
  }
  return betas;
}

/** alpha_bar_t = prod_{s<=t} (1 - beta_s), float64, computed left to right like numpy.cumprod. */
export function makeAlphasCumprod(cfg: ScheduleConfig): Float64Array {
  const betas = makeBetas(cfg);
  const out = new Float64Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= 1 - (betas[i] ?? 0);
    out[i] = acc;
  }
  return out;
}

/**
 * numpy.round: round half to even. Math.round rounds half up, which would move e.g. 2.5 to 3 where diffusers
 * (and numpy) give 2.
 */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The inference timestep grid, following diffusers DDIMScheduler.set_timesteps (steps_offset 0), which
 * DDPMScheduler shares. Strictly descending, every value in [0, T-1], length N.
 *
 * - leading:  (arange(N) * (T // N))[::-1]                      T=1000, N=10 -> 900, 800, ..., 0
 * - trailing: round(arange(T, 0, -T/N)) - 1                     T=1000, N=10 -> 999, 899, ..., 99
 * - linspace: round(linspace(0, T-1, N))[::-1]                  T=1000, N=10 -> 999, 888, ..., 0
 *
 * The floating-point expressions are the ones numpy evaluates (arange fills start + i*delta with
 * delta = (start + step) - start; linspace fills i * step + start; rounding is half-to-even) so the integers are
 * identical to diffusers'. One deliberate difference: for some (T, N) (e.g. T=1000, N=61) numpy's arange with a
 * fractional step returns N+1 values, the last one rounding to 0 and becoming timestep -1 in diffusers; we keep
 * the first N, which is what the spacing means.
 */
export function setTimesteps(
  numTrainTimesteps: number,
  numInferenceSteps: number,
  spacing: TimestepSpacing,
): TrainTimestep[] {
  const T = numTrainTimesteps;
  const N = numInferenceSteps;
  if (!Number.isSafeInteger(T) || T < 2) {
    throw new RangeError(`numTrainTimesteps ${String(T)} is invalid; accepted: integers >= 2`);
  }
  if (!isNonNegativeInt(N) || N < 1 || N > T) {
    throw new RangeError(`numInferenceSteps ${String(N)} is invalid; accepted: integers in [1, ${T}]`);
  }
  const out: number[] = new Array<number>(N);
  if (spacing === 'leading') {
    const ratio = Math.floor(T / N);
    for (let i = 0; i < N; i++) out[i] = (N - 1 - i) * ratio;
  } else if (spacing === 'trailing') {
    const ratio = T / N;
    const delta = T + -ratio - T;
    for (let i = 0; i < N; i++) {
      const v = i === 0 ? T : i === 1 ? T + -ratio : T + i * delta;
      out[i] = roundHalfEven(v) - 1;
    }
  } else if (spacing === 'linspace') {
    const step = (T - 1) / (N - 1);
    for (let i = 0; i < N; i++) {
      const v = N === 1 ? 0 : i === N - 1 ? T - 1 : i * step;
      out[N - 1 - i] = roundHalfEven(v);
    }
  } else {
    throw new RangeError(
      `timestepSpacing '${String(spacing)}' is not supported; accepted: ${TIMESTEP_SPACINGS.join(', ')}`,
    );
  }
  return out.map((t) => asTrainTimestep(t, T));
}
