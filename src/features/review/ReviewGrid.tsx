import { memo, useEffect, useMemo, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { undoLast } from '../../engine';
import { reviewList, useStudio, type ItemView, type ReviewFilter, type ReviewSort } from '../../state/store';
import { reasonsForTargets, review } from './reviewActions';
import { FLAG_FILTERS, rangeIds, REVIEW_SORTS, thumbnailCrop, type FlagFilter } from '../../state/reviewModel';

const FILTERS: ReviewFilter[] = ['all', 'pending', 'accepted', 'rejected', 'flagged'];
const NO_CLASSES: readonly string[] = [];
const THUMB = 96;

/** A thumbnail: the whole window, or for an item made on a photo the square around its defect. */
function Thumb({ item }: { item: ItemView }) {
  const c = thumbnailCrop(item);
  const alt = `${item.className} seed ${item.provenance.seed} (${item.status})`;
  if (c.w === item.width && c.h === item.height) return <img className="pixelated" src={item.url} alt={alt} width={THUMB} height={THUMB} loading="lazy" />;
  const s = THUMB / c.w;
  return (
    <span className="thumb-crop" role="img" aria-label={`${alt}, defect region`}>
      <img className="pixelated" src={item.url} alt="" loading="lazy"
        style={{ width: item.width * s, height: item.height * s, left: -c.x * s, top: -c.y * s }} />
    </span>
  );
}

/** One grid cell; memoised so a decision re-renders only the cells whose item or selection changed. */
const Cell = memo(function Cell({ item, selected, checked }: { item: ItemView; selected: boolean; checked: boolean }) {
  return (
    <li data-id={item.id} className={`cell ${item.status}${selected ? ' selected' : ''}${checked ? ' checked' : ''}`} aria-selected={selected || checked}
      title={item.rejectReason ? `rejected: ${item.rejectReason}` : undefined}>
      {(item.quality?.flags.length ?? 0) > 0 && (
        <span className="flag" title={`quality flags: ${item.quality?.flags.join(', ')}`} aria-label={`flagged: ${item.quality?.flags.join(', ')}`}>!</span>
      )}
      {checked && <span className="tick" aria-hidden="true">✓</span>}
      <Thumb item={item} />
      <span className="badge">{item.className} · {item.status}</span>
    </li>
  );
});

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
}

/**
 * The review grid. Keyboard (anywhere outside a text field): A accept, R reject, 1-9 reject with that reason,
 * arrow keys move, U undo, Ctrl+A select all shown, Esc clear the selection. A decision applies to the bulk
 * selection when there is one (shift-click a range, Ctrl-click to add), else to the selected item, and the
 * selection then moves to the next item.
 */
export function ReviewGrid() {
  const { items, filter, classFilter, sort, selectedId, checked, setFilter, setClassFilter, setSort, select, setChecked, preview, generating, classes } = useStudio(
    useShallow((s) => ({
      items: s.items, filter: s.filter, classFilter: s.classFilter, sort: s.sort, selectedId: s.selectedId, checked: s.checked,
      setFilter: s.setFilter, setClassFilter: s.setClassFilter, setSort: s.setSort, select: s.select, setChecked: s.setChecked,
      preview: s.preview, generating: s.status.kind === 'generating', classes: s.model?.manifest.classes ?? NO_CLASSES,
    })),
  );
  const shown = useMemo(() => reviewList({ items, filter, classFilter, sort }), [items, filter, classFilter, sort]);
  const checkedSet = useMemo(() => new Set(checked), [checked]);
  const grid = useRef<HTMLUListElement>(null);
  const counts = useMemo(() => {
    const c = { all: 0, pending: 0, accepted: 0, rejected: 0, flagged: 0, 'flag:inconsistent': 0, 'flag:memorised': 0, 'flag:outlier': 0 };
    for (const i of items) {
      if (classFilter !== null && i.className !== classFilter) continue;
      c.all++;
      c[i.status]++;
      if ((i.quality?.flags.length ?? 0) > 0) c.flagged++;
      for (const f of i.quality?.flags ?? []) c[`flag:${f}`]++;
    }
    return c;
  }, [items, classFilter]);
  const classOptions = useMemo(() => [...new Set([...classes, ...items.map((i) => i.className)])], [classes, items]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.altKey) return;
      const s = useStudio.getState();
      const list = reviewList(s);
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'a') {
        e.preventDefault();
        s.setChecked(list.map((i) => i.id));
        return;
      }
      if (e.ctrlKey || e.metaKey) return;
      const idx = list.findIndex((i) => i.id === s.selectedId);
      const cols = (() => {
        const g = grid.current;
        const first = g?.firstElementChild as HTMLElement | null;
        if (!g || !first) return 1;
        return Math.max(1, Math.floor(g.clientWidth / first.offsetWidth));
      })();
      const move = (d: number) => {
        const next = list[Math.min(list.length - 1, Math.max(0, (idx < 0 ? 0 : idx) + d))];
        if (next) s.select(next.id);
      };
      const key = e.key.toLowerCase();
      if (key === 'a' || key === 'r') {
        e.preventDefault();
        review(key === 'a' ? 'accepted' : 'rejected');
      } else if (/^[1-9]$/.test(e.key)) {
        const reason = reasonsForTargets()[Number(e.key) - 1];
        if (!reason) return;
        e.preventDefault();
        review('rejected', reason);
      } else if (key === 'u') {
        e.preventDefault();
        void undoLast();
      } else if (e.key === 'Escape') {
        s.setChecked([]);
      } else if (e.key === 'ArrowRight') {
        e.preventDefault();
        move(1);
      } else if (e.key === 'ArrowLeft') {
        e.preventDefault();
        move(-1);
      } else if (e.key === 'ArrowDown') {
        e.preventDefault();
        move(cols);
      } else if (e.key === 'ArrowUp') {
        e.preventDefault();
        move(-cols);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (!selectedId) return;
    grid.current?.querySelector(`[data-id="${CSS.escape(selectedId)}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [selectedId]);

  // While the first image is made, the live preview is the grid's content: no "no images" under it.
  const emptyText = generating && items.length === 0 ? (preview ? null : 'Making the first image…') : items.length === 0 ? 'No images yet: press Generate.' : 'Nothing under this filter.';
  return (
    <section className="panel review" aria-label="Review">
      <div className="filters" role="tablist" aria-label="Filter">
        {FILTERS.map((f) => (
          <button key={f} type="button" role="tab" aria-selected={filter === f || (f === 'flagged' && filter.startsWith('flag:'))}
            className={filter === f || (f === 'flagged' && filter.startsWith('flag:')) ? 'active small' : 'small'} onClick={() => setFilter(f)}>
            {f[0]?.toUpperCase() + f.slice(1)} ({counts[f]})
          </button>
        ))}
      </div>
      <div className="filters">
        <label className="inline">
          Class
          <select aria-label="Class filter" value={classFilter ?? ''} onChange={(e) => setClassFilter(e.target.value || null)}>
            <option value="">all classes</option>
            {classOptions.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
        </label>
        <label className="inline" title="Only images with this quality flag: inconsistent (the classifier calls another class), memorised (near a real image), outlier (unlike the real images of the class)">
          Flag
          <select aria-label="Flag filter" value={filter === 'flagged' || filter.startsWith('flag:') ? filter : ''}
            onChange={(e) => setFilter((e.target.value || 'all') as 'all' | 'flagged' | FlagFilter)}>
            <option value="">none</option>
            <option value="flagged">any flag ({counts.flagged})</option>
            {FLAG_FILTERS.map((f) => <option key={f.id} value={f.id}>{f.label} ({counts[f.id]})</option>)}
          </select>
        </label>
        <label className="inline">
          Sort
          <select aria-label="Sort" value={sort} onChange={(e) => setSort(e.target.value as ReviewSort)}>
            {REVIEW_SORTS.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
          </select>
        </label>
        <button type="button" className="small" onClick={() => setChecked(shown.map((i) => i.id))} disabled={shown.length === 0}>Select all ({shown.length})</button>
      </div>
      {checked.length > 0 && (
        <div className="bulk" role="group" aria-label="Bulk review">
          <b>{checked.length} selected</b>
          <button type="button" className="small" onClick={() => review('accepted')}>Accept {checked.length}</button>
          <button type="button" className="small" onClick={() => review('rejected')}>Reject {checked.length}</button>
          <button type="button" className="small" onClick={() => setChecked([])}>Clear selection</button>
        </div>
      )}
      <p className="hint">A accept · R reject · 1-9 reject with a reason · arrows move · U undo · shift-click a range · Ctrl+A all</p>
      <ul className="grid" ref={grid} aria-label="Generated images"
        onClick={(e) => {
          const id = (e.target as HTMLElement).closest('li[data-id]')?.getAttribute('data-id');
          if (!id) return;
          const s = useStudio.getState();
          if (e.shiftKey) {
            e.preventDefault();
            s.setChecked(rangeIds(reviewList(s), s.selectedId, id));
          } else if (e.ctrlKey || e.metaKey) {
            const base = s.checked.length ? s.checked : s.selectedId ? [s.selectedId] : [];
            s.setChecked(base.includes(id) ? base.filter((x) => x !== id) : [...base, id]);
            select(id);
          } else {
            if (s.checked.length) s.setChecked([]);
            select(id);
          }
        }}>
        {generating && preview && (
          <li className="cell preview">
            <img className="pixelated" src={preview} alt="Live preview of the image being generated" width={THUMB} height={THUMB} />
          </li>
        )}
        {shown.map((it) => (
          <Cell key={it.id} item={it} selected={it.id === selectedId} checked={checkedSet.has(it.id)} />
        ))}
      </ul>
      {shown.length === 0 && emptyText && <p className="empty">{emptyText}</p>}
    </section>
  );
}
