/**
 * The one constructor of a GenerateRequest, used by the studio (src/app/queue.ts), the command-line generator
 * (scripts/generate.ts), the bench (bench/bench.ts) and reproduce (scripts/reproduce.ts). It fills in what the
 * caller leaves out, and the limits every caller and the core's validateRequest (diffusion/generate.ts) apply
 * are stated here once:
 *
 * | field | default when left out | limit |
 * |---|---|---|
 * | sampler, steps, guidance, timestepSpacing | the manifest's `defaults` | steps 1..MAX_STEPS (and at most the schedule's numTrainTimesteps), guidance 0..MAX_GUIDANCE |
 * | guidanceInterval | the manifest's `defaults.guidanceInterval` (none: every step); `'all'` = guide every step | (low, high], 0 <= low < high |
 * | eta | DEFAULT_ETA (0: deterministic DDIM; the studio always uses it) | 0..MAX_ETA |
 * | clipSample | DEFAULT_CLIP_SAMPLE (true) | |
 * | prompt | '' | |
 * | seed | (required) | 0..MAX_SEED |
 *
 * MAX_STEPS is 1000, the number of training timesteps of every model this project trains: more inference steps
 * than training timesteps would repeat timesteps. The studio's step field uses the same constant.
 */
import type { GuidanceInterval } from '../diffusion/guidance';
import type { SamplerName } from '../diffusion/samplers';
import type { TimestepSpacing } from '../diffusion/schedule';
import type { ModelManifest } from './manifest';
import type { GenerateRequest, SamplingParams } from './protocol';

export const MAX_STEPS = 1000;
export const MAX_SEED = Number.MAX_SAFE_INTEGER;
export const MAX_GUIDANCE = 30;
export const MAX_ETA = 1;
export const DEFAULT_ETA = 0;
export const DEFAULT_CLIP_SAMPLE = true;

/** What a caller asks for; anything left out (or undefined) takes the default of the table above. */
export interface RequestSettings {
  className: string;
  seed: number;
  prompt?: string | undefined;
  sampler?: SamplerName | undefined;
  steps?: number | undefined;
  guidance?: number | undefined;
  /** undefined: the manifest's interval; 'all': guidance at every step. */
  guidanceInterval?: GuidanceInterval | 'all' | undefined;
  eta?: number | undefined;
  timestepSpacing?: TimestepSpacing | undefined;
  clipSample?: boolean | undefined;
  defectMask?: Uint8Array | undefined;
  previewIntervalMs?: number | undefined;
}

/** Settings -> request, with the model's defaults and the project's defaults filled in. Validation is validateRequest's. */
export function buildRequest(m: Pick<ModelManifest, 'defaults'>, s: RequestSettings): GenerateRequest {
  const d = m.defaults;
  const gi = s.guidanceInterval === 'all' ? undefined : (s.guidanceInterval ?? d.guidanceInterval);
  return {
    className: s.className,
    prompt: s.prompt ?? '',
    seed: s.seed,
    sampler: s.sampler ?? d.sampler,
    steps: s.steps ?? d.steps,
    guidance: s.guidance ?? d.guidance,
    ...(gi ? { guidanceInterval: [gi[0], gi[1]] as const } : {}),
    eta: s.eta ?? DEFAULT_ETA,
    timestepSpacing: s.timestepSpacing ?? d.timestepSpacing,
    clipSample: s.clipSample ?? DEFAULT_CLIP_SAMPLE,
    ...(s.defectMask ? { defectMask: s.defectMask } : {}),
    ...(s.previewIntervalMs !== undefined ? { previewIntervalMs: s.previewIntervalMs } : {}),
  };
}

/**
 * The request that recorded sampling parameters came from (npm run reproduce): every field as recorded, nothing
 * from the manifest. A record without guidanceInterval was guided at every step (items made before the interval
 * existed, or with --guidance-interval all), never at the manifest's interval.
 */
export function requestFromRecord(m: Pick<ModelManifest, 'defaults'>, p: SamplingParams): GenerateRequest {
  return buildRequest(m, {
    className: p.className, prompt: p.prompt, seed: p.seed, sampler: p.sampler, steps: p.steps, guidance: p.guidance,
    guidanceInterval: p.guidanceInterval ?? 'all', eta: p.eta, timestepSpacing: p.timestepSpacing, clipSample: p.clipSample,
  });
}
