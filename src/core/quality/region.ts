/**
 * What of a generated image the evaluation judges. A window item is judged whole. A photo item (made on a real
 * photo: provenance.basePhoto + windows) is judged on its generated region: its first window, the model-sized
 * square around (part of) the regenerated area, which is also the window the studio's worker embeds at
 * generation. Not the whole photo, whose pixels are almost all the real photo.
 *
 * Memorisation of a photo item must come from its regenerated pixels, not from the real photo around them:
 * backgroundOnly() gives the same window with every regenerated pixel (the union of the item's holes) replaced
 * by an interpolation of the photo pixels around the hole, so whatever is left is the photo. When that
 * background-only window is already within the memorisation distance of a real reference window, nearness is
 * the photo's doing and the item is not flagged (memorisedRegion).
 */
import { StudioError } from '../errors';
import { cropWindow } from '../diffusion/composite';
import type { PhotoWindow, Provenance } from '../model/protocol';

export interface JudgedRegion {
  /** size x size 8-bit gray window that is judged */
  pixels: Uint8Array;
  /** photo items: the window with its regenerated pixels filled from the photo around them */
  background: Uint8Array | null;
  /** 'window': the whole image; 'photo window': a photo item's first window; 'centre crop': a larger image without windows */
  region: 'window' | 'photo window' | 'centre crop';
}

/** 1 where a pixel of window `win` lies in any window's hole (the regenerated area), in window coordinates. */
export function regeneratedMask(windows: readonly PhotoWindow[], win: PhotoWindow): Uint8Array {
  const s = win.size;
  const m = new Uint8Array(s * s);
  for (const w of windows) {
    const x0 = Math.max(w.x + w.hole.x0, win.x), x1 = Math.min(w.x + w.hole.x1, win.x + s);
    const y0 = Math.max(w.y + w.hole.y0, win.y), y1 = Math.min(w.y + w.hole.y1, win.y + s);
    for (let y = y0; y < y1; y++) m.fill(1, (y - win.y) * s + (x0 - win.x), (y - win.y) * s + (x1 - win.x));
  }
  return m;
}

/**
 * The window with its masked pixels replaced: per pixel the mean of a linear interpolation along its row
 * between the nearest unmasked pixels left and right, and the same along its column (one side only at the
 * window's edge; the mean of all unmasked pixels when a row and column are masked through).
 */
export function backgroundOnly(px: Uint8Array, mask: Uint8Array, size: number): Uint8Array {
  if (px.length !== size * size || mask.length !== size * size) throw new StudioError('badRequest', `backgroundOnly: a ${size}x${size} window and mask are needed`);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < px.length; i++) if (!mask[i]) {
    sum += px[i] as number;
    n++;
  }
  const fallback = n ? sum / n : 128;
  const along = (get: (k: number) => number, free: (k: number) => boolean, k: number): number | null => {
    let a = k - 1;
    while (a >= 0 && !free(a)) a--;
    let b = k + 1;
    while (b < size && !free(b)) b++;
    if (a < 0 && b >= size) return null;
    if (a < 0) return get(b);
    if (b >= size) return get(a);
    return get(a) + ((get(b) - get(a)) * (k - a)) / (b - a);
  };
  const out = Uint8Array.from(px);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      if (!mask[y * size + x]) continue;
      const row = along((k) => px[y * size + k] as number, (k) => !mask[y * size + k], x);
      const col = along((k) => px[k * size + x] as number, (k) => !mask[k * size + x], y);
      const v = row !== null && col !== null ? (row + col) / 2 : (row ?? col ?? fallback);
      out[y * size + x] = Math.round(v);
    }
  return out;
}

function centreCrop(px: Uint8Array, width: number, height: number, size: number): Uint8Array {
  const top = Math.floor((height - size) / 2);
  const left = Math.floor((width - size) / 2);
  const out = new Uint8Array(size * size);
  for (let r = 0; r < size; r++) out.set(px.subarray((top + r) * width + left, (top + r) * width + left + size), r * size);
  return out;
}

/** The region of an image that is judged (see the file comment); `name` goes into the errors. */
export function judgedRegion(
  img: { width: number; height: number; pixels: Uint8Array },
  provenance: Pick<Provenance, 'basePhoto' | 'windows'> | null,
  size: number,
  name: string,
): JudgedRegion {
  const wins = provenance?.basePhoto ? provenance.windows : undefined;
  if (wins?.length) {
    const win = wins[0] as PhotoWindow;
    if (win.size !== size) throw new StudioError('badRequest', `${name}: its first window is ${win.size} pixels; the classifier takes ${size}x${size}`);
    if (win.x < 0 || win.y < 0 || win.x + size > img.width || win.y + size > img.height)
      throw new StudioError('badRequest', `${name}: its first window (${win.x}, ${win.y}, ${size}) lies outside the ${img.width}x${img.height} image`);
    const pixels = cropWindow(img.pixels, img.width, win);
    return { pixels, background: backgroundOnly(pixels, regeneratedMask(wins, win), size), region: 'photo window' };
  }
  if (img.width === size && img.height === size) return { pixels: img.pixels, background: null, region: 'window' };
  if (img.width < size || img.height < size) throw new StudioError('badRequest', `${name} is ${img.width}x${img.height}; the classifier needs at least ${size}x${size}`);
  return { pixels: centreCrop(img.pixels, img.width, img.height, size), background: null, region: 'centre crop' };
}

/**
 * Memorisation verdict of one sample from nearest-real distances: `nearest` of the judged window, and for a
 * photo item `backgroundNearest` of its background-only window (undefined: a window item; null: a photo item
 * whose background was not embedded, so its memorisation cannot be judged).
 */
export function memorisedRegion(nearest: number, threshold: number, backgroundNearest?: number | null): 'memorised' | 'not memorised' | 'background near real' | 'not judged' {
  if (backgroundNearest === null) return 'not judged';
  if (!(nearest < threshold)) return 'not memorised';
  if (backgroundNearest !== undefined && backgroundNearest < threshold) return 'background near real';
  return 'memorised';
}
