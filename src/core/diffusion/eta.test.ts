import { describe, expect, it } from 'vitest';
import { createSampler } from './samplers';
import { cumulativeStepCost, etaAfterStep } from './eta';

const schedule = { numTrainTimesteps: 1000, betaSchedule: 'squaredcos_cap_v2' as const, betaStart: 0.0001, betaEnd: 0.02, predictionType: 'v_prediction' as const };

describe('ETA weighted by network rows', () => {
  it('guided steps count twice; unguided ones once; no guidance: every step once', () => {
    const s = createSampler('dpmpp2m', { schedule, numInferenceSteps: 20, timestepSpacing: 'linspace', eta: 0, clipSample: true });
    const interval = [0.28, 5.42] as const;
    const cost = cumulativeStepCost(s.timesteps, s.alphasCumprod, true, interval);
    const rows = cost.map((c, i) => c - (cost[i - 1] ?? 0));
    expect(rows[0]).toBe(1); // t = 999: sigma far above 5.42, outside the interval
    expect(rows.filter((r) => r === 2).length).toBe(13); // 13 guided + 7 unguided = the default model's 33 evaluations
    expect(cost[19]).toBe(33);
    expect(cumulativeStepCost(s.timesteps, s.alphasCumprod, false, interval)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('after cheap unguided steps the estimate is the remaining rows at the measured time per row', () => {
    const cost = [1, 2, 4, 6, 7]; // rows 1, 1, 2, 2, 1
    expect(etaAfterStep(100, cost, 0)).toBe(600); // 100 ms per row, 6 rows left (the per-step mean said 400)
    expect(etaAfterStep(400, cost, 2)).toBe(300);
    expect(etaAfterStep(700, cost, 4)).toBe(0);
  });
});
