import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { base64ToBytes, memorisationThreshold, parseReferenceFeatures } from './features';
import { classStats, nearestDistances } from './kid';

describe('reference features and memorisation', () => {
  const json = JSON.parse(readFileSync('public/models/magtile-classifier-64/reference_features.json', 'utf8'));
  const ref = parseReferenceFeatures(json);

  it('decodes base64 little-endian float32', () => {
    expect(Array.from(base64ToBytes('AAAAAAAAgD8='))).toEqual([0, 0, 0, 0, 0, 0, 0x80, 0x3f]);
    expect(ref.featureDim).toBe(64);
    expect(Object.keys(ref.classes)).toEqual(['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Free']);
    const crack = ref.classes['Crack']!;
    expect(crack.features).toHaveLength(100);
    // the stored per-class mean (6 decimals) equals the mean of the decoded rows
    const mean = classStats(crack.features).mean;
    (json.classes.Crack.mean as number[]).forEach((m, k) => expect(mean[k]).toBeCloseTo(m, 5));
  });

  it('thresholds are the smaller real-vs-real p1 per class', () => {
    const t = memorisationThreshold(ref);
    const nn = json.nearestNeighbour.perClass;
    expect(t['Break']!.threshold).toBe(nn.Break.trainLeaveGroupOut.p1); // Break's leave-group-out p1 is the smaller
    expect(t['Crack']!.threshold).toBe(Math.min(nn.Crack.trainLeaveGroupOut.p1, nn.Crack.valToTrain.p1));
    for (const v of Object.values(t)) expect(v.threshold).toBeGreaterThan(0);
  });

  it('planted copies of reference features have distance 0 and fall under the threshold; fresh samples do not', () => {
    const t = memorisationThreshold(ref);
    for (const name of Object.keys(ref.classes)) {
      const feats = ref.classes[name]!.features;
      const copies = [feats[3]!, feats[50]!, feats[97]!].map((f) => Float32Array.from(f));
      const d = nearestDistances(copies, feats);
      expect(Array.from(d)).toEqual([0, 0, 0]);
      for (const v of d) expect(v).toBeLessThan(t[name]!.threshold);
      // a window from another tile group is not a copy: leave the row out and its distance is >= the minimum
      // leave-group-out distance statistics describe (not asserted per row: same-group neighbours exist)
    }
    // features of another class's reference windows are far from Crack's copies threshold
    const other = nearestDistances(ref.classes['Free']!.features.slice(0, 20), ref.classes['Crack']!.features);
    expect(Math.min(...other)).toBeGreaterThan(t['Crack']!.threshold);
  });
});
