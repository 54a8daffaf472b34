import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseClassifierManifest } from './classifierManifest';
import { chooseHeldOut } from './heldOut';
import { validationGroups, type SplitItem } from './split';

const manifest = parseClassifierManifest(JSON.parse(readFileSync('public/models/magtile-classifier-64/manifest.json', 'utf8')));
// The shipped dataset's items and groups in class order, as data.py listed them (written by make_split_reference.py).
const shipped = (JSON.parse(readFileSync('training/reference/split_reference.json', 'utf8')) as { dataset: { items: SplitItem[] } }).dataset.items;

describe('held-out groups', () => {
  it('the shipped classifier records its split: 26 held-out groups, disjoint from its training groups', () => {
    expect(manifest.heldOutGroups).toHaveLength(26);
    expect(manifest.trainGroups?.some((g) => manifest.heldOutGroups?.includes(g))).toBe(false);
  });

  it('for the shipped data, the evaluation holds out exactly the classifier\'s held-out groups, which are also the split rule\'s', () => {
    const c = chooseHeldOut(shipped, manifest, 0.2, 0);
    expect(c.source).toBe('classifier');
    expect(c.heldOutGroups).toEqual(manifest.heldOutGroups);
    expect([...validationGroups(shipped, 0.2, 0)].sort()).toEqual(manifest.heldOutGroups);
    // other flags do not move a group the classifier was trained on to the test side
    expect(chooseHeldOut(shipped, manifest, 0.5, 3).heldOutGroups).toEqual(manifest.heldOutGroups);
  });

  it('a subset of the shipped data holds out only the classifier\'s held-out groups among it (the rule alone would hold out trained ones)', () => {
    const byClass = new Map<string, SplitItem[]>();
    for (const it of shipped) byClass.set(it.className, [...(byClass.get(it.className) ?? []), it]);
    const subset = [...byClass.values()].flatMap((l) => [0, 1, 2, 3, 4, 5, 6, 7].map((k) => l[Math.floor((k * l.length) / 8)] as SplitItem));
    const c = chooseHeldOut(subset, manifest, 0.2, 0);
    expect(c.source).toBe('classifier');
    expect(c.heldOutGroups.length).toBeGreaterThan(0);
    for (const g of c.heldOutGroups) expect(manifest.heldOutGroups).toContain(g);
    const rule = [...validationGroups(subset, 0.2, 0)];
    expect(rule.some((g) => manifest.trainGroups?.includes(g))).toBe(true);
  });

  it('a user\'s own folder (groups the classifier never saw) is split by the rule, as before', () => {
    const own: SplitItem[] = ['A', 'B'].flatMap((c) => Array.from({ length: 12 }, (_, k) => ({ className: c, group: `mine-${c}-${k}` })));
    const c = chooseHeldOut(own, manifest, 0.2, 0);
    expect(c.source).toBe('rule');
    expect(c.heldOutGroups).toEqual([...validationGroups(own, 0.2, 0)].sort());
    expect(c.text).toMatch(/none of them is a group the classifier was trained or validated on/);
    // and a classifier manifest without the lists splits everything by the rule
    expect(chooseHeldOut(shipped, { heldOutGroups: null, trainGroups: null }, 0.2, 0).source).toBe('rule');
  });

  it('a mixed folder: known groups where the classifier had them, unknown ones by the rule among themselves', () => {
    const own: SplitItem[] = Array.from({ length: 20 }, (_, k) => ({ className: 'Crack', group: `mine-${k}` }));
    const mixed = [...shipped.filter((i) => i.className === 'Crack'), ...own];
    const c = chooseHeldOut(mixed, manifest, 0.2, 0);
    expect(c.source).toBe('both');
    const ownHeld = [...validationGroups(own, 0.2, 0)];
    const crackHeld = manifest.heldOutGroups?.filter((g) => shipped.some((i) => i.className === 'Crack' && i.group === g)) ?? [];
    expect(c.heldOutGroups).toEqual([...crackHeld, ...ownHeld].sort());
  });

  it('a manifest with a group on both sides is refused', () => {
    const raw = JSON.parse(readFileSync('public/models/magtile-classifier-64/manifest.json', 'utf8'));
    expect(() => parseClassifierManifest({ ...raw, trainGroups: [...raw.trainGroups, raw.heldOutGroups[0]] })).toThrow(/heldOutGroups" and trainGroups share/);
    expect(() => parseClassifierManifest({ ...raw, heldOutGroups: 'x' })).toThrow(/heldOutGroups" must be a list/);
  });
});
