import { useState } from 'react';
import { decide, reuseSeed } from '../../engine';
import { useStudio } from '../../state/store';
import { ImageViewer, type Zoom } from './ImageViewer';
import { review } from './reviewActions';
import { cleanReason, MAX_REJECT_REASON, rejectReasons } from '../../state/reviewModel';

const ZOOMS: { id: Zoom; label: string; title: string }[] = [
  { id: 'fit', label: 'Fit', title: 'The largest whole-number zoom that fits' },
  { id: '1:1', label: '1:1', title: 'One image pixel per screen pixel' },
  { id: 'grid', label: 'Pixel grid', title: 'Fit, with a line between pixels' },
  { id: 'defect', label: 'Defect', title: 'The defect region of a photo item' },
];

/**
 * Large view of the selected image (zoom, mask outline), the review buttons with the reasons a rejection can
 * give (keys 1-9, or free text), and the item's full parameters.
 */
export function DetailView() {
  const item = useStudio((s) => s.items.find((i) => i.id === s.selectedId) ?? null);
  const bulk = useStudio((s) => s.checked.length);
  const [outline, setOutline] = useState(true);
  const [zoom, setZoom] = useState<Zoom>('fit');
  const [other, setOther] = useState('');
  if (!item) return <section className="panel detail" aria-label="Selected image"><p className="empty">Select an image to review it.</p></section>;
  const p = item.provenance;
  const onPhoto = !!p.basePhoto;
  const reasons = rejectReasons(item.className);
  const target = bulk ? `${bulk} selected` : 'this image';
  return (
    <section className="panel detail" aria-label="Selected image">
      <div className="viewer-tools" role="toolbar" aria-label="Zoom">
        {ZOOMS.filter((z) => z.id !== 'defect' || onPhoto).map((z) => (
          <button key={z.id} type="button" className={zoom === z.id ? 'active small' : 'small'} aria-pressed={zoom === z.id} title={z.title} onClick={() => setZoom(z.id)}>{z.label}</button>
        ))}
        <label className="check"><input type="checkbox" checked={outline} onChange={(e) => setOutline(e.target.checked)} /> Mask outline</label>
      </div>
      <ImageViewer item={item} zoom={zoom === 'defect' && !onPhoto ? 'fit' : zoom} outline={outline} />
      <div className="buttons decide">
        <button type="button" className="accept" onClick={() => review('accepted')} disabled={!bulk && item.status === 'accepted'} aria-keyshortcuts="A">Accept</button>
        <button type="button" className="reject" onClick={() => review('rejected')} disabled={!bulk && item.status === 'rejected'} aria-keyshortcuts="R">Reject</button>
        {item.status !== 'pending' && !bulk && <button type="button" onClick={() => void decide([item.id], 'pending')}>Restore</button>}
        <span className="status-text" data-testid="detail-status">
          {bulk ? `applies to ${bulk} selected` : `${item.status}${item.decidedAt ? ` ${item.decidedAt.slice(0, 16).replace('T', ' ')}` : ''}`}
        </span>
      </div>
      {!bulk && item.status === 'rejected' && <p className="reason-now" data-testid="detail-reason">Reason: {item.rejectReason ?? 'none given'}</p>}
      <div className="reasons" role="group" aria-label={`Reject ${target} because`}>
        {reasons.map((r, k) => (
          <button key={r} type="button" className={`small${!bulk && item.rejectReason === r ? ' active' : ''}`} aria-keyshortcuts={String(k + 1)} onClick={() => review('rejected', r)}>
            <kbd>{k + 1}</kbd> {r}
          </button>
        ))}
        <form className="other-reason" onSubmit={(e) => {
          e.preventDefault();
          const r = cleanReason(other);
          if (!r) return;
          review('rejected', r);
          setOther('');
        }}>
          <input type="text" value={other} maxLength={MAX_REJECT_REASON} placeholder="Other reason…" aria-label="Other reject reason" onChange={(e) => setOther(e.target.value)} />
          <button type="submit" className="small" aria-label="Reject with this reason" disabled={!cleanReason(other)}>Reject</button>
        </form>
      </div>
      <dl className="params">
        <dt>Class</dt><dd>{p.className}</dd>
        <dt>Seed</dt><dd>{p.seed} <button type="button" className="small" onClick={() => reuseSeed(p)}>Reuse this seed</button></dd>
        {item.quality && (
          <>
            <dt>Classifier</dt>
            <dd data-testid="detail-quality">
              {item.quality.predictedClass} ({(item.quality.confidence * 100).toFixed(0)}%){item.quality.consistent ? ' ✓ matches' : ` ✗ asked for ${item.className}`}
            </dd>
            <dt>Flags</dt>
            <dd data-testid="detail-flags">{item.quality.flags.length ? item.quality.flags.join(', ') : 'none'}</dd>
            <dt>Nearest real</dt>
            <dd>{item.quality.nearestRefDistance.toFixed(2)} (memorisation below {item.quality.memorisationThreshold.toFixed(2)})</dd>
            <dt>Outlier score</dt>
            <dd>{item.quality.outlierScore.toFixed(2)} (real 99th pct {item.quality.outlierThreshold.toFixed(2)})</dd>
          </>
        )}
        <dt>Sampler</dt><dd>{p.sampler}, {p.steps} steps, {p.timestepSpacing} spacing, eta {p.eta}, clip {String(p.clipSample)}</dd>
        <dt>Network evaluations</dt><dd data-testid="detail-evaluations">{p.modelEvaluations ?? 'not recorded (made before they were counted)'}</dd>
        <dt>Guidance</dt><dd>{p.guidance}{p.guidanceInterval && p.guidance !== 1 ? ` at noise levels (${p.guidanceInterval[0]}, ${p.guidanceInterval[1]}]` : ''}</dd>
        <dt>Prompt</dt><dd>{p.prompt || '—'}</dd>
        <dt>Mask</dt><dd>{p.maskSource} · sha256 {p.maskSha256.slice(0, 12)}…</dd>
        {p.basePhoto && <><dt>Photo</dt><dd>{p.basePhoto.name} ({p.basePhoto.width}×{p.basePhoto.height}), {p.windows?.length ?? 0} window{p.windows?.length === 1 ? '' : 's'}</dd></>}
        <dt>Model</dt><dd>{p.modelId} {p.modelVersion} · sha256 {p.modelSha256.slice(0, 12)}…</dd>
        <dt>Backend</dt><dd data-testid="detail-backend">{p.backend}{p.threads ? ` (${p.threads} threads)` : ''} · {(p.timings.totalMs / 1000).toFixed(2)} s ({(p.timings.modelMs / p.timings.steps).toFixed(0)} ms/step in the model)</dd>
        <dt>Id</dt><dd>{item.id}</dd>
      </dl>
    </section>
  );
}
