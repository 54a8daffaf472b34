/**
 * Painted masks for trying defects on whole photos (scripts/photoBench.ts and the seam test): strokes of a
 * given length, as a user would paint them, and real defect masks of the magnetic-tile training split resized
 * (nearest) to the photo, so their sizes and places are the data's. Only masks are read from the dataset.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, type Gray } from '../../src/core/formats/image';

export const DATASET = '../shared/datasets/magnetic-tile/train';

/** A thin wavy crack of about `length` px, `width` px wide, from (x0, y0) heading at `angle` degrees. */
export function crackMask(w: number, h: number, x0: number, y0: number, length: number, angle: number, width = 3): Uint8Array {
  const mask = new Uint8Array(w * h);
  const a = (angle * Math.PI) / 180;
  const ux = Math.cos(a), uy = Math.sin(a);
  for (let t = 0; t <= length; t += 0.5) {
    const wobble = 4 * Math.sin(t / 17) + 2 * Math.sin(t / 5.3);
    const cx = x0 + t * ux - wobble * uy, cy = y0 + t * uy + wobble * ux;
    const r = (width / 2) * (1 - (0.6 * t) / length);
    for (let dy = -Math.ceil(r); dy <= Math.ceil(r); dy++)
      for (let dx = -Math.ceil(r); dx <= Math.ceil(r); dx++) {
        const x = Math.round(cx + dx), y = Math.round(cy + dy);
        if (x >= 0 && y >= 0 && x < w && y < h && dx * dx + dy * dy <= r * r + 0.25) mask[y * w + x] = 1;
      }
  }
  return mask;
}

/** A filled disk (a blowhole-sized spot). */
export function diskMask(w: number, h: number, cx: number, cy: number, r: number): Uint8Array {
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) mask[y * w + x] = 1;
  return mask;
}

/** The real mask of the class whose area share of its tile is nearest `share`, resized (nearest) to w x h. */
export function realMask(className: string, w: number, h: number, share: number): { mask: Uint8Array; source: string; share: number } {
  const dir = join(DATASET, className);
  if (!existsSync(dir)) throw new Error(`${dir} is missing (the magnetic-tile dataset)`);
  let best: { g: Gray; f: string; s: number } | null = null;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('_mask.png')).sort()) {
    const g = decodeImage(readFileSync(join(dir, f)), f);
    let on = 0;
    for (const v of g.pixels) if (v > 127) on++;
    const s = on / g.pixels.length;
    if (!best || Math.abs(s - share) < Math.abs(best.s - share)) best = { g, f, s };
  }
  if (!best) throw new Error(`${dir} has no masks`);
  const { g } = best;
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) mask[y * w + x] = (g.pixels[Math.floor((y * g.height) / h) * g.width + Math.floor((x * g.width) / w)] as number) > 127 ? 1 : 0;
  return { mask, source: `${className}/${best.f}`, share: best.s };
}

/** The first defect-free photo of the split (sorted by name) whose size is at least minW x minH. */
export function freePhoto(minW: number, minH: number): { name: string; path: string } {
  const dir = join(DATASET, 'Free');
  if (!existsSync(dir)) throw new Error(`${dir} is missing (the magnetic-tile dataset)`);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jpg')).sort()) {
    const b = readFileSync(join(dir, f));
    const g = decodeImage(b, f);
    if (g.width >= minW && g.height >= minH) return { name: f, path: join(dir, f) };
  }
  throw new Error(`no photo of at least ${minW}x${minH} in ${dir}`);
}
