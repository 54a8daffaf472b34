import { describe, expect, it } from 'vitest';
import { Rng } from '../diffusion/rng';
import { downstreamCheck } from './downstream';

describe('downstream check: planted effects', () => {
  const d = 8;
  const C = 3;
  function set(rng: Rng, sep: number, perClass: number) {
    const features: Float32Array[] = [];
    const labels: number[] = [];
    for (let c = 0; c < C; c++)
      for (let i = 0; i < perClass; i++) {
        features.push(Float32Array.from({ length: d }, (_, k) => (k === c ? sep : 0) + rng.gaussian()));
        labels.push(c);
      }
    return { features, labels };
  }

  it('pure-noise synthetic features lower macro-F1', () => {
    const rng = new Rng(21);
    const realTrain = set(rng, 3, 10);
    const realTest = set(rng, 3, 40);
    const noise = { features: [] as Float32Array[], labels: [] as number[] };
    for (let i = 0; i < 90; i++) {
      noise.features.push(Float32Array.from({ length: d }, () => 20 * (2 * rng.nextFloat() - 1)));
      noise.labels.push(i % C);
    }
    const r = downstreamCheck({ realTrain, realTest, synthetic: noise, classes: C, seeds: 4 });
    expect(r.macroF1RealOnly.mean).toBeGreaterThan(0.8);
    expect(r.delta.mean).toBeLessThan(-0.1);
    expect(r.macroF1WithSynth.mean).toBeLessThan(r.macroF1RealOnly.mean - 0.1);
    expect(r.nTest).toBe(120);
    expect(r.warning).toBeUndefined();
    expect(r.perClass).toHaveLength(3);
    expect(r.macroF1RealOnly.std).toBeGreaterThan(0); // bootstrap resampling makes the seeds differ
  });

  it('helpful synthetic samples (from the true class distributions) raise macro-F1 when real-train is tiny', () => {
    const rng = new Rng(22);
    const realTrain = set(rng, 2, 2);
    const realTest = set(rng, 2, 40);
    const good = set(rng, 2, 30);
    const r = downstreamCheck({ realTrain, realTest, synthetic: good, classes: C, seeds: 4 });
    expect(r.delta.mean).toBeGreaterThan(0.1);
    expect(r.macroF1WithSynth.mean).toBeGreaterThan(r.macroF1RealOnly.mean + 0.1);
    for (const p of r.perClass) expect(p.delta).not.toBeNull();
  });

  it('warns when the held-out set is too small or misses a class', () => {
    const rng = new Rng(23);
    const realTrain = set(rng, 3, 5);
    const t = set(rng, 3, 5);
    const realTest = { features: t.features.slice(0, 10), labels: t.labels.slice(0, 10) }; // classes 0, 1 only
    const r = downstreamCheck({ realTrain, realTest, synthetic: { features: [], labels: [] }, classes: C, seeds: [7] });
    expect(r.warning).toMatch(/no held-out test samples/);
    expect(r.warning).toMatch(/fewer than 10/);
    expect(r.perClass[2]!.f1RealOnly).toBeNull();
    expect(r.delta.mean).toBe(0); // no synthetic data: both models are identical
    expect(r.seeds).toEqual([7]);
  });

  it('warns when a class\'s held-out samples come from few tile groups, however many windows', () => {
    const rng = new Rng(5);
    const inp = { realTrain: set(rng, 3, 10), realTest: set(rng, 3, 40), synthetic: { features: [], labels: [] }, classes: C, classNames: ['a', 'b', 'c'], seeds: 1 };
    expect(downstreamCheck(inp).warning).toBeUndefined();
    expect(downstreamCheck({ ...inp, testGroupsPerClass: [5, 1, 3] }).warning).toBe('held-out set too small for a reliable check: classes b (1) have held-out samples from fewer than 3 tile groups (physical parts)');
  });
});
