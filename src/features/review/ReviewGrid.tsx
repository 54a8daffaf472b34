import { memo, useEffect, useMemo, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { decide, undoLast } from '../../engine';
import { useStudio, visibleItems, type ItemView, type ReviewFilter } from '../../state/store';

const FILTERS: ReviewFilter[] = ['all', 'pending', 'accepted', 'rejected', 'flagged'];

/** One grid cell; memoised so a decision re-renders only the cells whose item or selection changed. */
const Cell = memo(function Cell({ item, selected }: { item: ItemView; selected: boolean }) {
  return (
    <li data-id={item.id} className={`cell ${item.status}${selected ? ' selected' : ''}`} aria-selected={selected}>
      {(item.quality?.flags.length ?? 0) > 0 && (
        <span className="flag" title={`quality flags: ${item.quality?.flags.join(', ')}`} aria-label={`flagged: ${item.quality?.flags.join(', ')}`}>⚑</span>
      )}
      <img className="pixelated" src={item.url} alt={`${item.className} seed ${item.provenance.seed} (${item.status})`} width={96} height={96} loading="lazy" />
      <span className="badge">{item.className} · {item.status}</span>
    </li>
  );
});

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
}

/**
 * The review grid. Keyboard (anywhere outside a text field): A accept, R reject, arrow keys move, U undo.
 * After a decision the selection moves to the next item so a batch can be reviewed with one hand.
 */
export function ReviewGrid() {
  const { items, filter, selectedId, setFilter, select, preview, generating } = useStudio(
    useShallow((s) => ({ items: s.items, filter: s.filter, selectedId: s.selectedId, setFilter: s.setFilter, select: s.select, preview: s.preview, generating: s.status.kind === 'generating' })),
  );
  const shown = useMemo(() => visibleItems(items, filter), [items, filter]);
  const grid = useRef<HTMLUListElement>(null);
  const counts = useMemo(() => {
    const c = { all: items.length, pending: 0, accepted: 0, rejected: 0, flagged: 0 };
    for (const i of items) {
      c[i.status]++;
      if ((i.quality?.flags.length ?? 0) > 0) c.flagged++;
    }
    return c;
  }, [items]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      const s = useStudio.getState();
      const list = visibleItems(s.items, s.filter);
      const idx = list.findIndex((i) => i.id === s.selectedId);
      const cur = list[idx];
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
        if (!cur) return;
        e.preventDefault();
        const verdict = key === 'a' ? 'accepted' : 'rejected';
        void decide([cur.id], verdict);
        // Move on to the next item; if the filter hides the decided one, its neighbour takes its place.
        const stays = s.filter === 'all' || s.filter === verdict;
        s.select(list[idx + 1]?.id ?? (stays ? cur.id : (list[idx - 1]?.id ?? null)));
      } else if (key === 'u') {
        e.preventDefault();
        void undoLast();
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

  return (
    <section className="panel review" aria-label="Review">
      <div className="filters" role="tablist" aria-label="Filter">
        {FILTERS.map((f) => (
          <button key={f} type="button" role="tab" aria-selected={filter === f} className={filter === f ? 'active' : ''} onClick={() => setFilter(f)}>
            {f[0]?.toUpperCase() + f.slice(1)} ({counts[f]})
          </button>
        ))}
        <span className="hint">A accept · R reject · arrows move · U undo</span>
      </div>
      <ul className="grid" ref={grid} aria-label="Generated images"
        onClick={(e) => {
          const id = (e.target as HTMLElement).closest('li[data-id]')?.getAttribute('data-id');
          if (id) select(id);
        }}>
        {generating && preview && (
          <li className="cell preview">
            <img className="pixelated" src={preview} alt="Live preview of the image being generated" width={96} height={96} />
          </li>
        )}
        {shown.map((it) => (
          <Cell key={it.id} item={it} selected={it.id === selectedId} />
        ))}
      </ul>
      {shown.length === 0 && <p className="empty">{items.length === 0 ? 'No images yet: press Generate.' : 'Nothing under this filter.'}</p>}
    </section>
  );
}
