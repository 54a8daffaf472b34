/**
 * Time left in a sampling loop, from the work done so far. A step inside the guidance interval runs the network
 * on twice the rows (conditional and unconditional) of a step outside it, and the noisiest steps, which come
 * first, are outside the default interval: an ETA from the mean time per step so far ran early (3.0 s shown,
 * 4.2 s taken). Here each step is weighted by its network rows.
 */
import { guidanceApplies, type GuidanceInterval } from './guidance';

/** Cumulative cost after each step: cost[i] = network rows of steps 0..i (1 per step, 2 when guided). */
export function cumulativeStepCost(timesteps: readonly number[], alphasCumprod: ArrayLike<number>, guided: boolean, interval?: GuidanceInterval): number[] {
  let sum = 0;
  return timesteps.map((t) => (sum += guided && guidanceApplies(alphasCumprod[t] as number, interval) ? 2 : 1));
}

/** Milliseconds left after step i (0-based) took `elapsedMs` in all. */
export function etaAfterStep(elapsedMs: number, cumulative: readonly number[], i: number): number {
  const done = cumulative[i] as number;
  const total = cumulative[cumulative.length - 1] as number;
  return done > 0 ? (elapsedMs / done) * (total - done) : 0;
}
