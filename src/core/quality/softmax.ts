/** Multinomial logistic regression on classifier features (the downstream check's model). */
import { StudioError } from '../errors';
import { Rng } from '../diffusion/rng';
import { dim, type Features, type Row } from './features';

export interface SoftmaxOptions {
  epochs: number;
  lr: number;
  /** L2 penalty on the weights (not the biases): loss + l2/2 |W|^2. */
  l2: number;
  seed: number;
}

/**
 * Multinomial logistic regression trained by full-batch gradient descent on the mean cross-entropy.
 * Inputs are standardised with the training set's per-dimension mean and std (std < 1e-8 -> 1), weights start at
 * N(0, 0.01^2) from Rng(seed), biases at 0. Deterministic for a given seed. Returns f -> class probabilities.
 */
export function trainSoftmax(features: Features, labels: readonly number[], classes: number, opts: SoftmaxOptions): (f: Row) => number[] {
  const n = features.length;
  if (n === 0) throw new StudioError('badRequest', 'trainSoftmax: no training samples');
  if (labels.length !== n) throw new StudioError('badRequest', `trainSoftmax: ${n} feature rows but ${labels.length} labels`);
  for (const y of labels) if (!Number.isInteger(y) || y < 0 || y >= classes) throw new StudioError('badRequest', `trainSoftmax: label ${y} is not in [0, ${classes})`);
  const d = dim(features, 'features');
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const r of features) for (let k = 0; k < d; k++) mu[k] = (mu[k] as number) + (r[k] as number) / n;
  for (const r of features)
    for (let k = 0; k < d; k++) {
      const t = (r[k] as number) - (mu[k] as number);
      sd[k] = (sd[k] as number) + (t * t) / n;
    }
  for (let k = 0; k < d; k++) sd[k] = (sd[k] as number) < 1e-16 ? 1 : Math.sqrt(sd[k] as number);
  const X = features.map((r) => {
    const z = new Float64Array(d);
    for (let k = 0; k < d; k++) z[k] = ((r[k] as number) - (mu[k] as number)) / (sd[k] as number);
    return z;
  });
  const rng = new Rng(opts.seed);
  const W = new Float64Array(classes * d);
  for (let i = 0; i < W.length; i++) W[i] = 0.01 * rng.gaussian();
  const b = new Float64Array(classes);
  const gW = new Float64Array(classes * d);
  const gb = new Float64Array(classes);
  const p = new Float64Array(classes);

  const probs = (z: Float64Array, out: Float64Array): void => {
    let mx = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = b[c] as number;
      const o = c * d;
      for (let k = 0; k < d; k++) s += (W[o + k] as number) * (z[k] as number);
      out[c] = s;
      if (s > mx) mx = s;
    }
    let tot = 0;
    for (let c = 0; c < classes; c++) {
      out[c] = Math.exp((out[c] as number) - mx);
      tot += out[c] as number;
    }
    for (let c = 0; c < classes; c++) out[c] = (out[c] as number) / tot;
  };

  for (let e = 0; e < opts.epochs; e++) {
    gW.fill(0);
    gb.fill(0);
    for (let i = 0; i < n; i++) {
      const z = X[i] as Float64Array;
      probs(z, p);
      p[labels[i] as number] = (p[labels[i] as number] as number) - 1;
      for (let c = 0; c < classes; c++) {
        const g = (p[c] as number) / n;
        if (g === 0) continue;
        gb[c] = (gb[c] as number) + g;
        const o = c * d;
        for (let k = 0; k < d; k++) gW[o + k] = (gW[o + k] as number) + g * (z[k] as number);
      }
    }
    for (let i = 0; i < W.length; i++) W[i] = (W[i] as number) - opts.lr * ((gW[i] as number) + opts.l2 * (W[i] as number));
    for (let c = 0; c < classes; c++) b[c] = (b[c] as number) - opts.lr * (gb[c] as number);
  }
  return (f: Row) => {
    if (f.length !== d) throw new StudioError('badRequest', `classifier expects ${d}-dim features, got ${f.length}`);
    const z = new Float64Array(d);
    for (let k = 0; k < d; k++) z[k] = ((f[k] as number) - (mu[k] as number)) / (sd[k] as number);
    const out = new Float64Array(classes);
    probs(z, out);
    return Array.from(out);
  };
}

export function argmax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if ((v[i] as number) > (v[best] as number)) best = i;
  return best;
}
