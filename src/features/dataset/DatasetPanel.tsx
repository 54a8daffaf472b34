import { useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { deleteDamaged, deleteRejected, exportDamaged, exportDataset, fillToTarget, importDataset, storageInfo, type StorageInfo } from '../../engine';
import { useStudio } from '../../state/store';
import { FILL_PHOTO_ADVICE } from '../../config';
import { rejectReasonCounts } from '../../state/reviewModel';
import { DEFAULT_THRESHOLDS, parseThresholds, THRESHOLD_KEYS, THRESHOLD_SPECS, type Thresholds } from '../../report/thresholds';
import { loadThresholds, saveThresholds, studioReport } from './pilotReport';

const NO_CLASSES: readonly string[] = [];
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;

/** Per-class balance chart (accepted vs target), Fill to target, storage use, export / import. */
export function DatasetPanel() {
  const { items, classes, targets, update, settings, damaged } = useStudio(
    useShallow((s) => ({ items: s.items, classes: s.model?.manifest.classes ?? NO_CLASSES, targets: s.settings.targets, update: s.updateSettings, settings: s.settings, damaged: s.damaged })),
  );
  const [storage, setStorage] = useState<StorageInfo | null>(null);
  const [busy, setBusy] = useState(false);
  const [skipBad, setSkipBad] = useState(false);
  const [thresholds, setThresholds] = useState<Thresholds>(loadThresholds);
  const [thresholdError, setThresholdError] = useState<string | null>(null);
  const [formRev, setFormRev] = useState(0);
  const importInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    void storageInfo().then(setStorage);
  }, [items.length]);

  const acceptedByClass = useMemo(() => {
    const m = new Map<string, number>();
    for (const i of items) if (i.status === 'accepted') m.set(i.className, (m.get(i.className) ?? 0) + 1);
    return m;
  }, [items]);
  const accepted = (c: string) => acceptedByClass.get(c) ?? 0;
  const reasons = useMemo(() => rejectReasonCounts(items), [items]);
  // At least 10 on the scale: with no target set, one accepted image must not look like a full bar.
  const max = Math.max(10, ...classes.map((c) => Math.max(accepted(c), targets[c] ?? 0)));
  const notice = (kind: 'error' | 'info', text: string) => useStudio.getState().setNotice({ kind, text });

  const download = (bytes: Uint8Array, name: string, type: string) => {
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const onExport = async () => {
    setBusy(true);
    try {
      const { bytes, name } = await exportDataset();
      download(bytes, name, 'application/zip');
    } catch (e) {
      notice('error', `Export failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const onReport = async () => {
    setBusy(true);
    try {
      download(new TextEncoder().encode(await studioReport(thresholds)), 'report.html', 'text/html');
    } catch (e) {
      notice('error', `Pilot report failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const setThreshold = (k: keyof Thresholds, text: string) => {
    try {
      const t = parseThresholds({ ...thresholds, [k]: text.trim() === '' ? NaN : Number(text) });
      setThresholds(t);
      saveThresholds(t);
      setThresholdError(null);
    } catch (e) {
      setThresholdError((e as Error).message);
    }
  };
  const onImport = async (f: File) => {
    setBusy(true);
    try {
      const { imported, alreadyHere, skipped } = await importDataset(f, { skipBad });
      const skippedText = skipped.length ? `; skipped ${skipped.length} bad record${skipped.length === 1 ? '' : 's'}: ${skipped.slice(0, 3).map((s) => s.problem).join('; ')}${skipped.length > 3 ? '; …' : ''}` : '';
      notice(skipped.length ? 'error' : 'info', `Imported ${imported} items${alreadyHere ? `; ${alreadyHere} with an id already in the studio were kept as they are` : ''}${skippedText}.`);
    } catch (e) {
      notice('error', `Import failed, nothing was imported: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel dataset" aria-label="Dataset">
      <h2>Dataset</h2>
      <p className="legend">
        <span className="key" style={{ background: '#3b82f6' }} /> accepted <span className="key line red" /> target (set under Targets per class)
      </p>
      <svg className="chart" role="img" aria-label="Accepted images per class against the target" width={320} height={classes.length * 22 + 4}>
        {classes.map((c, i) => {
          const a = accepted(c);
          const t = targets[c] ?? 0;
          const x0 = 62;
          const w = 180;
          return (
            <g key={c} transform={`translate(0 ${i * 22 + 2})`}>
              <text x={0} y={14} fontSize={12}>{c}</text>
              <rect x={x0} y={3} width={(a / max) * w} height={14} fill="#3b82f6" />
              {t > 0 && <line x1={x0 + (t / max) * w} x2={x0 + (t / max) * w} y1={0} y2={20} stroke="#dc2626" strokeWidth={2} />}
              <text x={x0 + w + 6} y={14} fontSize={11}>{t > 0 ? `${a} / ${t}` : `${a} (no target)`}</text>
            </g>
          );
        })}
      </svg>
      {reasons.size > 0 && (
        <table className="reasons-table" aria-label="Reject reasons per class" data-testid="reject-reasons">
          <thead><tr><th>class</th><th>reject reason</th><th className="num">n</th></tr></thead>
          <tbody>
            {[...reasons].flatMap(([cls, m]) => [...m].sort((a, b) => b[1] - a[1]).map(([r, n], k) => (
              <tr key={`${cls}\u0000${r}`}><td>{k === 0 ? cls : ''}</td><td>{r}</td><td className="num">{n}</td></tr>
            )))}
          </tbody>
        </table>
      )}
      <details>
        <summary>Targets per class</summary>
        <div className="targets">
          {classes.map((c) => (
            <label key={c}>
              {c}
              <input type="number" min={0} max={10000} value={targets[c] ?? 0} aria-label={`Target for ${c}`}
                onChange={(e) => update({ targets: { ...settings.targets, [c]: Math.max(0, Math.floor(Number(e.target.value) || 0)) } })} />
            </label>
          ))}
        </div>
      </details>
      <div className="buttons wrap">
        <button type="button" onClick={() => notice('info', `Queued ${fillToTarget()} generations to reach the targets.`)}>Fill to target</button>
        <button type="button" onClick={() => void onExport()} disabled={busy || items.length === 0}>Export dataset</button>
        <button type="button" onClick={() => importInput.current?.click()} disabled={busy}>Import dataset…</button>
        <label className="check" title="Off: a zip with any bad record is refused whole. On: the good records are imported and each bad one is reported.">
          <input type="checkbox" checked={skipBad} onChange={(e) => setSkipBad(e.target.checked)} /> Skip bad records
        </label>
        <button type="button" onClick={() => void onReport()} disabled={busy || items.length === 0}
          title="Download report.html: counts, reject reasons, quality, the downstream check (if run in the Quality tab), cost, the model and a go / no-go table">Pilot report</button>
        <button type="button" onClick={() => void deleteRejected().then((n) => notice('info', `Deleted ${n} rejected items.`))}>Delete rejected</button>
        <input ref={importInput} type="file" hidden accept=".zip" aria-label="Dataset zip"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) void onImport(f);
          }} />
      </div>
      <p className="hint" data-testid="fill-advice">
        {settings.onPhotoSet ? 'Fill to target puts every class it can on the stored base photos (Generate > Base photos).' : FILL_PHOTO_ADVICE}
      </p>
      <details>
        <summary>Pilot report thresholds</summary>
        <div className="targets" style={{ gridTemplateColumns: '1fr' }}>
          {THRESHOLD_KEYS.map((k) => (
            <label key={k} style={{ display: 'flex', justifyContent: 'space-between', gap: '0.5rem' }}>
              {THRESHOLD_SPECS[k].label}
              <input type="number" aria-label={`Threshold: ${THRESHOLD_SPECS[k].label}`} min={THRESHOLD_SPECS[k].min} max={THRESHOLD_SPECS[k].max}
                step={THRESHOLD_SPECS[k].integer ? 1 : 0.01} defaultValue={thresholds[k]} key={`${k}:${formRev}`}
                onChange={(e) => setThreshold(k, e.target.value)} />
            </label>
          ))}
        </div>
        {thresholdError && <p className="empty error" role="alert">{thresholdError}</p>}
        <button type="button" className="small" onClick={() => {
          setThresholds(DEFAULT_THRESHOLDS);
          saveThresholds(DEFAULT_THRESHOLDS);
          setThresholdError(null);
          setFormRev((r) => r + 1);
        }}>Reset to defaults</button>
      </details>
      {damaged.length > 0 && (
        <div className="damaged" role="group" aria-label="Damaged items">
          <p>
            {damaged.length} stored item{damaged.length === 1 ? ' is' : 's are'} damaged and not shown:
          </p>
          <ul>
            {damaged.slice(0, 5).map((d) => (
              <li key={d.key}><code>{d.key}</code>: {d.problem}</li>
            ))}
            {damaged.length > 5 && <li>and {damaged.length - 5} more</li>}
          </ul>
          <div className="buttons wrap">
            <button type="button" onClick={() => void exportDamaged().then(({ bytes, name }) => download(bytes, name, 'application/json'), (e: Error) => notice('error', `Download failed: ${e.message}`))}>Download damaged records</button>
            <button type="button" onClick={() => void deleteDamaged().then((n) => notice('info', `Deleted ${n} damaged items.`), (e: Error) => notice('error', `Delete failed: ${e.message}`))}>Delete damaged items</button>
          </div>
        </div>
      )}
      <label className="check">
        <input type="checkbox" checked={settings.autoRejectFlagged} onChange={(e) => update({ autoRejectFlagged: e.target.checked })} /> Auto-reject flagged images
      </label>
      <p className="storage" data-testid="storage">
        {storage ? `Storage: ${mb(storage.usedBytes)} used of ${mb(storage.quotaBytes)} available${storage.persisted ? ' (persistent)' : ''}` : 'Storage: unknown'}
      </p>
    </section>
  );
}
