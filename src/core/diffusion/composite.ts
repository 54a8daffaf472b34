/**
 * Defects on real photos: the photo can be any size, the model works on fixed windows at its native pixel
 * scale. planWindows covers the painted mask with windows: one per group of nearby small regions, a grid of
 * overlapping tiles for a region larger than that. Inside each window a hole is regenerated while the rest is
 * the photo (the model's known-image input plus the core's known-region blending); tiled.ts denoises all the
 * windows of an item jointly and writes back only the holes, so every pixel outside them is bit-identical to the
 * photo, and the exported mask is exactly the painted one. generateInWindows is the older one-window-at-a-time
 * path, kept so that items made with it can be made again.
 */
import { StudioError } from '../errors';
import { generateImage, pngText, type GenerateHooks } from './generate';
import type { DenoiseFn } from '../model/denoiser';
import { encodeGeneratedPng, encodeMaskPng, graySha256 } from '../formats/image';
import type { ModelManifest } from '../model/manifest';
import type { MaskLibrary } from '../formats/maskLibrary';
import type { Backend, GenerateRequest, GenerateResult, PhotoWindow, Provenance, Tiling } from '../model/protocol';
import { deriveSeed } from './rng';
import { buildProvenance } from '../model/provenance';

export interface Region {
  /** bounding box of the region, inclusive-exclusive */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  pixels: number[];
}

/** 8-connected regions of a 0/1 mask, in scan order. */
export function connectedRegions(mask: Uint8Array, w: number, h: number): Region[] {
  const seen = new Uint8Array(w * h);
  const out: Region[] = [];
  const stack: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (!mask[start] || seen[start]) continue;
    const r: Region = { x0: w, y0: h, x1: 0, y1: 0, pixels: [] };
    stack.push(start);
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop() as number;
      r.pixels.push(p);
      const x = p % w, y = (p - x) / w;
      if (x < r.x0) r.x0 = x;
      if (y < r.y0) r.y0 = y;
      if (x + 1 > r.x1) r.x1 = x + 1;
      if (y + 1 > r.y1) r.y1 = y + 1;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const q = ny * w + nx;
          if (mask[q] && !seen[q]) {
            seen[q] = 1;
            stack.push(q);
          }
        }
    }
    out.push(r);
  }
  return out;
}

/** Photo pixels of context every window keeps around its hole when the region is tiled (and at least around a single window's). */
export const TILE_CONTEXT = 16;
/** Largest distance between neighbouring tiles: half a window, so every pixel lies in the central half of some tile. */
export const tileStride = (size: number): number => Math.floor(size / 2);

/**
 * Windows for a painted mask. Regions whose bounding boxes fit in one window together with the margin and some
 * photo context on every side are merged, so nearby strokes share a window, centred on them and clamped to the
 * photo; its hole is their bounding box grown by the margin. A region too large for that is covered by a grid
 * of overlapping windows (at most tileStride apart, reaching TILE_CONTEXT photo pixels past the region plus
 * margin), to be denoised jointly (tiled.ts); each tile's hole is the bounding box, grown by the margin, of the
 * region's pixels nearer to that tile's centre than to its neighbours', so a diagonal crack regenerates a band
 * of blocks along it rather than its whole bounding box. Tiles whose window meets no hole are dropped. The
 * regenerated area is the union of the holes; it holds every painted pixel.
 */
export function planWindows(mask: Uint8Array, w: number, h: number, size: number, margin: number, context = TILE_CONTEXT): PhotoWindow[] {
  if (w < size || h < size) throw new StudioError('badRequest', `the photo is ${w}x${h}; it must be at least ${size}x${size} pixels (the model's window at its native scale)`);
  const regions = connectedRegions(mask, w, h);
  if (!regions.length) throw new StudioError('badRequest', 'the mask is empty: paint where the defect should go');
  // A single window leaves at least half the tile context around its hole (more is taken when it is there).
  const fits = (x0: number, y0: number, x1: number, y1: number) => x1 - x0 + 2 * margin + context <= size && y1 - y0 + 2 * margin + context <= size;
  const groups: Region[][] = [];
  for (const r of regions) {
    const g = groups.find((gr) =>
      fits(Math.min(r.x0, ...gr.map((q) => q.x0)), Math.min(r.y0, ...gr.map((q) => q.y0)), Math.max(r.x1, ...gr.map((q) => q.x1)), Math.max(r.y1, ...gr.map((q) => q.y1))));
    if (g) g.push(r);
    else groups.push([r]);
  }
  const half = Math.floor(size / 2);
  const windows: PhotoWindow[] = [];
  for (const g of groups) {
    const bx0 = Math.min(...g.map((q) => q.x0)), bx1 = Math.max(...g.map((q) => q.x1));
    const by0 = Math.min(...g.map((q) => q.y0)), by1 = Math.max(...g.map((q) => q.y1));
    if (fits(bx0, by0, bx1, by1)) {
      const cx = Math.round((bx0 + bx1) / 2), cy = Math.round((by0 + by1) / 2);
      const x = Math.min(w - size, Math.max(0, cx - half)), y = Math.min(h - size, Math.max(0, cy - half));
      const hole = { x0: Math.max(x, bx0 - margin) - x, y0: Math.max(y, by0 - margin) - y, x1: Math.min(x + size, bx1 + margin) - x, y1: Math.min(y + size, by1 + margin) - y };
      windows.push({ x, y, size, hole });
    } else windows.push(...tileRegion(g[0] as Region, w, h, size, margin, context));
  }
  return windows;
}

/** Window origins along one axis covering [a0, a1) (already inside [0, extent)), evenly spaced at most tileStride apart. */
function axisTiles(a0: number, a1: number, extent: number, size: number): number[] {
  const len = a1 - a0;
  if (len <= size) return [Math.min(extent - size, Math.max(0, Math.round((a0 + a1) / 2) - Math.floor(size / 2)))];
  const n = Math.ceil((len - size) / tileStride(size)) + 1;
  return Array.from({ length: n }, (_, k) => a0 + Math.round((k * (len - size)) / (n - 1)));
}

/** Which tile's core each coordinate is in: the tile whose centre is nearest (ties to the earlier tile). */
function coreOf(starts: number[], extent: number, size: number): Int32Array {
  const out = new Int32Array(extent);
  let k = 0;
  for (let v = 0; v < extent; v++) {
    // pixel centre v + 1/2 is past the midpoint of the centres s_k + size/2 and s_{k+1} + size/2
    while (k + 1 < starts.length && 2 * v + 1 > (starts[k] as number) + (starts[k + 1] as number) + size) k++;
    out[v] = k;
  }
  return out;
}

function tileRegion(r: Region, w: number, h: number, size: number, margin: number, context: number): PhotoWindow[] {
  const reach = margin + context;
  const clampSpan = (a0: number, a1: number, extent: number): [number, number] => {
    let lo = Math.max(0, a0), hi = Math.min(extent, a1);
    if (hi - lo < size) {
      const grow = size - (hi - lo);
      lo = Math.max(0, lo - Math.ceil(grow / 2));
      hi = Math.min(extent, lo + size);
      lo = hi - size;
    }
    return [lo, hi];
  };
  const [ax0, ax1] = clampSpan(r.x0 - reach, r.x1 + reach, w);
  const [ay0, ay1] = clampSpan(r.y0 - reach, r.y1 + reach, h);
  const xs = axisTiles(ax0, ax1, w, size), ys = axisTiles(ay0, ay1, h, size);
  const cx = coreOf(xs, w, size), cy = coreOf(ys, h, size);
  const nx = xs.length;
  const box = Array.from({ length: xs.length * ys.length }, () => ({ x0: w, y0: h, x1: 0, y1: 0 }));
  for (const p of r.pixels) {
    const x = p % w, y = (p - x) / w;
    const b = box[(cy[y] as number) * nx + (cx[x] as number)] as { x0: number; y0: number; x1: number; y1: number };
    if (x < b.x0) b.x0 = x;
    if (y < b.y0) b.y0 = y;
    if (x + 1 > b.x1) b.x1 = x + 1;
    if (y + 1 > b.y1) b.y1 = y + 1;
  }
  const tiles: PhotoWindow[] = [];
  ys.forEach((y, j) =>
    xs.forEach((x, i) => {
      const b = box[j * nx + i] as { x0: number; y0: number; x1: number; y1: number };
      const empty = { x0: 0, y0: 0, x1: 0, y1: 0 };
      const hole = b.x1 <= b.x0
        ? empty
        : { x0: Math.max(x, b.x0 - margin) - x, y0: Math.max(y, b.y0 - margin) - y, x1: Math.min(x + size, b.x1 + margin) - x, y1: Math.min(y + size, b.y1 + margin) - y };
      tiles.push({ x, y, size, hole });
    }),
  );
  // A tile with no hole of its own still helps where a neighbour's hole reaches into it; one meeting no hole does nothing.
  const holes = tiles.filter((t) => t.hole.x1 > t.hole.x0).map((t) => ({ x0: t.x + t.hole.x0, y0: t.y + t.hole.y0, x1: t.x + t.hole.x1, y1: t.y + t.hole.y1 }));
  return tiles.filter((t) => holes.some((o) => o.x0 < t.x + size && t.x < o.x1 && o.y0 < t.y + size && t.y < o.y1));
}

export interface Photo {
  width: number;
  height: number;
  pixels: Uint8Array;
  name: string;
}

/** 1 on the pixels a photo item regenerated (the union of its windows' holes), 0 elsewhere. */
export function regeneratedArea(windows: readonly PhotoWindow[], w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (const win of windows)
    for (let y = win.y + win.hole.y0; y < win.y + win.hole.y1; y++) out.fill(1, y * w + win.x + win.hole.x0, y * w + win.x + win.hole.x1);
  return out;
}

export function cropWindow(src: Uint8Array, w: number, win: PhotoWindow): Uint8Array {
  const out = new Uint8Array(win.size * win.size);
  for (let y = 0; y < win.size; y++) out.set(src.subarray((win.y + y) * w + win.x, (win.y + y) * w + win.x + win.size), y * win.size);
  return out;
}

export function checkPhoto(m: ModelManifest, photo: Photo, mask: Uint8Array): void {
  const { width: w, height: h } = photo;
  if (photo.pixels.length !== w * h) throw new StudioError('badRequest', `the photo has ${photo.pixels.length} pixels, expected ${w}x${h}`);
  if (mask.length !== w * h) throw new StudioError('badRequest', `the mask is ${mask.length} pixels but the photo is ${w}x${h} = ${w * h}; paint the mask on this photo`);
  if (m.image.width !== m.image.height) throw new StudioError('capability', 'photo mode needs a model with square windows');
  if (!m.conditions.inpainting) throw new StudioError('capability', `model ${m.id} cannot keep a known image (no inpainting inputs); use it without a photo`);
}

/**
 * Refuses recorded windows that do not fit the photo or the model. Holes may be empty only in a tiling (a tile
 * that gives context to its neighbours' holes); one window on its own must regenerate something.
 */
export function checkWindows(m: ModelManifest, photo: Photo, windows: readonly PhotoWindow[], emptyHoles: boolean): void {
  const { width: w, height: h } = photo;
  const size = m.image.width;
  if (!windows.length) throw new StudioError('badRequest', 'no windows: a photo item regenerates at least one window');
  const okSpan = (a: number, b: number) => 0 <= a && (emptyHoles ? a <= b : a < b) && b <= size;
  for (const win of windows)
    if (win.size !== size || win.x < 0 || win.y < 0 || win.x + size > w || win.y + size > h || !(okSpan(win.hole.x0, win.hole.x1) && okSpan(win.hole.y0, win.hole.y1)))
      throw new StudioError('badRequest', `window ${JSON.stringify(win)} does not fit: windows must be ${size}x${size} inside the ${w}x${h} photo, with the hole inside the window`);
}

/** The provenance of a photo item (legacy windows or a joint tiling): the request, the photo, the windows. */
export function photoProvenance(
  m: ModelManifest, req: GenerateRequest, photo: Photo, bin: Uint8Array, windows: readonly PhotoWindow[], backend: Backend,
  timings: Provenance['timings'], modelEvaluations: number, tiling?: Tiling,
): Provenance {
  return buildProvenance(m, req, { maskSource: 'given', mask: bin, inpainting: true, backend, timings, modelEvaluations }, {
    basePhoto: { name: photo.name, sha256: graySha256(photo.pixels), width: photo.width, height: photo.height },
    windows,
    tiling,
  });
}

/**
 * Items made before the joint tiling (no provenance.tiling; protocol <= 4): the windows are generated one after
 * another, window k with seed deriveSeed(seed, k + 1), each seeing the photo as the earlier windows left it, and
 * each hole is pasted back. scripts/reproduce.ts remakes such items with the windows their provenance records.
 * For a single window this is the same computation as tiled.ts's generateTiled (same bytes; tested).
 */
export async function generateInWindows(
  m: ModelManifest,
  lib: MaskLibrary | null,
  denoise: DenoiseFn,
  req: GenerateRequest,
  photo: Photo,
  mask: Uint8Array,
  windows: readonly PhotoWindow[],
  backend: Backend,
  hooks: GenerateHooks = {},
): Promise<GenerateResult> {
  checkPhoto(m, photo, mask);
  checkWindows(m, photo, windows, false);
  const { width: w, height: h } = photo;
  const size = m.image.width;
  const bin = Uint8Array.from(mask, (v) => (v ? 1 : 0));
  const out = photo.pixels.slice();
  const t0 = hooks.now?.() ?? Date.now();
  let modelMs = 0;
  let steps = 0;
  let modelEvaluations = 0;
  for (let k = 0; k < windows.length; k++) {
    const win = windows[k] as PhotoWindow;
    const known = cropWindow(out, w, win);
    const keep = new Uint8Array(size * size).fill(1);
    for (let y = win.hole.y0; y < win.hole.y1; y++) keep.fill(0, y * size + win.hole.x0, y * size + win.hole.x1);
    const winMask = cropWindow(bin, w, win);
    const r = await generateImage(m, lib, denoise, { ...req, seed: deriveSeed(req.seed, k + 1), defectMask: winMask, knownImage: known, keepMask: keep }, backend, {
      ...hooks,
      onProgress: hooks.onProgress ? (p) => hooks.onProgress?.({ ...p, step: k * p.totalSteps + p.step, totalSteps: windows.length * p.totalSteps, etaMs: p.etaMs + (windows.length - k - 1) * (p.elapsedMs + p.etaMs) }) : undefined,
    });
    modelMs += r.provenance.timings.modelMs;
    steps += r.provenance.timings.steps;
    modelEvaluations += r.provenance.modelEvaluations ?? 0;
    for (let y = win.hole.y0; y < win.hole.y1; y++)
      for (let x = win.hole.x0; x < win.hole.x1; x++) out[(win.y + y) * w + win.x + x] = r.pixels[y * size + x] as number;
  }
  const provenance = photoProvenance(m, req, photo, bin, windows, backend, { totalMs: (hooks.now?.() ?? Date.now()) - t0, modelMs, steps }, modelEvaluations);
  return { width: w, height: h, pixels: out, mask: bin, png: encodeGeneratedPng(out, w, h, pngText(provenance)), maskPng: encodeMaskPng(bin, w, h), provenance };
}
