import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QualityJudge } from './imageQuality';
import { parseReferenceFeatures } from './features';

const ref = parseReferenceFeatures(JSON.parse(readFileSync('public/models/magtile-classifier-64/reference_features.json', 'utf8')));
const classes = ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Free'];
const judge = new QualityJudge('magtile-classifier-64', classes, ref);
const logitsFor = (i: number) => Float32Array.from(classes, (_, k) => (k === i ? 5 : 0));

describe('QualityJudge (per-image flags)', () => {
  it('flags an exact copy of a real reference feature as memorised, not as an outlier', () => {
    const copy = ref.classes['Crack']?.features[3] as Float32Array;
    const q = judge.judge('Crack', logitsFor(2), copy);
    expect(q.nearestRefDistance).toBe(0);
    expect(q.flags).toEqual(['memorised']);
    expect(q.consistent).toBe(true);
  });

  it('flags a class mismatch and a far-off feature vector', () => {
    const far = new Float32Array(64).fill(50);
    const q = judge.judge('Crack', logitsFor(3), far);
    expect(q.predictedClass).toBe('Fray');
    expect(q.flags).toContain('inconsistent');
    expect(q.flags).toContain('outlier');
    expect(q.flags).not.toContain('memorised');
    expect(q.confidence).toBeGreaterThan(0.9);
  });

  it('passes a typical real-looking sample: the class mean, labelled right', () => {
    const feats = ref.classes['Uneven']?.features as Float32Array[];
    const mean = new Float32Array(64);
    for (const f of feats) for (let k = 0; k < 64; k++) mean[k] = (mean[k] as number) + (f[k] as number) / feats.length;
    const q = judge.judge('Uneven', logitsFor(4), mean);
    expect(q.flags).toEqual([]);
  });
});

describe('QualityJudge on a photo item', () => {
  it('does not flag memorised when the photo around the regenerated pixels is what is near a real window', () => {
    const copy = Float32Array.from(ref.classes['Crack']?.features[7] as Float32Array);
    expect(judge.judge('Crack', logitsFor(2), copy).flags).toContain('memorised');
    // background-only window: the same copy (nothing but photo is near) -> not flagged
    expect(judge.judge('Crack', logitsFor(2), copy, copy).flags).not.toContain('memorised');
    // background-only window far from every reference -> the regenerated pixels did it -> flagged
    expect(judge.judge('Crack', logitsFor(2), copy, new Float32Array(64).fill(50)).flags).toContain('memorised');
  });
});
