/** Per-class and macro F1 of predicted labels. */
import { StudioError } from '../errors';


/**
 * F1 per class = 2TP / (2TP + FP + FN). A class with no true samples gets null (its F1 is undefined on this
 * test set; predictions of it still count as false negatives of the true classes).
 */
export function f1PerClass(pred: readonly number[], truth: readonly number[], classes: number): (number | null)[] {
  if (pred.length !== truth.length) throw new StudioError('badRequest', `f1PerClass: ${pred.length} predictions but ${truth.length} labels`);
  const tp = new Array<number>(classes).fill(0);
  const fp = new Array<number>(classes).fill(0);
  const fn = new Array<number>(classes).fill(0);
  const support = new Array<number>(classes).fill(0);
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] as number;
    const t = truth[i] as number;
    support[t] = (support[t] as number) + 1;
    if (p === t) tp[t] = (tp[t] as number) + 1;
    else {
      if (p >= 0 && p < classes) fp[p] = (fp[p] as number) + 1;
      fn[t] = (fn[t] as number) + 1;
    }
  }
  return tp.map((t, c) => ((support[c] as number) === 0 ? null : (2 * t) / (2 * t + (fp[c] as number) + (fn[c] as number))));
}

/** Mean of the non-null per-class F1 values (classes absent from the test set are left out); NaN if none. */
export function macroF1(f1: readonly (number | null)[]): number {
  const v = f1.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}
