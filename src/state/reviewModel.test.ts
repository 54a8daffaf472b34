import { describe, expect, it } from 'vitest';
import type { DatasetItem } from '../dataset/types';
import type { ImageQuality, QualityFlag } from '../core/quality/imageQuality';
import { cleanReason, maskOutline, rangeIds, rejectReasonCounts, rejectReasons, selectItems, thumbnailCrop } from './reviewModel';

const q = (flags: QualityFlag[], confidence: number, near = 1): ImageQuality => ({
  classifierId: 'c', predictedClass: 'Crack', confidence, requestedProbability: confidence, consistent: true, nearestRefDistance: near,
  memorisationThreshold: 0.5, outlierScore: 0, outlierThreshold: 1, flags, features: [],
});
const mk = (id: string, className: string, status: DatasetItem['status'], quality?: ImageQuality, rejectReason?: string): DatasetItem => ({
  id, createdAt: id, status, decidedAt: null, className, width: 64, height: 64, provenance: {} as DatasetItem['provenance'], citation: '',
  ...(quality ? { quality } : {}), ...(rejectReason ? { rejectReason } : {}),
});

describe('review view', () => {
  const items = [
    mk('1', 'Crack', 'pending', q([], 0.9, 2)),
    mk('2', 'Fray', 'accepted', q(['outlier'], 0.4, 0.6)),
    mk('3', 'Crack', 'rejected', q(['outlier', 'memorised'], 0.7, 0.3)),
    mk('4', 'Crack', 'pending'),
  ];
  const ids = (v: Parameters<typeof selectItems>[1]) => selectItems(items, v).map((i) => i.id);

  it('filters by status, by flag and by class together', () => {
    expect(ids({ filter: 'all', className: null, sort: 'created' })).toEqual(['1', '2', '3', '4']);
    expect(ids({ filter: 'pending', className: 'Crack', sort: 'created' })).toEqual(['1', '4']);
    expect(ids({ filter: 'flagged', className: null, sort: 'created' })).toEqual(['2', '3']);
    expect(ids({ filter: 'flagged', className: 'Fray', sort: 'created' })).toEqual(['2']);
    expect(ids({ filter: 'all', className: 'Blowhole', sort: 'created' })).toEqual([]);
  });

  it('sorts by the quality checks, items without checks last, ties in creation order', () => {
    expect(ids({ filter: 'all', className: null, sort: 'flags' })).toEqual(['3', '2', '1', '4']);
    expect(ids({ filter: 'all', className: null, sort: 'confidence' })).toEqual(['2', '3', '1', '4']);
    expect(ids({ filter: 'all', className: null, sort: 'nearest' })).toEqual(['3', '2', '1', '4']);
  });

  it('gives a shift-click range in list order either way round', () => {
    const list = ['a', 'b', 'c', 'd'].map((id) => ({ id }));
    expect(rangeIds(list, 'b', 'd')).toEqual(['b', 'c', 'd']);
    expect(rangeIds(list, 'd', 'b')).toEqual(['b', 'c', 'd']);
    expect(rangeIds(list, null, 'c')).toEqual(['c']);
    expect(rangeIds(list, 'gone', 'c')).toEqual(['c']);
    expect(rangeIds(list, 'a', 'gone')).toEqual([]);
  });
});

describe('reject reasons', () => {
  it('offers at most 9 per class (keys 1-9), class-specific ones included', () => {
    for (const c of ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Free', 'SomethingElse']) {
      const r = rejectReasons(c);
      expect(r.length).toBeGreaterThanOrEqual(4);
      expect(r.length).toBeLessThanOrEqual(9);
      expect(new Set(r).size).toBe(r.length);
    }
    expect(rejectReasons('Crack')).toContain('Crack broken into pieces');
    expect(rejectReasons('Blowhole')).not.toContain('Crack broken into pieces');
  });

  it('cleans free text (trim, no control characters, 500 at most) and counts per class', () => {
    expect(cleanReason('  too\nblurry\t ')).toBe('too blurry');
    expect(cleanReason('   ')).toBeNull();
    expect(cleanReason('y'.repeat(600))).toHaveLength(500);
    const counts = rejectReasonCounts([mk('1', 'Crack', 'rejected', undefined, 'blurry'), mk('2', 'Crack', 'rejected', undefined, 'blurry'), mk('3', 'Crack', 'rejected'), mk('4', 'Fray', 'accepted', undefined, 'stale')]);
    expect([...(counts.get('Crack') ?? [])]).toEqual([['blurry', 2], ['(no reason)', 1]]);
    expect(counts.has('Fray')).toBe(false);
  });
});

describe('thumbnail crop', () => {
  const photo = (windows: { x: number; y: number; size: number }[]) => ({
    width: 1000, height: 600,
    provenance: { basePhoto: { name: 'p.jpg', sha256: '', width: 1000, height: 600 }, windows: windows.map((w) => ({ ...w, hole: { x0: 0, y0: 0, x1: 1, y1: 1 } })) } as unknown as DatasetItem['provenance'],
  });
  it('shows the whole image of a window item', () => {
    expect(thumbnailCrop({ width: 64, height: 64, provenance: {} as DatasetItem['provenance'] })).toEqual({ x: 0, y: 0, w: 64, h: 64 });
  });
  it('shows the square around the windows of a photo item, kept inside the photo', () => {
    expect(thumbnailCrop(photo([{ x: 100, y: 200, size: 64 }]))).toEqual({ x: 100, y: 200, w: 64, h: 64 });
    expect(thumbnailCrop(photo([{ x: 100, y: 200, size: 64 }, { x: 140, y: 200, size: 64 }]))).toEqual({ x: 100, y: 180, w: 104, h: 104 });
    expect(thumbnailCrop(photo([{ x: 950, y: 560, size: 64 }]))).toEqual({ x: 936, y: 536, w: 64, h: 64 });
  });
});

describe('mask outline', () => {
  it('surrounds a 2x1 mask with edges on its pixel borders, merged into runs', () => {
    const m = new Uint8Array(4 * 3);
    m[1 * 4 + 1] = 1;
    m[1 * 4 + 2] = 1;
    const segs = maskOutline(m, 4, 3);
    expect(segs).toEqual(expect.arrayContaining([[1, 1, 3, 1], [1, 2, 3, 2], [1, 1, 1, 2], [3, 1, 3, 2]]));
    expect(segs).toHaveLength(4);
  });
  it('draws nothing for an empty mask and the border for a full one', () => {
    expect(maskOutline(new Uint8Array(9), 3, 3)).toEqual([]);
    expect(maskOutline(new Uint8Array(9).fill(255), 3, 3)).toHaveLength(4);
  });
});
