import { useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { judgeData } from '../../engine';
import { parseClassifierManifest } from '../../core/quality/classifierManifest';
import { parseReferenceFeatures } from '../../core/quality/features';
import { evaluateDataset, EVALUATION_DEFAULTS } from '../../core/quality/evaluateDataset';
import { useStudio } from '../../state/store';
import { DownstreamPanel, type ActiveJudge } from './DownstreamPanel';
import { judgeName, NO_JUDGE_SENTENCE } from './judgeText';
import { qualityRows, studioSamples, type QualityRow } from './studioEvaluation';

type Row = QualityRow;

const NO_CLASSES: readonly string[] = [];
const fmt = (v: number, d = 3) => (v < 0 ? `−${(-v).toFixed(d)}` : v.toFixed(d));

/** A nice step for an axis from lo to hi with about `n` ticks. */
function ticks(lo: number, hi: number, n = 4): number[] {
  const raw = (hi - lo) / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Math.abs(v) < step / 1e6 ? 0 : v);
  return out;
}

const LABEL_W = 62;
const PLOT_W = 200;
const ROW_H = 20;

/** Per-class dot-and-whisker plot on a shared axis, with a zero line and a per-class reference band. */
function KidPlot({ rows }: { rows: Row[] }) {
  const vals = rows.flatMap((r) => [r.kid ? [r.kid.mean - r.kid.std, r.kid.mean + r.kid.std] : [], r.realKid ? [r.realKid.mean - r.realKid.std, r.realKid.mean + r.realKid.std] : []].flat());
  const lo = Math.min(0, ...vals);
  const hi = vals.length ? Math.max(1e-3, ...vals) : 0.1;
  const x = (v: number) => LABEL_W + ((v - lo) / (hi - lo)) * PLOT_W;
  const h = rows.length * ROW_H + 30;
  return (
    <svg className="plot" width={LABEL_W + PLOT_W + 16} height={h} role="img" aria-label="KID to real per class: dot is the mean, whiskers the spread over subsets, grey band the real-vs-real reference">
      {ticks(lo, hi).map((t) => (
        <g key={t}>
          <line x1={x(t)} x2={x(t)} y1={0} y2={rows.length * ROW_H} stroke={t === 0 ? '#374151' : '#e5e7eb'} strokeWidth={t === 0 ? 1 : 1} />
          <text x={x(t)} y={rows.length * ROW_H + 12} fontSize={10} textAnchor="middle">{fmt(t, 2)}</text>
        </g>
      ))}
      <text x={LABEL_W + PLOT_W / 2} y={h - 4} fontSize={10} textAnchor="middle" fill="#4b5563">KID (lower is closer to real; below 0: indistinguishable)</text>
      {rows.map((r, i) => {
        const y = i * ROW_H + ROW_H / 2;
        return (
          <g key={r.cls}>
            <text x={0} y={y + 4} fontSize={11}>{r.cls}</text>
            {r.realKid && <rect x={x(r.realKid.mean - r.realKid.std)} y={y - 6} width={Math.max(1, x(r.realKid.mean + r.realKid.std) - x(r.realKid.mean - r.realKid.std))} height={12} fill="#d1d5db" />}
            {r.realKid && <line x1={x(r.realKid.mean)} x2={x(r.realKid.mean)} y1={y - 7} y2={y + 7} stroke="#6b7280" strokeWidth={2} />}
            {r.kid ? (
              <>
                <line x1={x(r.kid.mean - r.kid.std)} x2={x(r.kid.mean + r.kid.std)} y1={y} y2={y} stroke="#dc2626" strokeWidth={1.5} />
                <circle cx={x(r.kid.mean)} cy={y} r={3.5} fill="#dc2626" />
              </>
            ) : <text x={LABEL_W + 4} y={y + 4} fontSize={10} fill="#6b7280">needs ≥ 2 accepted</text>}
          </g>
        );
      })}
    </svg>
  );
}

/** Per-class diversity bars (generated) with the real data's diversity as a line on each. */
function DiversityPlot({ rows }: { rows: Row[] }) {
  const max = Math.max(1e-6, ...rows.flatMap((r) => [r.diversity ?? 0, r.realDiversity ?? 0])) * 1.05;
  const x = (v: number) => LABEL_W + (v / max) * PLOT_W;
  const h = rows.length * ROW_H + 30;
  return (
    <svg className="plot" width={LABEL_W + PLOT_W + 16} height={h} role="img" aria-label="Diversity per class: bar is the accepted images, grey line the real images">
      {ticks(0, max).map((t) => (
        <g key={t}>
          <line x1={x(t)} x2={x(t)} y1={0} y2={rows.length * ROW_H} stroke={t === 0 ? '#374151' : '#e5e7eb'} />
          <text x={x(t)} y={rows.length * ROW_H + 12} fontSize={10} textAnchor="middle">{t.toFixed(1)}</text>
        </g>
      ))}
      <text x={LABEL_W + PLOT_W / 2} y={h - 4} fontSize={10} textAnchor="middle" fill="#4b5563">mean pairwise feature distance</text>
      {rows.map((r, i) => {
        const y = i * ROW_H + ROW_H / 2;
        return (
          <g key={r.cls}>
            <text x={0} y={y + 4} fontSize={11}>{r.cls}</text>
            {r.diversity !== null && <rect x={LABEL_W} y={y - 5} width={x(r.diversity) - LABEL_W} height={10} fill="#7c3aed" />}
            {r.realDiversity !== null && <line x1={x(r.realDiversity)} x2={x(r.realDiversity)} y1={y - 8} y2={y + 8} stroke="#374151" strokeWidth={2} />}
          </g>
        );
      })}
    </svg>
  );
}

/**
 * Per-class quality of the ACCEPTED images, on the features of the loaded model's judge (its own classifier, or
 * the embedded one for the embedded models and models trained on its data; src/core/quality/judgeChoice.ts):
 * label consistency, KID
 * (unbiased, polynomial kernel; mean ± std over subsets) against the shipped real reference features with the
 * real-vs-real KID at the same subset size as reference, diversity (mean pairwise feature distance) against the
 * real data's, accepted versus target. Computed only while the panel is shown (`open`). A model without a judge
 * gets one sentence instead of numbers.
 */
export function QualityPanel({ open }: { open: boolean }) {
  const { items, classes, targets, qualityInfo } = useStudio(
    useShallow((s) => ({ items: s.items, classes: s.model?.manifest.classes ?? NO_CLASSES, targets: s.settings.targets, qualityInfo: s.model?.quality })),
  );
  // The judge's files, asked of the worker for the judge now loaded (reference features; the split for the downstream check).
  const judgeKey = qualityInfo?.enabled ? `${qualityInfo.judge}:${qualityInfo.classifierId ?? ''}` : null;
  const [judge, setJudge] = useState<ActiveJudge | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    setJudge(null);
    setErr(null);
    if (!open || !judgeKey) return;
    let live = true;
    judgeData().then(
      (d) => live && d && setJudge({ classifierId: d.classifierId, kind: d.judge, manifest: parseClassifierManifest(d.manifest), reference: parseReferenceFeatures(d.referenceFeatures) }),
      (e: Error) => live && setErr(`the judge's reference features are not available: ${e.message}`),
    );
    return () => {
      live = false;
    };
  }, [open, judgeKey]);
  const ref = judge?.reference ?? null;
  const classifierId = judge?.classifierId;

  // src/core/quality/evaluateDataset.ts, the function `npm run evaluate` calls, with the same defaults.
  const [rows, setRows] = useState<Row[]>([]);
  const samples = useMemo(() => (open && classifierId ? studioSamples(items, classes, classifierId) : []), [open, items, classes, classifierId]);
  const otherJudge = useMemo(() => (open && classifierId ? studioSamples(items, classes).length - samples.length : 0), [open, items, classes, classifierId, samples]);
  useEffect(() => {
    if (!open || !ref) return;
    let live = true;
    void evaluateDataset({ classes, reference: ref, samples }).then(
      (ev) => live && setRows(qualityRows(ev, targets)),
      (e: Error) => live && setErr(`quality numbers could not be computed: ${e.message}`),
    );
    return () => {
      live = false;
    };
  }, [open, ref, samples, classes, targets]);
  const anyNegative = rows.some((r) => r.kid && r.kid.mean < 0);
  const name = judgeName(qualityInfo);

  return (
    <section className="panel quality" aria-label="Quality">
      <h2>Quality of accepted images</h2>
      {qualityInfo && !qualityInfo.enabled && (
        <>
          <p className="no-judge" data-testid="no-judge">{NO_JUDGE_SENTENCE}</p>
          <p className="empty" data-testid="judge-reason">Why: {qualityInfo.reason}. Images made with it get no per-image flags; generation works as before.</p>
        </>
      )}
      {name && <p className="empty" data-testid="judge">Judged by {name}: {qualityInfo?.reason}.</p>}
      {otherJudge > 0 && <p className="empty">{otherJudge} accepted image{otherJudge === 1 ? ' was' : 's were'} judged by another classifier (made with another model) and {otherJudge === 1 ? 'is' : 'are'} left out here.</p>}
      {err && <p className="empty">{err}</p>}
      {open && ref && (
        <>
          <table className="quality-table" data-testid="quality-table">
            <thead>
              <tr><th>class</th><th className="num" title="accepted images / target (– : no target set)">acc. / target</th><th className="num" title="share the classifier calls the asked class">consist.</th><th className="num" title="KID to real, mean ± std over subsets">KID ± std</th><th className="num" title="diversity of accepted / of real">divers. / real</th></tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.cls}>
                  <td>{r.cls}</td>
                  <td className="num" title={r.target > 0 ? undefined : 'no target set (Dataset tab, Targets per class)'}>{r.n} / {r.target > 0 ? r.target : '–'}</td>
                  <td className="num">{r.consistency === null ? '—' : `${(r.consistency * 100).toFixed(0)}%`}</td>
                  <td className="num">{r.kid === null ? '—' : `${fmt(r.kid.mean)} ± ${r.kid.std.toFixed(3)}`}</td>
                  <td className="num">{r.diversity === null ? '—' : r.diversity.toFixed(2)} / {r.realDiversity === null ? '—' : r.realDiversity.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>KID to real</h3>
          <p className="legend">
            <span className="key" style={{ background: '#dc2626' }} /> accepted: mean, whiskers ± std over subsets
            {' '}<span className="key" style={{ background: '#9ca3af' }} /> real vs real (two halves of the reference set, same subset size)
          </p>
          <KidPlot rows={rows} />
          <p className="empty" data-testid="kid-note">
            KID here is the unbiased estimator: it can come out below 0, which means the accepted images cannot be told from the real ones at this
            sample size (not that they are "better than real"). A value inside the grey band is as close as two samples of real images are.
            {anyNegative ? ' Some classes show this now.' : ''}
          </p>
          <h3>Diversity</h3>
          <p className="legend">
            <span className="key" style={{ background: '#7c3aed' }} /> accepted images
            {' '}<span className="key line" /> real images (lower than real: the model repeats itself)
          </p>
          <DiversityPlot rows={rows} />
        </>
      )}
      {name && (
        <p className="empty">
          Measured with {name} (its features, not Inception: not comparable with published FID/KID). The same
          numbers for an exported dataset from the command line: <code>npm run evaluate -- --dataset export.zip --real &lt;folder&gt;{qualityInfo?.judge === 'own' ? ' --classifier <model folder>/classifier' : ''}</code> (KID: {EVALUATION_DEFAULTS.kidSubsets} subsets of up to {EVALUATION_DEFAULTS.kidSubsetSize}, seed {EVALUATION_DEFAULTS.kidSeed}, in both).
          Items made on a photo are judged on the window around their regenerated area.
        </p>
      )}
      {qualityInfo && <DownstreamPanel judge={judge} />}
    </section>
  );
}
