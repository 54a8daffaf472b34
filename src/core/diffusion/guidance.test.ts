import { describe, expect, it } from 'vitest';
import { checkGuidanceInterval, combineGuidance, guidanceApplies, noiseLevel } from './guidance';
import { Rng } from './rng';

function randomOutput(n: number, seed: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  new Rng(seed).fillGaussian(a);
  return a.map((v) => v * scale);
}

describe('combineGuidance', () => {
  it('scale 1 returns the conditional half exactly, even with extreme magnitudes', () => {
    const out = randomOutput(2 * 3 * 16, 1, 1e6);
    out[0] = 1e30;
    out[48] = -1e-30;
    expect(combineGuidance(out, 3, 1)).toEqual(out.slice(0, 48));
  });

  it('scale 0 returns the unconditional half; other scales follow uncond + s (cond - uncond)', () => {
    const out = randomOutput(2 * 2 * 8, 2);
    const zero = combineGuidance(out, 2, 0);
    for (let i = 0; i < 16; i++) expect(zero[i]).toBe(out[16 + i]);
    const g = combineGuidance(out, 2, 4.5);
    for (let i = 0; i < 16; i++) {
      const u = out[16 + i] ?? NaN;
      const c = out[i] ?? NaN;
      expect(g[i]).toBeCloseTo(u + 4.5 * (c - u), 5);
    }
    // the layout is [cond ; uncond]: swapping the halves must change the result
    const swapped = new Float32Array([...out.subarray(16), ...out.subarray(0, 16)]);
    expect(combineGuidance(swapped, 2, 4.5)).not.toEqual(g);
  });

  it('rejects a length that is not 2 * batch * k', () => {
    expect(() => combineGuidance(new Float32Array(10), 3, 2)).toThrow(/10 .*2 \* batch = 6/);
  });
});

describe('guidance interval', () => {
  it('uses the EDM noise level sigma = sqrt((1 - alphaBar) / alphaBar), open below and closed above', () => {
    expect(noiseLevel(0.5)).toBeCloseTo(1, 12);
    expect(noiseLevel(0.2)).toBeCloseTo(2, 12);
    expect(guidanceApplies(0.2, [1, 2])).toBe(true); // sigma 2: the closed end
    expect(guidanceApplies(0.5, [1, 2])).toBe(false); // sigma 1: the open end
    expect(guidanceApplies(0.9, [1, 2])).toBe(false);
    expect(guidanceApplies(1e-12, [1, 2])).toBe(false); // the noisiest step
    expect(guidanceApplies(1e-12, undefined)).toBe(true);
  });

  it('says what is wrong with an interval and accepts [low, high] with 0 <= low < high', () => {
    expect(checkGuidanceInterval([0, 5.42])).toBeNull();
    expect(checkGuidanceInterval([0.28, 5.42])).toBeNull();
    expect(checkGuidanceInterval([3, 3])).toMatch(/0 <= low < high, got \[3, 3\]/);
    expect(checkGuidanceInterval([-0.1, 3])).toMatch(/0 <= low < high/);
    expect(checkGuidanceInterval([1])).toMatch(/two finite numbers/);
    expect(checkGuidanceInterval('0.28,5.42')).toMatch(/two finite numbers/);
    expect(checkGuidanceInterval([0, Infinity])).toMatch(/two finite numbers/);
  });
});
