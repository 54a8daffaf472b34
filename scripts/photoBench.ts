/**
 * Defects on whole photos, timed and measured: real defect-free magnetic-tile photos, painted strokes and real
 * defect masks (scripts/lib/photoCases.ts), generated with the model's default settings on onnxruntime-node.
 * Prints, per case: the photo, the mask, the number of windows, network evaluations, time per photo, and the
 * seam measure (src/core/quality/seam.ts: gradient energy across the edge of the regenerated area against the photo's
 * own elsewhere; and across the tile edges inside it against the rest of the regenerated area).
 *
 *   npx tsx scripts/photoBench.ts [--model public/models/magtile-defect-64] [--threads 1] [--out /tmp/photos]
 *     [--margin 4] [--feather F] [--only <case label part>]
 *
 * --out writes each result as <case>.png (and the photo as <photo>.png) at full resolution, to look at.
 * --feather: the tiling's feather for every case, a single window too (default: as the studio, 6 when tiled,
 * none for a single window). SEAM_DETAIL=1 prints the ratio of every contour.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { planWindows, regeneratedArea } from '../src/core/diffusion/composite';
import { decodeImage, encodeGrayPng } from '../src/core/formats/image';
import type { GenerateRequest } from '../src/core/model/protocol';
import { seamMeasure, tileEdgeEnergy } from '../src/core/quality/seam';
import { DEFAULT_TILING, generateOnPhoto, generateTiled } from '../src/core/diffusion/tiled';
import { loadNodeModel } from './lib/nodeModel';
import { crackMask, diskMask, freePhoto, realMask } from './lib/photoCases';

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('scripts/photoBench.ts');
if (isMain) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, threads: { type: 'string' }, out: { type: 'string' }, feather: { type: 'string' }, margin: { type: 'string' }, only: { type: 'string' } } });
  const model = await loadNodeModel(values.model ?? 'public/models/magtile-defect-64', 'native', Number(values.threads ?? '1'));
  const m = model.manifest;
  const d = m.defaults;
  const base = { prompt: '', sampler: d.sampler, steps: d.steps, guidance: d.guidance, ...(d.guidanceInterval ? { guidanceInterval: d.guidanceInterval } : {}), eta: 0, timestepSpacing: d.timestepSpacing, clipSample: true };
  if (values.out) mkdirSync(values.out, { recursive: true });
  const photos = [freePhoto(240, 280), freePhoto(480, 340)];
  console.log(`model ${m.id} ${m.version}, ${d.sampler} ${d.steps} steps, guidance ${d.guidance}, onnxruntime-node ${model.threads} thread(s)`);
  console.log('photo                      size     case              mask px  windows  evals   total s  s/window  seam worst (edge)  tile-edge/inside');
  for (const [pi, ph] of photos.entries()) {
    const g = decodeImage(readFileSync(ph.path), ph.name);
    const photo = { ...g, name: ph.name };
    const { width: w, height: h } = g;
    if (values.out) writeFileSync(join(values.out, `photo${pi}.png`), encodeGrayPng(g.pixels, w, h));
    const cases: [string, string, Uint8Array][] = [
      ['blowhole r6', 'Blowhole', diskMask(w, h, Math.round(w * 0.3), Math.round(h * 0.4), 6)],
      ['crack 60px', 'Crack', crackMask(w, h, Math.round(w * 0.55), Math.round(h * 0.2), 60, 70)],
      ['crack 160px', 'Crack', crackMask(w, h, Math.round(w * 0.3), Math.round(h * 0.25), 160, 62)],
      ...(pi === 1 ? [['crack 300px', 'Crack', crackMask(w, h, Math.round(w * 0.1), Math.round(h * 0.3), 300, 18)] as [string, string, Uint8Array]] : []),
      ['Fray (real, 20%)', 'Fray', realMask('Fray', w, h, 0.2).mask],
      ['Break (real)', 'Break', realMask('Break', w, h, 0.06).mask],
      ['Uneven (real, 20%)', 'Uneven', realMask('Uneven', w, h, 0.2).mask],
    ];
    for (const [ci, [label, className, mask]] of cases.entries()) {
      const req: GenerateRequest = { ...base, className, seed: 100 + ci };
      if (values.only && !label.includes(values.only)) continue;
      const margin = Number(values.margin ?? '4');
      // As the studio does, or with another feather for every case (a single window too).
      const r = values.feather === undefined
        ? await generateOnPhoto(m, model.maskLibrary, model.denoise, req, photo, mask, 'native', {}, margin)
        : await generateTiled(m, model.denoise, req, photo, mask, planWindows(mask, w, h, m.image.width, margin), 'native', {}, { ...DEFAULT_TILING, feather: Number(values.feather) });
      const wins = r.provenance.windows ?? [];
      const area = regeneratedArea(wins, w, h);
      const s = seamMeasure(r.pixels, g.pixels, area, mask, w, h);
      const t = tileEdgeEnergy(r.pixels, area, wins, w, h);
      const px = mask.reduce((a, v) => a + v, 0);
      const sec = r.provenance.timings.totalMs / 1000;
      console.log(`${ph.name.padEnd(26)} ${`${w}x${h}`.padEnd(8)} ${label.padEnd(17)} ${String(px).padStart(7)}  ${String(wins.length).padStart(7)}  ${String(r.provenance.modelEvaluations).padStart(5)}  ${sec.toFixed(2).padStart(8)}  ${(sec / wins.length).toFixed(2).padStart(8)}  ${s.worst.toFixed(2).padStart(10)} (edge ${s.contours[0]!.ratio.toFixed(2)})          ${t.inside ? (t.edge / t.inside).toFixed(2) : '-'}`);
      if (process.env.SEAM_DETAIL) console.log('   contours', s.contours.map((c) => `${c.pairs}:${c.ratio.toFixed(2)}`).join(' '));
      if (values.out) writeFileSync(join(values.out, `photo${pi}_${label.replace(/[^a-z0-9]+/gi, '_')}.png`), r.png);
    }
  }
  await model.session.release();
}
