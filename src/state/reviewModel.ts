/**
 * Pure helpers of the review screen (no DOM, no React): which items show and in what order, shift-click
 * ranges, the reject reasons offered per class, the crop a thumbnail shows, and the outline of a mask.
 */
import type { QualityFlag } from '../core/quality/imageQuality';
import type { DatasetItem, ReviewStatus } from '../dataset/types';

/** One quality flag only ('flagged' is any flag). */
export type FlagFilter = `flag:${QualityFlag}`;
export type ReviewFilter = 'all' | ReviewStatus | 'flagged' | FlagFilter;
export const FLAG_FILTERS: readonly { id: FlagFilter; flag: QualityFlag; label: string }[] = [
  { id: 'flag:inconsistent', flag: 'inconsistent', label: 'inconsistent' },
  { id: 'flag:memorised', flag: 'memorised', label: 'memorised' },
  { id: 'flag:outlier', flag: 'outlier', label: 'outlier' },
];

/** A filter under which a decision leaves the item listed (statuses other than its new one hide it). */
export function keepsDecided(filter: ReviewFilter, status: ReviewStatus): boolean {
  return filter === 'all' || filter === status || filter === 'flagged' || filter.startsWith('flag:');
}
/** Grid order: as made, or the items the quality checks worry about most first. */
export type ReviewSort = 'created' | 'flags' | 'confidence' | 'nearest';
export const REVIEW_SORTS: readonly { id: ReviewSort; label: string }[] = [
  { id: 'created', label: 'as made' },
  { id: 'flags', label: 'most flags first' },
  { id: 'confidence', label: 'lowest classifier confidence first' },
  { id: 'nearest', label: 'closest to a real image first' },
];

export interface ReviewView {
  filter: ReviewFilter;
  /** only this class; null: every class */
  className: string | null;
  sort: ReviewSort;
}

const flagCount = (i: DatasetItem) => i.quality?.flags.length ?? 0;

/** Items under a status filter and a class filter, in the chosen order (stable: ties keep creation order). */
export function selectItems<T extends DatasetItem>(items: readonly T[], view: ReviewView): T[] {
  const out = items.filter((i) => {
    if (view.className !== null && i.className !== view.className) return false;
    if (view.filter === 'all') return true;
    if (view.filter === 'flagged') return flagCount(i) > 0;
    const one = FLAG_FILTERS.find((f) => f.id === view.filter);
    if (one) return i.quality?.flags.includes(one.flag) ?? false;
    return i.status === view.filter;
  });
  // Items without quality checks go last under a quality sort: nothing says they need a look first.
  const key: ((i: DatasetItem) => number) | null =
    view.sort === 'flags' ? (i) => -flagCount(i) :
    view.sort === 'confidence' ? (i) => i.quality?.confidence ?? Infinity :
    view.sort === 'nearest' ? (i) => (i.quality ? i.quality.nearestRefDistance / (i.quality.memorisationThreshold || 1) : Infinity) :
    null;
  if (!key) return out;
  return out.map((it, k) => ({ it, k, v: key(it) })).sort((a, b) => a.v - b.v || a.k - b.k).map((e) => e.it);
}

/** Ids from `anchor` to `id` inclusive, in list order (shift-click); just `id` when the anchor is not listed. */
export function rangeIds(list: readonly { id: string }[], anchor: string | null, id: string): string[] {
  const a = anchor === null ? -1 : list.findIndex((i) => i.id === anchor);
  const b = list.findIndex((i) => i.id === id);
  if (b < 0) return [];
  if (a < 0) return [id];
  const [lo, hi] = a <= b ? [a, b] : [b, a];
  return list.slice(lo, hi + 1).map((i) => i.id);
}

/** The longest reject reason kept (the import schema's limit for rejectReason). */
export const MAX_REJECT_REASON = 500;

const COMMON_REASONS = ['No defect visible', 'Wrong defect class', 'Defect outside the mask', 'Unrealistic texture or artefacts'];
const CLASS_REASONS: Record<string, string[]> = {
  Blowhole: ['Hole too large or too many', 'Hole not round / not dark'],
  Break: ['Broken edge looks pasted', 'Break too small to see'],
  Crack: ['Crack broken into pieces', 'Crack too wide or blurred'],
  Fray: ['Fray too regular', 'Fray too faint'],
  Uneven: ['Shading too strong', 'No uneven region, just noise'],
  Free: ['Shows a defect', 'Surface unlike a real tile'],
};

/** The reasons offered for rejecting an item of `className` (keys 1-9 pick them, in this order). */
export function rejectReasons(className: string): string[] {
  return [...COMMON_REASONS, ...(CLASS_REASONS[className] ?? []), 'Duplicate of another image'].slice(0, 9);
}

/** A reason as stored: trimmed, control characters dropped, at most MAX_REJECT_REASON characters; null if empty. */
export function cleanReason(text: string): string | null {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, MAX_REJECT_REASON);
  return s.length ? s : null;
}

/** Rejected items per class and reason ('(no reason)' for those rejected without one). */
export function rejectReasonCounts(items: readonly Pick<DatasetItem, 'status' | 'className' | 'rejectReason'>[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const i of items) {
    if (i.status !== 'rejected') continue;
    const m = out.get(i.className) ?? new Map<string, number>();
    const r = i.rejectReason ?? '(no reason)';
    m.set(r, (m.get(r) ?? 0) + 1);
    out.set(i.className, m);
  }
  return out;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * The part of an item a thumbnail shows: for an item made on a photo, the square around its regenerated windows
 * (the defect and its context) instead of the whole photo; otherwise the whole image.
 */
export function thumbnailCrop(item: Pick<DatasetItem, 'width' | 'height' | 'provenance'>): Box {
  const wins = item.provenance.windows;
  if (!item.provenance.basePhoto || !wins?.length) return { x: 0, y: 0, w: item.width, h: item.height };
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const w of wins) {
    x0 = Math.min(x0, w.x);
    y0 = Math.min(y0, w.y);
    x1 = Math.max(x1, w.x + w.size);
    y1 = Math.max(y1, w.y + w.size);
  }
  const side = Math.min(Math.max(x1 - x0, y1 - y0), item.width, item.height);
  const clamp = (v: number, max: number) => Math.max(0, Math.min(max - side, v));
  return { x: clamp(Math.round((x0 + x1 - side) / 2), item.width), y: clamp(Math.round((y0 + y1 - side) / 2), item.height), w: side, h: side };
}

/**
 * The outline of a 0/non-zero mask as unit pixel edges between a mask pixel and a non-mask one (or the border):
 * [x0, y0, x1, y1] in pixel-corner coordinates. Drawn as lines ON those edges, it surrounds the defect without
 * covering any of its pixels (a fill over the defect hides what the inspector judges). Runs of collinear edges
 * are merged so a large mask gives few segments.
 */
export function maskOutline(mask: ArrayLike<number>, width: number, height: number): [number, number, number, number][] {
  const on = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] !== 0;
  const segs: [number, number, number, number][] = [];
  // Horizontal edges: between row y-1 and row y.
  for (let y = 0; y <= height; y++) {
    let start = -1;
    for (let x = 0; x <= width; x++) {
      const edge = x < width && on(x, y - 1) !== on(x, y);
      if (edge && start < 0) start = x;
      if (!edge && start >= 0) {
        segs.push([start, y, x, y]);
        start = -1;
      }
    }
  }
  // Vertical edges: between column x-1 and column x.
  for (let x = 0; x <= width; x++) {
    let start = -1;
    for (let y = 0; y <= height; y++) {
      const edge = y < height && on(x - 1, y) !== on(x, y);
      if (edge && start < 0) start = y;
      if (!edge && start >= 0) {
        segs.push([x, start, x, y]);
        start = -1;
      }
    }
  }
  return segs;
}
