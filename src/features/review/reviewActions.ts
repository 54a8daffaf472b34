/**
 * Review actions shared by the grid's keys and the detail view's buttons: a decision applies to the bulk
 * selection when there is one (and clears it), else to the selected item, and then moves on to the next item so
 * a batch is reviewed with one hand.
 */
import type { ReviewStatus } from '../../dataset/types';
import { decide } from '../../engine';
import { reviewList, useStudio } from '../../state/store';
import { keepsDecided, rejectReasons } from '../../state/reviewModel';

/** The ids a decision applies to now: the bulk selection, else the selected item (if it is in the list). */
export function reviewTargets(): string[] {
  const s = useStudio.getState();
  if (s.checked.length) return [...s.checked];
  return s.selectedId && s.items.some((i) => i.id === s.selectedId) ? [s.selectedId] : [];
}

/** The reasons offered for the current targets: their class's list, or the common ones when classes are mixed. */
export function reasonsForTargets(): string[] {
  const s = useStudio.getState();
  const ids = new Set(reviewTargets());
  const classes = new Set(s.items.filter((i) => ids.has(i.id)).map((i) => i.className));
  return rejectReasons(classes.size === 1 ? ([...classes][0] as string) : '');
}

export function review(status: ReviewStatus, rejectReason?: string): void {
  const s = useStudio.getState();
  const ids = reviewTargets();
  if (!ids.length) return;
  void decide(ids, status, rejectReason);
  if (s.checked.length) {
    s.setChecked([]);
    return;
  }
  // Move on to the next item; if the filter hides the decided one, its neighbour takes its place.
  const list = reviewList(s);
  const idx = list.findIndex((i) => i.id === s.selectedId);
  const cur = list[idx];
  if (!cur) return;
  const stays = keepsDecided(s.filter, status);
  s.select(list[idx + 1]?.id ?? (stays ? cur.id : (list[idx - 1]?.id ?? null)));
}
