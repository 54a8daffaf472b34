/**
 * What the three samplers share: validated config, float64 alpha_bar, the timestep grid and the
 * loop-index -> (t, next t) lookup. Kept separate from common.ts so that file stays free of classes.
 */
import type { LoopIndex, ScheduleConfig, TrainTimestep } from '../schedule';
import { makeAlphasCumprod, setTimesteps } from '../schedule';
import type { SamplerOptions } from './common';
import { resolveClip } from './common';

export abstract class SamplerBase {
  readonly config: Readonly<ScheduleConfig>;
  readonly alphasCumprod: Float64Array;
  readonly timesteps: readonly TrainTimestep[];
  readonly numInferenceSteps: number;
  protected readonly clipRange: number | null;

  constructor(schedule: ScheduleConfig, opts: SamplerOptions) {
    this.config = { ...schedule };
    this.alphasCumprod = makeAlphasCumprod(schedule);
    this.timesteps = Object.freeze(setTimesteps(schedule.numTrainTimesteps, opts.numInferenceSteps, opts.timestepSpacing));
    this.numInferenceSteps = this.timesteps.length;
    this.clipRange = resolveClip(opts);
  }

  /** The timestep at loop position i and the one the step lands on (null = the clean image, alpha_bar = 1). */
  protected positions(loopIndex: LoopIndex): { t: TrainTimestep; prevT: TrainTimestep | null } {
    const t = this.timesteps[loopIndex];
    if (!Number.isInteger(loopIndex) || t === undefined) {
      throw new RangeError(`loop index ${loopIndex} is invalid; accepted: integers in [0, ${this.numInferenceSteps - 1}]`);
    }
    return { t, prevT: this.timesteps[loopIndex + 1] ?? null };
  }

  /** alpha_bar at a training timestep; 1 for the clean image (diffusers set_alpha_to_one / DDPM's `one`). */
  protected alphaProd(t: TrainTimestep | null): number {
    if (t === null) return 1;
    const a = this.alphasCumprod[t];
    if (a === undefined) throw new RangeError(`train timestep ${t} is out of range`);
    return a;
  }
}
