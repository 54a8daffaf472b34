/**
 * The README's figure of defects generated on whole tiles, one per defect class, made from the real data here:
 *
 *   npx tsx scripts/photoFigure.ts --photos ../shared/datasets/magnetic-tile/train/Free --out docs/photo-defects.png
 *       [--model public/models/magtile-defect-64] [--seed 1] [--threads 2] [--keep-photo <folder>]
 *
 * For each class a defect-free photo and a real whole-part mask of the class (the model's part_masks.json, native
 * size, its own place on its part) are drawn from the seed, and the defect is generated there as
 * `npm run generate -- --photos` does. The figure shows each tile at 1:1 with every pixel the generator left as
 * the photo painted mid-gray: the dataset's README asks not to republish its images, and a tile with its real
 * background would be one. What is shown is only what the model made (the regenerated area, including the
 * feathered band where it fades into the photo), at its real size and place. Panels are in class order, left to
 * right, separated by white. --keep-photo writes the full results (with the real background) to a folder for
 * looking at locally; do not commit those.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { regeneratedArea } from '../src/core/diffusion/composite';
import { Rng, deriveSeed } from '../src/core/diffusion/rng';
import { generateOnPhoto } from '../src/core/diffusion/tiled';
import { decodeImage, encodeGrayPng } from '../src/core/formats/image';
import { drawPartMask, parsePartMaskLibrary, PART_MASKS_FILE } from '../src/core/formats/partMasks';
import { buildRequest } from '../src/core/model/request';
import { loadNodeModel } from './lib/nodeModel';

const GAP = 6;
const GRAY = 128;

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('scripts/photoFigure.ts');
if (isMain) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, photos: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' }, 'keep-photo': { type: 'string' } } });
  if (!values.photos || !values.out) {
    console.error('usage: npx tsx scripts/photoFigure.ts --photos <folder of defect-free photos> --out figure.png [--model dir] [--seed 1] [--threads N] [--keep-photo dir]');
    process.exit(2);
  }
  const dir = values.model ?? 'public/models/magtile-defect-64';
  const model = await loadNodeModel(dir, 'native', Number(values.threads ?? '0'));
  const m = model.manifest;
  const lib = parsePartMaskLibrary(JSON.parse(readFileSync(join(dir, PART_MASKS_FILE), 'utf8')) as unknown);
  const photos = readdirSync(values.photos).filter((f) => /\.(png|jpe?g)$/i.test(f) && !/mask/i.test(f)).sort();
  const seed = Number(values.seed ?? '1');
  const panels: { w: number; h: number; px: Uint8Array }[] = [];
  if (values['keep-photo']) mkdirSync(values['keep-photo'], { recursive: true });
  for (const className of m.classes.filter((c) => (lib.classes[c]?.length ?? 0) > 0)) {
    const rng = new Rng(deriveSeed(seed, m.classes.indexOf(className)));
    const name = photos[rng.nextUint32() % photos.length] as string;
    const g = decodeImage(new Uint8Array(readFileSync(join(values.photos, name))), name);
    const { mask } = drawPartMask(lib, className, g.width, g.height, rng);
    const req = buildRequest(m, { className, seed });
    const r = await generateOnPhoto(m, model.maskLibrary, model.denoise, req, { ...g, name }, mask, 'native');
    const area = regeneratedArea(r.provenance.windows ?? [], g.width, g.height);
    // only the generated pixels: where the result still equals the photo outside the regenerated area, gray
    const px = r.pixels.map((v, i) => (area[i] ? v : GRAY));
    panels.push({ w: g.width, h: g.height, px });
    const windows = r.provenance.windows?.length ?? 0;
    const share = (100 * mask.reduce((a, v) => a + v, 0)) / (g.width * g.height);
    console.log(`${className.padEnd(9)} on ${name} (${g.width}x${g.height}): mask ${share.toFixed(1)}% of the tile, ${windows} window(s), ${(r.provenance.timings.totalMs / 1000).toFixed(1)} s`);
    if (values['keep-photo']) writeFileSync(join(values['keep-photo'], `${className}.png`), r.png);
  }
  const H = Math.max(...panels.map((p) => p.h));
  const W = panels.reduce((a, p) => a + p.w, 0) + GAP * (panels.length - 1);
  const out = new Uint8Array(W * H).fill(255);
  let x0 = 0;
  for (const p of panels) {
    for (let y = 0; y < p.h; y++) out.set(p.px.subarray(y * p.w, (y + 1) * p.w), y * W + x0);
    x0 += p.w + GAP;
  }
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, encodeGrayPng(out, W, H));
  console.log(`wrote ${values.out} (${W}x${H}); model ${m.id} ${m.version}, ${req0(m)}`);
  await model.session.release();
}

function req0(m: { defaults: { sampler: string; steps: number; guidance: number } }): string {
  return `${m.defaults.sampler} ${m.defaults.steps} steps, guidance ${m.defaults.guidance}`;
}
