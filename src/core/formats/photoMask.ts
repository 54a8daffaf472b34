/**
 * A real defect mask put on a photo at the model's native pixel scale (no resizing: sizes are the data's) and
 * where it was on its own part: the mask's bounding-box centre keeps its position relative to the part photo it
 * came from, so a Break or Fray that sits on a tile's edge lands on the new photo's edge. A seeded Rng flips it
 * (left-right, top-bottom); the mask is cropped to the photo. Used by scripts/generate.ts --photos.
 */
import { maskBbox } from './coco';
import type { Rng } from '../diffusion/rng';

export interface GrayMask {
  width: number;
  height: number;
  /** 0/1 */
  pixels: Uint8Array;
}

/** null when the mask is empty or nothing of it lands on the photo. */
export function placeRealMask(src: GrayMask, width: number, height: number, rng: Rng): Uint8Array | null {
  const bbox = maskBbox(src.pixels, src.width, src.height);
  if (!bbox) return null;
  const flipX = (rng.nextUint32() & 1) === 1;
  const flipY = (rng.nextUint32() & 1) === 1;
  const [bx, by, bw, bh] = bbox;
  // bbox centre relative to the source part, mirrored with the flip, at the same place on the target
  let rx = (bx + bw / 2) / src.width, ry = (by + bh / 2) / src.height;
  if (flipX) rx = 1 - rx;
  if (flipY) ry = 1 - ry;
  // keep the whole shape on the photo when it fits (a defect on an edge stays on that edge)
  const ox = Math.round(Math.min(Math.max(rx * width - bw / 2, 0), Math.max(0, width - bw)));
  const oy = Math.round(Math.min(Math.max(ry * height - bh / 2, 0), Math.max(0, height - bh)));
  const out = new Uint8Array(width * height);
  let on = 0;
  for (let y = 0; y < bh; y++)
    for (let x = 0; x < bw; x++) {
      const sx = flipX ? bx + bw - 1 - x : bx + x, sy = flipY ? by + bh - 1 - y : by + y;
      if (!src.pixels[sy * src.width + sx]) continue;
      const tx = ox + x, ty = oy + y;
      if (tx < width && ty < height) {
        out[ty * width + tx] = 1;
        on++;
      }
    }
  return on ? out : null;
}
