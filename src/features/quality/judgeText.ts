/**
 * What the studio says of a model's judge (src/core/quality/judgeChoice.ts): the quality panel, the downstream
 * panel and the model picker's notice use the same words.
 */
import type { LoadedModelInfo } from '../../core/model/protocol';

/** Shown instead of quality numbers when the loaded model has no judge. */
export const NO_JUDGE_SENTENCE =
  'This model has no evaluation classifier of its own classes, so no quality numbers: train one with npm run train, which puts it in the model zip.';

/** The downstream panel's line for a model without a judge (the quality panel above it says the sentence). */
export const NO_JUDGE_DOWNSTREAM = 'No downstream check either: it embeds real and synthetic windows with the model’s judge, and this model has none.';

/** "its own classifier x" / "the embedded classifier x" / null (no judge). */
export function judgeName(q: LoadedModelInfo['quality'] | undefined): string | null {
  if (!q?.enabled || !q.classifierId) return null;
  return `${q.judge === 'own' ? 'its own classifier' : 'the embedded classifier'} ${q.classifierId}`;
}
