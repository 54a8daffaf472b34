import { useState } from 'react';
import { decide, reuseSeed } from '../../engine';
import { useStudio } from '../../state/store';

/** Large view of the selected image with its mask overlay, full parameters and the review buttons. */
export function DetailView() {
  const item = useStudio((s) => s.items.find((i) => i.id === s.selectedId) ?? null);
  const [overlay, setOverlay] = useState(true);
  if (!item) return <section className="panel detail" aria-label="Selected image"><p className="empty">Select an image to review it.</p></section>;
  const p = item.provenance;
  return (
    <section className="panel detail" aria-label="Selected image">
      <div className="stack big">
        <img className="pixelated" src={item.url} alt={`Selected: ${item.className} seed ${p.seed}`} width={320} height={320} data-testid="detail-image" />
        {overlay && <img className="pixelated overlay" src={item.maskUrl} alt="Defect mask overlay" width={320} height={320} />}
      </div>
      <div className="buttons">
        <button type="button" onClick={() => void decide([item.id], 'accepted')} disabled={item.status === 'accepted'}>Accept</button>
        <button type="button" onClick={() => void decide([item.id], 'rejected')} disabled={item.status === 'rejected'}>Reject</button>
        {item.status !== 'pending' && <button type="button" onClick={() => void decide([item.id], 'pending')}>Restore</button>}
        <label className="check"><input type="checkbox" checked={overlay} onChange={(e) => setOverlay(e.target.checked)} /> Mask overlay</label>
      </div>
      <dl className="params">
        <dt>Status</dt><dd data-testid="detail-status">{item.status}{item.decidedAt ? ` (${item.decidedAt.slice(0, 19).replace('T', ' ')})` : ''}</dd>
        <dt>Class</dt><dd>{p.className}</dd>
        <dt>Seed</dt><dd>{p.seed} <button type="button" className="small" onClick={() => reuseSeed(p)}>Reuse this seed</button></dd>
        <dt>Sampler</dt><dd>{p.sampler}, {p.steps} steps, {p.timestepSpacing} spacing, eta {p.eta}, clip {String(p.clipSample)}</dd>
        <dt>Network evaluations</dt><dd data-testid="detail-evaluations">{p.modelEvaluations ?? 'not recorded (made before they were counted)'}</dd>
        <dt>Guidance</dt><dd>{p.guidance}{p.guidanceInterval && p.guidance !== 1 ? ` at noise levels (${p.guidanceInterval[0]}, ${p.guidanceInterval[1]}]` : ''}</dd>
        <dt>Prompt</dt><dd>{p.prompt || '—'}</dd>
        <dt>Mask</dt><dd>{p.maskSource} · sha256 {p.maskSha256.slice(0, 12)}…</dd>
        <dt>Model</dt><dd>{p.modelId} {p.modelVersion} · sha256 {p.modelSha256.slice(0, 12)}…</dd>
        <dt>Backend</dt><dd data-testid="detail-backend">{p.backend}{p.threads ? ` (${p.threads} threads)` : ''} · {(p.timings.totalMs / 1000).toFixed(2)} s ({(p.timings.modelMs / p.timings.steps).toFixed(0)} ms/step in the model)</dd>
        <dt>Id</dt><dd>{item.id}</dd>
        {item.quality && (
          <>
            <dt>Classifier</dt>
            <dd data-testid="detail-quality">
              {item.quality.predictedClass} ({(item.quality.confidence * 100).toFixed(0)}%){item.quality.consistent ? ' ✓ matches' : ` ✗ asked for ${item.className}`}
            </dd>
            <dt>Nearest real</dt>
            <dd>{item.quality.nearestRefDistance.toFixed(2)} (memorisation below {item.quality.memorisationThreshold.toFixed(2)})</dd>
            <dt>Outlier score</dt>
            <dd>{item.quality.outlierScore.toFixed(2)} (real 99th pct {item.quality.outlierThreshold.toFixed(2)})</dd>
            <dt>Flags</dt>
            <dd data-testid="detail-flags">{item.quality.flags.length ? item.quality.flags.join(', ') : 'none'}</dd>
          </>
        )}
      </dl>
    </section>
  );
}
