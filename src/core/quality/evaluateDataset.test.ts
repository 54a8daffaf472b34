import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../diffusion/rng';
import { downstreamCheck } from './downstream';
import { parseReferenceFeatures } from './features';
import { evaluateDataset, EVALUATION_DEFAULTS, sampleFromLogits, type EvalSample } from './evaluateDataset';
import { kid, meanPairwiseDistance } from './kid';

const ref = parseReferenceFeatures(JSON.parse(readFileSync('public/models/magtile-classifier-64/reference_features.json', 'utf8')));
const classes = ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Free'];
const rng = new Rng(5);
const jitter = (f: Float32Array, s: number) => Float32Array.from(f, (v) => Math.max(0, v + s * rng.gaussian()));
const logits = (c: number) => Float32Array.from(classes, (_, k) => (k === c ? 3 : 0));

function samples(): EvalSample[] {
  const crack = ref.classes['Crack']!.features;
  return [
    ...Array.from({ length: 12 }, (_, k) => sampleFromLogits({ className: 'Crack', name: `c${k}`, features: jitter(crack[k]!, 0.5), region: 'window' }, logits(k < 10 ? 2 : 1), classes)),
    sampleFromLogits({ className: 'Crack', name: 'copy', features: Float32Array.from(crack[40]!), region: 'window' }, logits(2), classes),
    // photo items whose judged window is a reference window: one whose background alone is that near, one whose is not, one not embedded
    sampleFromLogits({ className: 'Crack', name: 'photo-bg', features: Float32Array.from(crack[41]!), region: 'photo window', backgroundFeatures: Float32Array.from(crack[41]!) }, logits(2), classes),
    sampleFromLogits({ className: 'Crack', name: 'photo-copy', features: Float32Array.from(crack[42]!), region: 'photo window', backgroundFeatures: new Float32Array(64).fill(40) }, logits(2), classes),
    sampleFromLogits({ className: 'Crack', name: 'photo-unjudged', features: Float32Array.from(crack[43]!), region: 'photo window', backgroundFeatures: null }, logits(2), classes),
  ];
}

describe('evaluateDataset', () => {
  it('per class: the KID, real-vs-real KID and diversity of kid.ts with the shared defaults', async () => {
    const s = samples();
    const ev = await evaluateDataset({ classes, reference: ref, samples: s });
    const c = ev.perClass['Crack']!;
    const f = s.map((x) => x.features);
    const refF = ref.classes['Crack']!.features;
    expect(ev.options).toEqual(EVALUATION_DEFAULTS);
    expect(c.kid).toEqual({ ...kid(f, refF, { subsets: 50, subsetSize: 100, seed: 0 }), against: refF.length });
    expect(c.realKid).toEqual(kid(refF.filter((_, j) => j % 2 === 0), refF.filter((_, j) => j % 2 === 1), { subsets: 50, subsetSize: f.length, seed: 1 }));
    expect(c.diversity).toEqual({ synthetic: meanPairwiseDistance(f), real: meanPairwiseDistance(refF) });
    expect(c.n).toBe(16);
    expect(c.labelConsistency).toBeCloseTo(14 / 16, 12);
    expect(c.predicted).toEqual({ Crack: 14, Break: 2 });
    expect(c.regions).toEqual({ window: 13, 'photo window': 3 });
    expect(ev.perClass['Fray']).toMatchObject({ n: 0, kid: null });
    expect(ev.downstream).toBeNull();
  });

  it('memorisation: a copied window is flagged; a photo item only on its regenerated pixels', async () => {
    const c = (await evaluateDataset({ classes, reference: ref, samples: samples() })).perClass['Crack']!;
    expect(c.memorised.names).toEqual(['copy', 'photo-copy']);
    expect(c.memorised.backgroundNearReal).toEqual(['photo-bg']);
    expect(c.memorised.notJudged).toEqual(['photo-unjudged']);
  });

  it('the downstream check is downstream.ts on the held-out split, wherever it runs', async () => {
    const real = { features: [] as Float32Array[], labels: [] as number[], test: [] as boolean[] };
    classes.forEach((name, ci) => ref.classes[name]!.features.slice(0, 30).forEach((f, k) => {
      real.features.push(f);
      real.labels.push(ci);
      real.test.push(k % 3 === 0);
    }));
    const s = samples();
    let ran = 0;
    const here = await evaluateDataset({ classes, reference: ref, samples: s, real, options: { downstreamSeeds: 2 } });
    const there = await evaluateDataset({ classes, reference: ref, samples: s, real, options: { downstreamSeeds: 2 }, runDownstream: async (i) => (ran++, downstreamCheck(structuredClone(i))) });
    expect(ran).toBe(1);
    expect(there.downstream).toEqual(here.downstream);
    expect(here.downstream).toMatchObject({ nTrain: 120, nTest: 60, nSynthetic: 16, seeds: [0, 1] });
    const none = await evaluateDataset({ classes, reference: ref, samples: s, real: { ...real, test: real.test.map(() => false) } });
    expect(none.downstream).toEqual({ skipped: 'the split left 180 train and 0 held-out real windows; both must be non-empty' });
  });
});
