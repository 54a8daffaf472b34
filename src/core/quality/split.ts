/**
 * The held-out split by tile group, written once for TypeScript: training/ddstudio/data.py split_by_group is the
 * other (and the original) copy, and training/reference/split_reference.json, which Python writes
 * (training/make_split_reference.py), pins the two together (split.test.ts). The studio's downstream check and
 * scripts/evaluate.ts use this, so the images they score as held out are from the tile groups the denoiser and
 * the evaluation classifier were NOT trained on (both train on split_by_group's training side).
 *
 * Rule: a group goes to validation when sha256("<seed>:<group>")'s first 8 hex digits / 0xFFFFFFFF fall below
 * valFraction. Then per class, in this order: a class whose groups all went to validation gets its highest-hash
 * group back (every class is trained on); a class with two or more groups and none in validation (when
 * valFraction > 0) sends its lowest-hash group to validation (every such class has a held-out reference).
 * Group membership is global: a group moved for one class moves for every class that has it.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

export interface SplitItem {
  className: string;
  group: string;
}

/** data.py score(): the group's position in [0, 1]. */
export function groupScore(group: string, seed: number): number {
  const hex = bytesToHex(sha256(utf8ToBytes(`${seed}:${group}`))).slice(0, 8);
  return parseInt(hex, 16) / 0xffffffff;
}

/** The validation (held-out) groups of a set of items, exactly as split_by_group chooses them. */
export function validationGroups(items: readonly SplitItem[], valFraction: number, seed: number): Set<string> {
  const score = new Map<string, number>();
  const s = (g: string) => {
    let v = score.get(g);
    if (v === undefined) score.set(g, (v = groupScore(g, seed)));
    return v;
  };
  const val = new Set<string>();
  for (const it of items) if (s(it.group) < valFraction) val.add(it.group);
  // Python iterates classes in index order; class names sort the same way only by first appearance, so keep it.
  const classes: string[] = [];
  const byClass = new Map<string, Set<string>>();
  for (const it of items) {
    if (!byClass.has(it.className)) {
      byClass.set(it.className, new Set());
      classes.push(it.className);
    }
    byClass.get(it.className)?.add(it.group);
  }
  // sorted(groups, key=score): a stable sort of the set's own (insertion) order, as in Python
  const sorted = new Map(classes.map((c) => [c, [...(byClass.get(c) ?? [])].sort((a, b) => s(a) - s(b))]));
  for (const c of classes) {
    const gs = sorted.get(c) ?? [];
    if (gs.length && gs.every((g) => val.has(g))) val.delete(gs[gs.length - 1] as string);
  }
  if (valFraction > 0)
    for (const c of classes) {
      const gs = sorted.get(c) ?? [];
      if (gs.length >= 2 && !gs.some((g) => val.has(g))) val.add(gs[0] as string);
    }
  return val;
}
