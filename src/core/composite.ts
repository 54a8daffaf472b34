/**
 * Defects on real photos: the photo can be any size, the model works on fixed windows at its native pixel
 * scale. Each connected region of the painted mask gets its own window, centred on the region and clamped to
 * the photo; inside it, a hole (the region's bounding box grown by a margin) is regenerated while the rest of
 * the window is the photo (the model's known-image input plus the core's known-region blending). The window
 * is then pasted back: only hole pixels can change, so every pixel outside the hole, and therefore outside
 * the window, is bit-identical to the photo, and the exported mask is exactly the painted one.
 */
import { StudioError } from './errors';
import { generateImage, pngText, type DenoiseFn, type GenerateHooks } from './generate';
import { encodeGrayPng, encodeMaskPng } from './image';
import type { ModelManifest } from './manifest';
import type { MaskLibrary } from './maskLibrary';
import type { Backend, GenerateRequest, GenerateResult, PhotoWindow, Provenance } from './protocol';
import { deriveSeed } from './rng';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';

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

/**
 * Windows for a painted mask: regions whose bounding boxes (plus margin) fit in one window together are
 * merged, so several nearby strokes share a window; each window is centred on its regions and clamped.
 */
export function planWindows(mask: Uint8Array, w: number, h: number, size: number, margin: number): PhotoWindow[] {
  if (w < size || h < size) throw new StudioError('badRequest', `the photo is ${w}x${h}; it must be at least ${size}x${size} pixels (the model's window at its native scale)`);
  const regions = connectedRegions(mask, w, h);
  if (!regions.length) throw new StudioError('badRequest', 'the mask is empty: paint where the defect should go');
  const groups: Region[][] = [];
  for (const r of regions) {
    const g = groups.find((gr) => {
      const x0 = Math.min(r.x0, ...gr.map((q) => q.x0)) - margin, x1 = Math.max(r.x1, ...gr.map((q) => q.x1)) + margin;
      const y0 = Math.min(r.y0, ...gr.map((q) => q.y0)) - margin, y1 = Math.max(r.y1, ...gr.map((q) => q.y1)) + margin;
      return x1 - x0 <= size && y1 - y0 <= size;
    });
    if (g) g.push(r);
    else groups.push([r]);
  }
  return groups.map((g) => {
    const bx0 = Math.min(...g.map((q) => q.x0)), bx1 = Math.max(...g.map((q) => q.x1));
    const by0 = Math.min(...g.map((q) => q.y0)), by1 = Math.max(...g.map((q) => q.y1));
    if (bx1 - bx0 > size || by1 - by0 > size)
      throw new StudioError('badRequest', `a painted region is ${bx1 - bx0}x${by1 - by0} pixels; each region must fit in the model's ${size}x${size} window (paint smaller regions, or several)`);
    const cx = Math.round((bx0 + bx1) / 2), cy = Math.round((by0 + by1) / 2);
    const half = Math.floor(size / 2);
    const x = Math.min(w - size, Math.max(0, cx - half)), y = Math.min(h - size, Math.max(0, cy - half));
    const hole = { x0: Math.max(x, bx0 - margin) - x, y0: Math.max(y, by0 - margin) - y, x1: Math.min(x + size, bx1 + margin) - x, y1: Math.min(y + size, by1 + margin) - y };
    return { x, y, size, hole };
  });
}

export interface Photo {
  width: number;
  height: number;
  pixels: Uint8Array;
  name: string;
}

export function cropWindow(src: Uint8Array, w: number, win: PhotoWindow): Uint8Array {
  const out = new Uint8Array(win.size * win.size);
  for (let y = 0; y < win.size; y++) out.set(src.subarray((win.y + y) * w + win.x, (win.y + y) * w + win.x + win.size), y * win.size);
  return out;
}

/**
 * Generates a defect into a real photo for each window of the painted mask and returns the full-resolution
 * image and mask. Window k uses seed deriveSeed(seed, k + 1) so results are reproducible per window.
 */
export async function generateOnPhoto(
  m: ModelManifest,
  lib: MaskLibrary | null,
  denoise: DenoiseFn,
  req: GenerateRequest,
  photo: Photo,
  mask: Uint8Array,
  backend: Backend,
  hooks: GenerateHooks = {},
  margin = 4,
): Promise<GenerateResult> {
  checkPhoto(m, photo, mask);
  const windows = planWindows(Uint8Array.from(mask, (v) => (v ? 1 : 0)), photo.width, photo.height, m.image.width, margin);
  return generateInWindows(m, lib, denoise, req, photo, mask, windows, backend, hooks);
}

function checkPhoto(m: ModelManifest, photo: Photo, mask: Uint8Array): void {
  const { width: w, height: h } = photo;
  if (photo.pixels.length !== w * h) throw new StudioError('badRequest', `the photo has ${photo.pixels.length} pixels, expected ${w}x${h}`);
  if (mask.length !== w * h) throw new StudioError('badRequest', `the mask is ${mask.length} pixels but the photo is ${w}x${h} = ${w * h}; paint the mask on this photo`);
  if (m.image.width !== m.image.height) throw new StudioError('capability', 'photo mode needs a model with square windows');
  if (!m.conditions.inpainting) throw new StudioError('capability', `model ${m.id} cannot keep a known image (no inpainting inputs); use it without a photo`);
}

/**
 * generateOnPhoto with the windows given rather than planned: what a reproduction does with the windows an
 * image's provenance records (scripts/reproduce.ts), so it does not depend on the margin the studio used.
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
  const { width: w, height: h } = photo;
  const size = m.image.width;
  for (const win of windows)
    if (win.size !== size || win.x < 0 || win.y < 0 || win.x + size > w || win.y + size > h || !(0 <= win.hole.x0 && win.hole.x0 < win.hole.x1 && win.hole.x1 <= size && 0 <= win.hole.y0 && win.hole.y0 < win.hole.y1 && win.hole.y1 <= size))
      throw new StudioError('badRequest', `window ${JSON.stringify(win)} does not fit: windows must be ${size}x${size} inside the ${w}x${h} photo, with the hole inside the window`);
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
  const provenance: Provenance = {
    modelId: m.id, modelVersion: m.version, modelSha256: m.sha256, className: req.className, classIndex: m.classes.indexOf(req.className),
    prompt: req.prompt, seed: req.seed, sampler: req.sampler, steps: req.steps, guidance: req.guidance,
    ...(req.guidanceInterval ? { guidanceInterval: [req.guidanceInterval[0], req.guidanceInterval[1]] as const } : {}),
    eta: req.eta,
    timestepSpacing: req.timestepSpacing, clipSample: req.clipSample, maskSource: 'given' as const, maskSha256: bytesToHex(sha256(bin)),
    inpainting: true, backend, timings: { totalMs: (hooks.now?.() ?? Date.now()) - t0, modelMs, steps }, modelEvaluations,
    basePhoto: { name: photo.name, sha256: bytesToHex(sha256(photo.pixels)), width: w, height: h }, windows: [...windows],
  };
  return { width: w, height: h, pixels: out, mask: bin, png: encodeGrayPng(out, w, h, pngText(provenance)), maskPng: encodeMaskPng(bin, w, h), provenance };
}
