import { useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { CLASSIFIER_ID, modelBaseUrl } from '../../config';
import { kid, meanPairwiseDistance, parseReferenceFeatures, type ReferenceFeatures } from '../../core/quality';
import { useStudio } from '../../state/store';
import { DownstreamPanel } from './DownstreamPanel';

interface Row {
  cls: string;
  n: number;
  target: number;
  consistency: number | null;
  kid: { mean: number; std: number } | null;
  diversity: number | null;
  realDiversity: number | null;
}

const NO_CLASSES: readonly string[] = [];

/** Horizontal bar with a label; value in [0, max]. */
function Bar({ value, max, color, label }: { value: number; max: number; color: string; label: string }) {
  const w = 120;
  return (
    <svg width={w + 60} height={14} role="img" aria-label={label}>
      <rect x={0} y={2} width={w} height={10} fill="#f3f4f6" />
      <rect x={0} y={2} width={Math.max(0, Math.min(1, value / max)) * w} height={10} fill={color} />
      <text x={w + 4} y={11} fontSize={10}>{label}</text>
    </svg>
  );
}

/**
 * Per-class quality of the ACCEPTED images, on the embedded classifier's features: label consistency, KID
 * (unbiased, polynomial kernel; mean ± std over subsets) against the shipped real reference features,
 * diversity (mean pairwise feature distance) next to the real data's, accepted versus target. Recomputed as
 * items are accepted, only while the panel is open.
 */
export function QualityPanel() {
  const { items, classes, targets, qualityInfo } = useStudio(
    useShallow((s) => ({ items: s.items, classes: s.model?.manifest.classes ?? NO_CLASSES, targets: s.settings.targets, qualityInfo: s.model?.quality })),
  );
  const [open, setOpen] = useState(false);
  const [ref, setRef] = useState<ReferenceFeatures | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    if (!open || ref) return;
    fetch(`${modelBaseUrl(CLASSIFIER_ID)}/reference_features.json`)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((j) => setRef(parseReferenceFeatures(j)), (e: Error) => setErr(`reference features not available: ${e.message}`));
  }, [open, ref]);

  const rows: Row[] = useMemo(() => {
    if (!open || !ref) return [];
    return classes.map((cls) => {
      const acc = items.filter((i) => i.className === cls && i.status === 'accepted' && i.quality);
      const feats = acc.map((i) => Float32Array.from(i.quality?.features ?? []));
      const real = ref.classes[cls]?.features ?? [];
      return {
        cls,
        n: acc.length,
        target: targets[cls] ?? 0,
        consistency: acc.length ? acc.filter((i) => i.quality?.consistent).length / acc.length : null,
        kid: feats.length >= 2 && real.length >= 2 ? kid(feats, real, { subsets: 20, subsetSize: 50, seed: 0 }) : null,
        diversity: feats.length >= 2 ? meanPairwiseDistance(feats) : null,
        realDiversity: real.length >= 2 ? meanPairwiseDistance(real) : null,
      };
    });
  }, [open, ref, items, classes, targets]);
  const kidMax = Math.max(1e-6, ...rows.map((r) => (r.kid ? r.kid.mean + r.kid.std : 0)));
  const divMax = Math.max(1e-6, ...rows.flatMap((r) => [r.diversity ?? 0, r.realDiversity ?? 0]));

  return (
    <section className="panel quality" aria-label="Quality">
      <details open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
        <summary>Quality of accepted images</summary>
        {!qualityInfo?.enabled && <p className="empty">Per-image checks are off: {qualityInfo?.reason ?? 'no model loaded'}.</p>}
        {err && <p className="empty">{err}</p>}
        {open && ref && (
          <table className="quality-table" data-testid="quality-table">
            <thead>
              <tr><th>class</th><th>accepted / target</th><th>label consistency</th><th>KID to real (lower is closer)</th><th>diversity (generated / real)</th></tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.cls}>
                  <td>{r.cls}</td>
                  <td><Bar value={r.n} max={Math.max(1, r.target, r.n)} color="#3b82f6" label={`${r.n} / ${r.target}`} /></td>
                  <td>{r.consistency === null ? '—' : <Bar value={r.consistency} max={1} color="#16a34a" label={`${(r.consistency * 100).toFixed(0)}%`} />}</td>
                  <td>{r.kid === null ? 'needs ≥ 2' : <Bar value={r.kid.mean} max={kidMax} color="#dc2626" label={`${r.kid.mean.toFixed(3)} ± ${r.kid.std.toFixed(3)}`} />}</td>
                  <td>
                    {r.diversity === null ? '—' : <Bar value={r.diversity} max={divMax} color="#7c3aed" label={`${r.diversity.toFixed(2)}`} />}
                    {r.realDiversity !== null && <Bar value={r.realDiversity} max={divMax} color="#9ca3af" label={`real ${r.realDiversity.toFixed(2)}`} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="empty">
          Measured with the embedded classifier {CLASSIFIER_ID} (its features, not Inception: not comparable with published FID/KID). The same
          numbers for an exported dataset from the command line: <code>npm run evaluate -- --dataset export.zip --real &lt;folder&gt;</code>.
        </p>
        {open && qualityInfo?.enabled && <DownstreamPanel />}
      </details>
    </section>
  );
}
