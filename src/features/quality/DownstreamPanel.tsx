import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { decodeImage } from '../../core/formats/image';
import type { DownstreamResult } from '../../core/quality/downstream';
import { validationGroups } from '../../core/quality/split';
import { client } from '../../engine';
import { useStudio } from '../../state/store';
import { publishDownstream } from '../dataset/pilotReport';

const SIZE = 64;
/**
 * The split the embedded denoiser and classifier were trained with (training/configs/default.json val_fraction
 * and split_seed): the held-out images here are from tile groups neither network saw.
 */
const TEST_FRACTION = 0.2;
const SPLIT_SEED = 0;

interface RealSet {
  classes: string[];
  windows: Uint8Array[];
  labels: number[];
  groups: string[];
  splitBy: 'tile_group' | 'file';
  skipped: string[];
  /** each window's file (folder-relative path), for the pilot report's list of held-out images */
  names: string[];
}


/** Decoded as scripts/evaluate.ts decodes them (src/core/formats/image.ts), so the browser and the CLI see the same pixels. */
async function gray(file: File): Promise<{ w: number; h: number; px: Uint8Array }> {
  const g = decodeImage(new Uint8Array(await file.arrayBuffer()), file.name);
  return { w: g.width, h: g.height, px: g.pixels };
}

/**
 * Reads a folder of real labelled images (<folder>/<Class>/<image>.png|jpg, optional <stem>_mask.png, optional
 * manifest_extra.csv with a tile_group column) into one model-sized window per image: centred on the defect
 * mask when there is one (a 10-pixel blowhole must be inside), else the image centre.
 */
async function readRealFolder(files: File[], known: readonly string[]): Promise<RealSet> {
  const groupsCsv = files.find((f) => f.name === 'manifest_extra.csv');
  const groupOf = new Map<string, string>();
  if (groupsCsv) {
    const [head, ...rows] = (await groupsCsv.text()).trim().split(/\r?\n/);
    const cols = (head ?? '').split(',');
    const ii = cols.indexOf('image'), gi = cols.indexOf('tile_group');
    if (ii >= 0 && gi >= 0) for (const r of rows) {
      const c = r.split(',');
      groupOf.set((c[ii] ?? '').split('/').pop() ?? '', c[gi] ?? '');
    }
  }
  const byPath = new Map(files.map((f) => [(f as File & { webkitRelativePath: string }).webkitRelativePath || f.name, f]));
  const out: RealSet = { classes: [...known], windows: [], labels: [], groups: [], splitBy: groupOf.size ? 'tile_group' : 'file', skipped: [], names: [] };
  for (const [path, f] of byPath) {
    if (!/\.(png|jpe?g)$/i.test(path) || /_mask\.png$/i.test(path)) continue;
    const parts = path.split('/');
    const cls = parts[parts.length - 2] ?? '';
    const label = known.indexOf(cls);
    if (label < 0) {
      out.skipped.push(`${path} (class folder "${cls}" is not one of ${known.join(', ')})`);
      continue;
    }
    let img;
    try {
      img = await gray(f);
    } catch {
      out.skipped.push(`${path} (not a readable image)`);
      continue;
    }
    if (img.w < SIZE || img.h < SIZE) {
      out.skipped.push(`${path} (smaller than ${SIZE}x${SIZE})`);
      continue;
    }
    let cx = img.w / 2, cy = img.h / 2;
    const maskFile = byPath.get(path.replace(/\.(png|jpe?g)$/i, '_mask.png'));
    if (maskFile) {
      const m = await gray(maskFile);
      let sx = 0, sy = 0, n = 0;
      for (let i = 0; i < m.px.length; i++) if ((m.px[i] as number) > 127) {
        sx += i % m.w;
        sy += Math.floor(i / m.w);
        n++;
      }
      if (n) {
        cx = sx / n;
        cy = sy / n;
      }
    }
    const x0 = Math.min(img.w - SIZE, Math.max(0, Math.round(cx - SIZE / 2)));
    const y0 = Math.min(img.h - SIZE, Math.max(0, Math.round(cy - SIZE / 2)));
    const win = new Uint8Array(SIZE * SIZE);
    for (let y = 0; y < SIZE; y++) win.set(img.px.subarray((y0 + y) * img.w + x0, (y0 + y) * img.w + x0 + SIZE), y * SIZE);
    out.windows.push(win);
    out.labels.push(label);
    out.groups.push(groupOf.get(f.name) ?? path);
    out.names.push(path);
  }
  return out;
}

/** Downstream-utility check: a small classifier on real only vs real + accepted synthetic, scored on held-out real. */
export function DownstreamPanel() {
  const { items, classes } = useStudio(useShallow((s) => ({ items: s.items, classes: s.model?.manifest.classes })));
  const [real, setReal] = useState<RealSet | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<(DownstreamResult & { counts: string }) | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const known = classes ?? [];

  const run = async () => {
    if (!real) return;
    setBusy('embedding real images…');
    setErr(null);
    try {
      const feats = await client.embedWindows(real.windows);
      // split_by_group walks the classes in the model's order (it matters only for a group shared by two classes)
      const order = real.groups.map((g, i) => ({ className: known[real.labels[i] as number] as string, group: g, label: real.labels[i] as number }));
      const val = validationGroups([...order].sort((a, b) => a.label - b.label), TEST_FRACTION, SPLIT_SEED);
      const test = real.groups.map((g) => val.has(g));
      const pick = (want: boolean) => ({ features: feats.filter((_, i) => test[i] === want), labels: real.labels.filter((_, i) => test[i] === want) });
      const syn = items.filter((i) => i.status === 'accepted' && i.quality && known.includes(i.className));
      setBusy('training real-only and real + synthetic classifiers (5 seeds)…');
      const r = await client.downstream({
        realTrain: pick(false), realTest: pick(true),
        synthetic: { features: syn.map((i) => Float32Array.from(i.quality?.features ?? [])), labels: syn.map((i) => known.indexOf(i.className)) },
        classes: known.length, classNames: known, seeds: 5,
      });
      publishDownstream(r, real, test, known, syn.map((i) => i.id));
      setResult({ ...r, counts: `real: ${r.nTrain} train / ${r.nTest} held-out (split by ${real.splitBy}${real.splitBy === 'file' ? ': no manifest_extra.csv with tile_group, so photos of one part may sit on both sides and the score is optimistic' : ''}); synthetic: ${r.nSynthetic} accepted images` });
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="downstream">
      <h3>Does it help a downstream model?</h3>
      <label className="file">
        Real labelled images (a folder of class subfolders)
        <input type="file" multiple aria-label="Real images folder" {...{ webkitdirectory: '' }}
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = '';
            setResult(null);
            setBusy('reading images…');
            void readRealFolder(files, known).then(setReal, (x: Error) => setErr(x.message)).finally(() => setBusy(null));
          }} />
      </label>
      {real && <p className="empty">{real.windows.length} real images read ({known.map((c, k) => `${c} ${real.labels.filter((l) => l === k).length}`).join(', ')}){real.skipped.length ? `; skipped ${real.skipped.length}: ${real.skipped.slice(0, 3).join('; ')}${real.skipped.length > 3 ? '…' : ''}` : ''}</p>}
      <button type="button" className="small" disabled={!real || !!busy} onClick={() => void run()}>Run downstream check</button>
      {busy && <p className="empty">{busy}</p>}
      {err && <p className="empty error">{err}</p>}
      {result && (
        <>
          <p className="empty">{result.counts}</p>
          {result.warning && <p className="empty error" role="note">Warning: {result.warning}</p>}
          <table className="quality-table" data-testid="downstream-table">
            <thead><tr><th>class</th><th>F1 real only</th><th>F1 + synthetic</th><th>change</th></tr></thead>
            <tbody>
              {result.perClass.map((p, k) => (
                <tr key={known[k]}>
                  <td>{known[k]}</td>
                  <td>{p.f1RealOnly?.toFixed(3) ?? '—'}</td>
                  <td>{p.f1WithSynth?.toFixed(3) ?? '—'}</td>
                  <td>{p.delta === null ? '—' : `${p.delta >= 0 ? '+' : ''}${p.delta.toFixed(3)}`}</td>
                </tr>
              ))}
              <tr>
                <td><b>macro-F1</b></td>
                <td>{result.macroF1RealOnly.mean.toFixed(3)} ± {result.macroF1RealOnly.std.toFixed(3)}</td>
                <td>{result.macroF1WithSynth.mean.toFixed(3)} ± {result.macroF1WithSynth.std.toFixed(3)}</td>
                <td><b>{result.delta.mean >= 0 ? '+' : ''}{result.delta.mean.toFixed(3)} ± {result.delta.std.toFixed(3)}</b></td>
              </tr>
            </tbody>
          </table>
          <p className="empty">The classifier is softmax regression on the embedded classifier's features, trained 5 times on bootstrap resamples; ± is the spread over those runs, not the uncertainty of the small held-out set.</p>
        </>
      )}
    </div>
  );
}
