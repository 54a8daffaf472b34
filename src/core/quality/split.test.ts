import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { groupScore, validationGroups, type SplitItem } from './split';

interface Case { name: string; valFraction: number; seed: number; items: SplitItem[]; validationGroups: string[] }
const ref = JSON.parse(readFileSync('training/reference/split_reference.json', 'utf8')) as { format: string; version: number; cases: Case[]; dataset?: Case };

describe('split.ts against training/reference/split_reference.json (written by data.py split_by_group)', () => {
  it('is the format this test understands, with the shipped dataset included', () => {
    expect([ref.format, ref.version]).toEqual(['split-reference', 1]);
    expect(ref.dataset?.items.length).toBeGreaterThan(100);
  });
  for (const c of [...ref.cases, ...(ref.dataset ? [ref.dataset] : [])]) {
    it(`${c.name}: the same validation groups`, () => {
      expect([...validationGroups(c.items, c.valFraction, c.seed)].sort()).toEqual(c.validationGroups);
    });
  }
  it('every defect class of the shipped dataset has a held-out group and a training group', () => {
    const d = ref.dataset as Case;
    const val = validationGroups(d.items, d.valFraction, d.seed);
    for (const cls of new Set(d.items.map((i) => i.className))) {
      const groups = d.items.filter((i) => i.className === cls).map((i) => i.group);
      expect(groups.some((g) => val.has(g)), `${cls} held out`).toBe(true);
      expect(groups.some((g) => !val.has(g)), `${cls} trained on`).toBe(true);
    }
  });
  it('scores a group as sha256("<seed>:<group>")[:8] / 0xFFFFFFFF', () => {
    // sha256("0:a") starts 9df3c5fa
    expect(groupScore('a', 0)).toBeCloseTo(0x9df3c5fa / 0xffffffff, 12);
  });
});
