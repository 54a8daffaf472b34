import { describe, expect, it } from 'vitest';
import type { QualityFlag } from '../core/quality/imageQuality';
import type { DatasetItem } from '../dataset/types';
import { FLAG_FILTERS, keepsDecided, selectItems } from './reviewModel';

const item = (id: string, status: DatasetItem['status'], flags: QualityFlag[] | null): DatasetItem =>
  ({ id, status, className: 'Crack', ...(flags ? { quality: { flags } } : {}) }) as unknown as DatasetItem;

describe('per-flag review filter', () => {
  const items = [item('a', 'pending', ['memorised']), item('b', 'accepted', ['outlier', 'memorised']), item('c', 'pending', []), item('d', 'rejected', null), item('e', 'pending', ['inconsistent'])];
  const ids = (f: Parameters<typeof selectItems>[1]['filter']) => selectItems(items, { filter: f, className: null, sort: 'created' }).map((i) => i.id);

  it('shows only the items carrying that flag; Flagged is any flag', () => {
    expect(ids('flag:memorised')).toEqual(['a', 'b']);
    expect(ids('flag:outlier')).toEqual(['b']);
    expect(ids('flag:inconsistent')).toEqual(['e']);
    expect(ids('flagged')).toEqual(['a', 'b', 'e']);
    expect(FLAG_FILTERS.map((f) => f.flag)).toEqual(['inconsistent', 'memorised', 'outlier']);
  });

  it('a decision keeps the item listed under a flag filter, not under another status', () => {
    expect(keepsDecided('flag:memorised', 'accepted')).toBe(true);
    expect(keepsDecided('flagged', 'rejected')).toBe(true);
    expect(keepsDecided('pending', 'accepted')).toBe(false);
    expect(keepsDecided('accepted', 'accepted')).toBe(true);
  });
});
