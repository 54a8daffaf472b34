import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { decodeImage } from '../../core/formats/image';
import type { ClassifierManifest } from '../../core/quality/classifierManifest';
import type { DownstreamResult } from '../../core/quality/downstream';
import { evaluateDataset, EVALUATION_DEFAULTS, REAL_WINDOW_DEFAULTS } from '../../core/quality/evaluateDataset';
import type { ReferenceFeatures } from '../../core/quality/features';
import { chooseHeldOut, type HeldOutChoice } from '../../core/quality/heldOut';
import { drawRealWindows, loadedReal } from '../../core/quality/realWindows';
import { embedWindows, runDownstream } from '../../engine';
import { useStudio } from '../../state/store';
import { publishDownstream } from '../dataset/pilotReport';
import { NO_JUDGE_DOWNSTREAM } from './judgeText';
import { realFolderImages, studioSamples, type RealFolder } from './studioEvaluation';

/** The loaded model's judge, as the quality panel read it from the worker (judgeData). */
export interface ActiveJudge {
  classifierId: string;
  kind: 'own' | 'embedded';
  manifest: ClassifierManifest;
  reference: ReferenceFeatures;
}

interface Chosen extends RealFolder {
  files: Map<string, File>;
}

interface Shown {
  result: DownstreamResult;
  counts: string;
  split: HeldOutChoice;
  leftOut: string[];
}

const relPath = (f: File) => (f as File & { webkitRelativePath: string }).webkitRelativePath || f.name;

/**
 * Downstream-utility check: a small classifier on real only vs real + accepted synthetic, scored on held-out
 * real windows. The same evaluation as `npm run evaluate` (src/core/quality/evaluateDataset.ts): real windows
 * drawn as it draws them, held out as it holds them out (the classifier's own held-out tile groups, recorded in
 * its manifest; groups it never saw split by the training pipeline's rule). The classifier is the loaded model's
 * judge (`judge`; null while it is read, or when the model has none: then one sentence instead of the check).
 */
export function DownstreamPanel({ judge }: { judge: ActiveJudge | null }) {
  const hasJudge = useStudio((s) => s.model?.quality.enabled ?? false);
  const { items, classes } = useStudio(useShallow((s) => ({ items: s.items, classes: s.model?.manifest.classes })));
  const [real, setReal] = useState<Chosen | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [shown, setShown] = useState<Shown | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const known = classes ?? [];

  const choose = async (files: File[]) => {
    const csv = files.find((f) => f.name === 'manifest_extra.csv');
    const folder = realFolderImages(files.map(relPath), known, csv ? await csv.text() : null);
    setReal({ ...folder, files: new Map(files.map((f) => [relPath(f), f])) });
  };

  const reference = judge?.reference ?? null;
  const run = async () => {
    if (!real || !judge || !reference) return;
    setErr(null);
    try {
      const split = chooseHeldOut(real.images, judge.manifest, REAL_WINDOW_DEFAULTS.testFraction, REAL_WINDOW_DEFAULTS.splitSeed);
      const size = judge.manifest.width;
      const held = new Set(split.heldOutGroups);
      const images = real.images.map((im) => ({ ...im, test: held.has(im.group) }));
      setBusy('drawing real windows…');
      const read = async (path: string) => decodeImage(new Uint8Array(await (real.files.get(path) as File).arrayBuffer()), path);
      const { realPerClass, windowSeed, jitter } = REAL_WINDOW_DEFAULTS;
      const rw = await drawRealWindows(images, known, realPerClass, size, windowSeed, jitter, async (im) => {
        const mask = real.masks.get(im.path);
        return loadedReal(await read(im.path), mask ? await read(mask) : null, mask ?? im.path);
      });
      setBusy(`embedding ${rw.pixels.length} real windows…`);
      const features = await embedWindows(rw.pixels);
      setBusy(`training real-only and real + synthetic classifiers (${EVALUATION_DEFAULTS.downstreamSeeds} seeds)…`);
      const ev = await evaluateDataset({
        classes: known, reference, samples: studioSamples(items, known, judge.classifierId),
        real: { features, labels: rw.labels, test: rw.test, groups: rw.source.map((k) => images[k]!.group) },
        runDownstream,
      });
      const d = ev.downstream;
      if (!d || 'skipped' in d) throw new Error(d ? d.skipped : 'no real windows');
      const syn = items.filter((i) => i.status === 'accepted' && i.quality?.classifierId === judge.classifierId && known.includes(i.className));
      const src = rw.source.map((k) => images[k]!);
      publishDownstream(d, { names: src.map((s) => s.path), labels: rw.labels, groups: src.map((s) => s.group), splitBy: real.splitBy, heldOutGroups: split.heldOutGroups }, rw.test, known, syn.map((i) => i.id));
      const heldImages = images.filter((i) => i.test).length;
      setShown({
        result: d, split, leftOut: rw.skipped.map((s) => `${s.item} (${s.why})`),
        counts: `real: ${d.nTrain} train / ${d.nTest} held-out windows (${realPerClass} per class and side, from ${images.length - heldImages} / ${heldImages} images; split by ${real.splitBy}${real.splitBy === 'file' ? ': no manifest_extra.csv with tile_group, so photos of one part may sit on both sides and the score is optimistic' : ''}); synthetic: ${d.nSynthetic} accepted images`,
      });
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  const r = shown?.result;
  if (!hasJudge)
    return (
      <div className="downstream">
        <h3>Does it help a downstream model?</h3>
        <p className="empty" data-testid="downstream-no-judge">{NO_JUDGE_DOWNSTREAM}</p>
      </div>
    );
  return (
    <div className="downstream">
      <h3>Does it help a downstream model?</h3>
      {judge && <p className="empty" data-testid="downstream-judge">Real and synthetic windows are embedded by {judge.kind === 'own' ? 'the model’s own classifier' : 'the embedded classifier'} {judge.classifierId} ({judge.manifest.width}x{judge.manifest.height} windows); its held-out tile groups stay held out.</p>}
      <label className="file">
        Real labelled images (a folder of class subfolders)
        <input type="file" multiple aria-label="Real images folder" {...{ webkitdirectory: '' }}
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = '';
            setShown(null);
            setBusy('reading images…');
            void choose(files).catch((x: Error) => setErr(x.message)).finally(() => setBusy(null));
          }} />
      </label>
      {real && <p className="empty">{real.images.length} real images read ({known.map((c) => `${c} ${real.images.filter((i) => i.className === c).length}`).join(', ')}){real.skipped.length ? `; skipped ${real.skipped.length}: ${real.skipped.slice(0, 3).join('; ')}${real.skipped.length > 3 ? '…' : ''}` : ''}</p>}
      <button type="button" className="small" disabled={!real || !reference || !!busy} onClick={() => void run()}>Run downstream check</button>
      {busy && <p className="empty">{busy}</p>}
      {err && <p className="empty error">{err}</p>}
      {shown && r && (
        <>
          <p className="empty">{shown.counts}</p>
          <p className="empty" data-testid="held-out-groups">
            {shown.split.text}: {shown.split.heldOutGroups.length ? shown.split.heldOutGroups.join(', ') : 'none'}.
          </p>
          {shown.leftOut.length > 0 && <p className="empty error">Left out (unreadable): {shown.leftOut.slice(0, 3).join('; ')}{shown.leftOut.length > 3 ? '…' : ''}</p>}
          {r.warning && <p className="empty error" role="note">Warning: {r.warning}</p>}
          <table className="quality-table" data-testid="downstream-table">
            <thead><tr><th>class</th><th>F1 real only</th><th>F1 + synthetic</th><th>change</th></tr></thead>
            <tbody>
              {r.perClass.map((p, k) => (
                <tr key={known[k]}>
                  <td>{known[k]}</td>
                  <td>{p.f1RealOnly?.toFixed(3) ?? '—'}</td>
                  <td>{p.f1WithSynth?.toFixed(3) ?? '—'}</td>
                  <td>{p.delta === null ? '—' : `${p.delta >= 0 ? '+' : ''}${p.delta.toFixed(3)}`}</td>
                </tr>
              ))}
              <tr>
                <td><b>macro-F1</b></td>
                <td>{r.macroF1RealOnly.mean.toFixed(3)} ± {r.macroF1RealOnly.std.toFixed(3)}</td>
                <td>{r.macroF1WithSynth.mean.toFixed(3)} ± {r.macroF1WithSynth.std.toFixed(3)}</td>
                <td><b>{r.delta.mean >= 0 ? '+' : ''}{r.delta.mean.toFixed(3)} ± {r.delta.std.toFixed(3)}</b></td>
              </tr>
            </tbody>
          </table>
          <p className="empty">The classifier is softmax regression on {judge?.classifierId ?? 'the judge'}'s features, trained {r.seeds.length} times on bootstrap resamples; ± is the spread over those runs, not the uncertainty of the small held-out set. <code>npm run evaluate</code> prints the same numbers for the same images.</p>
        </>
      )}
    </div>
  );
}
