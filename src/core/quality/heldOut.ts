/**
 * Which real images an evaluation holds out (the downstream check's test side), for the studio and
 * scripts/evaluate.ts alike.
 *
 * The embedded classifier's features are what the downstream check trains and tests on, so an image from a
 * tile group the classifier was trained on must never be a held-out test image (its features would be
 * optimistic). The classifier's manifest records its split (classifierManifest.ts heldOutGroups / trainGroups):
 * - a group the classifier knows goes where the classifier had it: heldOutGroups -> test, trainGroups -> train;
 * - the groups it never saw (a user's own folder) are split among themselves by the training pipeline's rule
 *   (split.ts validationGroups, test fraction and seed), as before;
 * - a manifest without the lists: every group is split by the rule.
 * For the shipped data (training/configs/default.json: val_fraction 0.2, split_seed 0) the rule gives the
 * classifier's own split, so both ways agree there (heldOut.test.ts).
 */
import { validationGroups, type SplitItem } from './split';

export interface ClassifierSplit {
  heldOutGroups: readonly string[] | null;
  trainGroups: readonly string[] | null;
}

export interface HeldOutChoice {
  /** Held-out tile groups of this folder (sorted). */
  heldOutGroups: string[];
  /** How many of the folder's groups the classifier's manifest placed, and how many it never saw (split by the rule). */
  knownGroups: number;
  unknownGroups: number;
  /** 'classifier': every group placed by the classifier's manifest; 'rule': none; 'both': some of each. */
  source: 'classifier' | 'rule' | 'both';
  /** One sentence for a report. */
  text: string;
}

/**
 * items: the folder's images in the classifier's class order (split_by_group walks classes in that order; it
 * matters only for a group shared by two classes).
 */
export function chooseHeldOut(items: readonly SplitItem[], classifier: ClassifierSplit | null, testFraction: number, splitSeed: number): HeldOutChoice {
  const held = new Set(classifier?.heldOutGroups ?? []);
  const trained = new Set(classifier?.trainGroups ?? []);
  const known = (g: string) => held.has(g) || trained.has(g);
  const groups = [...new Set(items.map((i) => i.group))];
  const unknownItems = items.filter((i) => !known(i.group));
  const byRule = unknownItems.length ? validationGroups(unknownItems, testFraction, splitSeed) : new Set<string>();
  const out = groups.filter((g) => held.has(g) || byRule.has(g)).sort();
  const knownGroups = groups.filter(known).length;
  const unknownGroups = groups.length - knownGroups;
  const source = knownGroups === 0 ? 'rule' : unknownGroups === 0 ? 'classifier' : 'both';
  const rule = `split by the training pipeline's rule (test fraction ${testFraction}, split seed ${splitSeed})`;
  const noLists = !classifier?.heldOutGroups ? ' (the classifier manifest does not record its held-out groups)' : '';
  const text =
    source === 'classifier'
      ? `held out: the classifier's own held-out tile groups (${out.length} of its ${held.size} are in this folder); every group here was placed by the classifier's manifest`
      : source === 'rule'
        ? `held out: ${out.length} of ${groups.length} groups, ${rule}: none of them is a group the classifier was trained or validated on${noLists}`
        : `held out: the classifier's held-out groups among the ${knownGroups} groups it knows, and of the ${unknownGroups} groups it never saw, those chosen by the ${rule.replace('split by the ', '')}`;
  return { heldOutGroups: out, knownGroups, unknownGroups, source, text };
}
