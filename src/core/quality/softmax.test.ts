import { describe, expect, it } from 'vitest';
import { Rng } from '../diffusion/rng';
import { argmax, trainSoftmax } from './softmax';
import { f1PerClass, macroF1 } from './f1';

describe('softmax regression and F1', () => {
  it('learns a linearly separable toy problem (accuracy 1) deterministically', () => {
    const rng = new Rng(4);
    const f: Float32Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < 90; i++) {
      const c = i % 3;
      const v = Float32Array.from({ length: 2 }, () => rng.nextFloat() * 0.8);
      // class 0: x0 < 1 and x1 < 1; class 1: x0 shifted by +2; class 2: x1 shifted by +2
      if (c === 1) v[0] = v[0]! + 2;
      if (c === 2) v[1] = v[1]! + 2;
      f.push(v);
      y.push(c);
    }
    const model = trainSoftmax(f, y, 3, { epochs: 300, lr: 0.5, l2: 0, seed: 1 });
    const pred = f.map((v) => argmax(model(v)));
    expect(pred).toEqual(y);
    const p = model(f[0]!);
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    const again = trainSoftmax(f, y, 3, { epochs: 300, lr: 0.5, l2: 0, seed: 1 });
    expect(again(f[5]!)).toEqual(model(f[5]!));
  });

  it('F1 known answers', () => {
    // truth 0 0 0 1 1 2; pred 0 0 1 1 2 2
    // class 0: TP 2 FP 0 FN 1 -> 4/5; class 1: TP 1 FP 1 FN 1 -> 2/4; class 2: TP 1 FP 1 FN 0 -> 2/3
    const f1 = f1PerClass([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 2], 4);
    expect(f1[0]).toBeCloseTo(0.8, 12);
    expect(f1[1]).toBeCloseTo(0.5, 12);
    expect(f1[2]).toBeCloseTo(2 / 3, 12);
    expect(f1[3]).toBeNull(); // no true samples of class 3
    expect(macroF1(f1)).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(f1PerClass([1, 1], [0, 0], 2)).toEqual([0, null]);
  });
});

