/**
 * A compact library of real defect-mask shapes per class, exported by training/export.py beside the model
 * (mask_library.json): windows of the model's size cropped around real defect components of the training
 * split, stored as run lengths. A "random mask" is one of them, chosen and flipped by a seeded Rng, so the
 * mask a request used is reproducible from its seed.
 */
import { maskBbox } from './coco';
import { Rng } from '../diffusion/rng';
import { StudioError } from '../errors';
import type { PromptConditions } from '../model/prompt';

export interface MaskLibrary {
  width: number;
  height: number;
  /** class name -> run-length-encoded masks (alternating runs of 0 and 1, starting with 0, row-major). */
  classes: Record<string, number[][]>;
}

export function parseMaskLibrary(raw: unknown): MaskLibrary {
  const o = raw as Partial<MaskLibrary> | null;
  if (!o || typeof o !== 'object' || !Number.isInteger(o.width) || !Number.isInteger(o.height) || typeof o.classes !== 'object' || o.classes === null)
    throw new StudioError('modelInvalid', 'mask_library.json must be {width, height, classes: {name: [[runs...]]}}');
  return o as MaskLibrary;
}

export function decodeRuns(runs: readonly number[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let pos = 0;
  runs.forEach((len, i) => {
    if (i % 2 === 1) out.fill(1, pos, Math.min(size, pos + len));
    pos += len;
  });
  if (pos !== size) throw new StudioError('modelInvalid', `mask run lengths add up to ${pos}, expected ${size}`);
  return out;
}

export function encodeRuns(mask: Uint8Array): number[] {
  const runs: number[] = [];
  let cur = 0;
  let len = 0;
  for (const v of mask) {
    const b = v ? 1 : 0;
    if (b === cur) len++;
    else {
      runs.push(len);
      cur = b;
      len = 1;
    }
  }
  runs.push(len);
  return runs;
}

/** A seeded random mask of `className`, or an all-zero mask when the library has none for it (e.g. Free). */
export function randomMask(lib: MaskLibrary, className: string, seed: number): Uint8Array {
  const { width: w, height: h } = lib;
  const shapes = lib.classes[className] ?? [];
  if (shapes.length === 0) return new Uint8Array(w * h);
  const rng = new Rng(seed);
  const base = decodeRuns(shapes[rng.nextUint32() % shapes.length] as number[], w * h);
  const flipX = (rng.nextUint32() & 1) === 1;
  const flipY = (rng.nextUint32() & 1) === 1;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) out[y * w + x] = base[(flipY ? h - 1 - y : y) * w + (flipX ? w - 1 - x : x)] as number;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Shaped random masks: library shapes cropped, scaled, rotated and placed (prompt conditions -> mask).
// randomMask above stays as it is: the command-line generator's byte-identical outputs depend on it.
// ---------------------------------------------------------------------------------------------------------

export interface MaskShapeOptions {
  /** Number of shapes, unioned (default 1; clamped to 1..MAX_MASK_SHAPES). */
  count?: number;
  /** Target area from the class's own area distribution: lower, middle or upper third. Default: the shape's own size. */
  size?: 'small' | 'medium' | 'large';
  /** Prefer the more elongated (thin) or more compact (round) half of the class's shapes. Default any. */
  shape?: 'thin' | 'round' | 'any';
  /** Principal axis of each shape after rotation; 'any' (default) is a random angle. */
  orientation?: 'horizontal' | 'vertical' | 'diagonal' | 'any';
  /** Window-relative centre in [0, 1] (x right, y down); null/undefined: a random position inside the window. */
  placement?: { x: number; y: number } | null;
  /** Only shapes that do not touch their window's border (a window-cut shape turned or moved shows the cut as a
   *  straight edge inside the window); all shapes when the class has none. Default false. */
  whole?: boolean;
}

export const MAX_MASK_SHAPES = 8;

/** A library window cropped to its bounding box, with its moments. */
interface Shape {
  w: number;
  h: number;
  px: Uint8Array;
  area: number;
  /** Centroid in crop coordinates (pixel centres at x + 0.5). */
  cx: number;
  cy: number;
  /** Principal-axis angle (radians, image coordinates: x right, y down), in (-pi/2, pi/2]. */
  theta: number;
  /** sqrt(major / minor eigenvalue) of the pixel-coordinate covariance; 1 for a disc. */
  elongation: number;
  /** Pixel centres relative to the centroid, [dx0, dy0, dx1, dy1, ...]. */
  offsets: Float64Array;
  /** The shape does not touch the window's border: the whole defect, not one cut by the window. */
  whole: boolean;
}

const shapeCache = new WeakMap<MaskLibrary, Map<string, Shape[]>>();

/** Whether a bounding box [x, y, width, height] keeps off the border of a w x h window: the shape is whole, not cut by the window. */
export function clearOfBorder(bbox: readonly [number, number, number, number], w: number, h: number): boolean {
  const [x, y, bw, bh] = bbox;
  return x > 0 && y > 0 && x + bw < w && y + bh < h;
}

function cropShape(mask: Uint8Array, w: number, h: number): Shape | null {
  const bbox = maskBbox(mask, w, h);
  if (!bbox) return null;
  const [x0, y0, cw, ch] = bbox;
  const px = new Uint8Array(cw * ch);
  let area = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < ch; y++)
    for (let x = 0; x < cw; x++)
      if (mask[(y + y0) * w + x + x0]) {
        px[y * cw + x] = 1;
        area++;
        sx += x + 0.5;
        sy += y + 0.5;
      }
  const cx = sx / area;
  const cy = sy / area;
  const offsets = new Float64Array(area * 2);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  let k = 0;
  for (let y = 0; y < ch; y++)
    for (let x = 0; x < cw; x++)
      if (px[y * cw + x]) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        offsets[k++] = dx;
        offsets[k++] = dy;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
      }
  const { theta, elongation } = principalAxis(sxx / area, syy / area, sxy / area);
  return { w: cw, h: ch, px, area, cx, cy, theta, elongation, offsets, whole: clearOfBorder(bbox, w, h) };
}

function principalAxis(sxx: number, syy: number, sxy: number): { theta: number; elongation: number } {
  const theta = 0.5 * Math.atan2(2 * sxy, sxx - syy);
  const tr = (sxx + syy) / 2;
  const d = Math.sqrt(((sxx - syy) / 2) ** 2 + sxy * sxy);
  const l1 = tr + d;
  const l2 = Math.max(tr - d, 1 / 12); // a one-pixel-wide line still has the variance of a unit pixel
  return { theta, elongation: Math.sqrt(l1 / l2) };
}

function libraryShapes(lib: MaskLibrary, className: string): Shape[] {
  let perLib = shapeCache.get(lib);
  if (!perLib) {
    perLib = new Map();
    shapeCache.set(lib, perLib);
  }
  let shapes = perLib.get(className);
  if (!shapes) {
    shapes = [];
    for (const runs of lib.classes[className] ?? []) {
      const s = cropShape(decodeRuns(runs, lib.width * lib.height), lib.width, lib.height);
      if (s) shapes.push(s);
    }
    perLib.set(className, shapes);
  }
  return shapes;
}

/** Area statistics (pixels) of the class's non-empty library shapes; all zero when it has none. */
export function shapeStats(lib: MaskLibrary, className: string): { meanArea: number; minArea: number; maxArea: number; n: number } {
  const shapes = libraryShapes(lib, className);
  if (shapes.length === 0) return { meanArea: 0, minArea: 0, maxArea: 0, n: 0 };
  let sum = 0;
  let min = Infinity;
  let max = 0;
  for (const s of shapes) {
    sum += s.area;
    min = Math.min(min, s.area);
    max = Math.max(max, s.area);
  }
  return { meanArea: sum / shapes.length, minArea: min, maxArea: max, n: shapes.length };
}

/** Target-area range of a size: the lower, middle or upper third of the class's sorted areas. */
export function sizeAreaRange(lib: MaskLibrary, className: string, size: 'small' | 'medium' | 'large'): [number, number] {
  return areaThird(libraryShapes(lib, className), size);
}

function areaThird(shapes: readonly Shape[], size: 'small' | 'medium' | 'large'): [number, number] {
  const areas = shapes.map((s) => s.area).sort((a, b) => a - b);
  if (areas.length === 0) return [0, 0];
  const q = (p: number) => {
    const pos = p * (areas.length - 1);
    const i = Math.floor(pos);
    const f = pos - i;
    return (areas[i] as number) * (1 - f) + (areas[Math.min(i + 1, areas.length - 1)] as number) * f;
  };
  if (size === 'small') return [q(0), q(1 / 3)];
  if (size === 'medium') return [q(1 / 3), q(2 / 3)];
  return [q(2 / 3), q(1)];
}

/** Bounding box of the shape's pixels after mirror / rotation, at scale 1, relative to the centroid. */
function rotatedExtent(s: Shape, flip: boolean, angle: number): { minX: number; maxX: number; minY: number; maxY: number } {
  const c = Math.cos(angle);
  const sn = Math.sin(angle);
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let k = 0; k < s.offsets.length; k += 2) {
    const dx = flip ? -(s.offsets[k] as number) : (s.offsets[k] as number);
    const dy = s.offsets[k + 1] as number;
    const x = c * dx - sn * dy;
    const y = sn * dx + c * dy;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const half = 0.5 * (Math.abs(c) + Math.abs(sn)); // half a pixel, rotated
  return { minX: minX - half, maxX: maxX + half, minY: minY - half, maxY: maxY + half };
}

function clamp(v: number, lo: number, hi: number): number {
  return lo > hi ? (lo + hi) / 2 : Math.min(hi, Math.max(lo, v));
}

/**
 * A seeded random mask of `className` built from the library's real shapes: `count` shapes, each cropped to
 * its bounding box, optionally mirrored, scaled (nearest neighbour) to a target area drawn from the size's
 * third of the class's own area distribution (never larger than fits the window), rotated by a random angle
 * ('any') or so that its principal axis (from the pixel-coordinate covariance) lies horizontal, vertical or
 * diagonal, and placed with its centroid at `placement` (plus a small seeded jitter) or at a random
 * position; every shape is kept inside the window. Further shapes try a few positions to avoid touching
 * the ones already placed. The result is the union, 0/1, width*height; all zeros when the class has no
 * shapes (e.g. Free). Deterministic for (library, className, seed, opts).
 */
export function sampleMask(lib: MaskLibrary, className: string, seed: number, opts: MaskShapeOptions = {}): Uint8Array {
  const { width: W, height: H } = lib;
  const out = new Uint8Array(W * H);
  const all = libraryShapes(lib, className);
  if (all.length === 0) return out;
  const rng = new Rng(seed);
  const count = Math.min(MAX_MASK_SHAPES, Math.max(1, Math.round(opts.count ?? 1) || 1));
  const orientation = opts.orientation ?? 'any';

  // With `whole`, only whole shapes are drawn and sizes are thirds of their own areas (cut shapes are the larger ones).
  const whole = opts.whole ? all.filter((s) => s.whole) : [];
  const base = whole.length ? whole : all;
  let pool = base;
  if (opts.shape === 'thin' || opts.shape === 'round') {
    const byElong = [...pool].sort((a, b) => a.elongation - b.elongation);
    const half = Math.ceil(byElong.length / 2);
    pool = opts.shape === 'thin' ? byElong.slice(byElong.length - half) : byElong.slice(0, half);
  }
  const range = opts.size ? areaThird(base, opts.size) : null;

  for (let n = 0; n < count; n++) {
    const s = pool[rng.nextUint32() % pool.length] as Shape;
    const flip = (rng.nextUint32() & 1) === 1;
    const axis = flip ? -s.theta : s.theta;
    const turn = (rng.nextUint32() & 1) === 1 ? Math.PI : 0; // either end first
    let angle: number;
    if (orientation === 'horizontal') angle = -axis + turn;
    else if (orientation === 'vertical') angle = Math.PI / 2 - axis + turn;
    else if (orientation === 'diagonal') angle = ((rng.nextUint32() & 1) === 1 ? Math.PI / 4 : -Math.PI / 4) - axis + turn;
    else angle = rng.nextFloat() * 2 * Math.PI;

    let scale = range ? Math.sqrt((range[0] + rng.nextFloat() * (range[1] - range[0])) / s.area) : 1;
    let ext = rotatedExtent(s, flip, angle);
    let fit = Math.min(W / (ext.maxX - ext.minX), H / (ext.maxY - ext.minY));
    if (orientation === 'any' && fit < scale * 0.9) {
      // A large shape at an odd angle would not fit: use the nearest quarter turn, which keeps its size.
      angle = Math.round(angle / (Math.PI / 2)) * (Math.PI / 2);
      ext = rotatedExtent(s, flip, angle);
      fit = Math.min(W / (ext.maxX - ext.minX), H / (ext.maxY - ext.minY));
    }
    scale = Math.max(0.05, Math.min(scale, fit));
    const box = { minX: ext.minX * scale, maxX: ext.maxX * scale, minY: ext.minY * scale, maxY: ext.maxY * scale };

    const attempts = n === 0 ? 1 : 10;
    let best: number[] = [];
    let bestTouch = Infinity;
    for (let a = 0; a < attempts; a++) {
      let tx: number;
      let ty: number;
      if (opts.placement) {
        // Each retry (to keep shapes apart) looks a little further from the asked-for point, at most 22% of the
        // window away, and only a third of that across an edge the point is near: "at the top" spreads shapes
        // along the top, not down into the middle.
        const r = Math.min(0.04 + 0.06 * a, 0.22) * Math.max(W, H);
        const across = (v: number) => (v < 0.3 || v > 0.7 ? 1 / 3 : 1);
        tx = opts.placement.x * W + (rng.nextFloat() * 2 - 1) * r * across(opts.placement.x);
        ty = opts.placement.y * H + (rng.nextFloat() * 2 - 1) * r * across(opts.placement.y);
      } else {
        tx = -box.minX + rng.nextFloat() * (W - (box.maxX - box.minX));
        ty = -box.minY + rng.nextFloat() * (H - (box.maxY - box.minY));
      }
      tx = clamp(tx, -box.minX, W - box.maxX);
      ty = clamp(ty, -box.minY, H - box.maxY);
      const pixels = rasterize(s, flip, angle, scale, tx, ty, box, W, H);
      const touch = n === 0 ? 0 : touching(out, pixels, W, H);
      if (touch < bestTouch) {
        best = pixels;
        bestTouch = touch;
      }
      if (touch === 0) break;
    }
    for (const i of best) out[i] = 1;
  }
  return out;
}

/** Output pixel indices covered by the transformed shape (inverse mapping, nearest neighbour). */
function rasterize(
  s: Shape,
  flip: boolean,
  angle: number,
  scale: number,
  tx: number,
  ty: number,
  box: { minX: number; maxX: number; minY: number; maxY: number },
  W: number,
  H: number,
): number[] {
  const c = Math.cos(angle);
  const sn = Math.sin(angle);
  const out: number[] = [];
  const x0 = Math.max(0, Math.floor(tx + box.minX));
  const x1 = Math.min(W - 1, Math.ceil(tx + box.maxX));
  const y0 = Math.max(0, Math.floor(ty + box.minY));
  const y1 = Math.min(H - 1, Math.ceil(ty + box.maxY));
  for (let oy = y0; oy <= y1; oy++)
    for (let ox = x0; ox <= x1; ox++) {
      const dx = (ox + 0.5 - tx) / scale;
      const dy = (oy + 0.5 - ty) / scale;
      let qx = c * dx + sn * dy; // rotate by -angle
      const qy = -sn * dx + c * dy;
      if (flip) qx = -qx;
      const sx = Math.floor(qx + s.cx);
      const sy = Math.floor(qy + s.cy);
      if (sx >= 0 && sx < s.w && sy >= 0 && sy < s.h && s.px[sy * s.w + sx]) out.push(oy * W + ox);
    }
  return out;
}

/** How many of `pixels` are set in `mask` or 4-adjacent to a set pixel. */
function touching(mask: Uint8Array, pixels: number[], W: number, H: number): number {
  let n = 0;
  for (const i of pixels) {
    const x = i % W;
    const y = (i - x) / W;
    if (mask[i] || (x > 0 && mask[i - 1]) || (x < W - 1 && mask[i + 1]) || (y > 0 && mask[i - W]) || (y < H - 1 && mask[i + W])) n++;
  }
  return n;
}

/**
 * The mask for parsed prompt conditions: sampleMask with the prompt's class, count, size, shape, orientation
 * and placement. A prompt that names no class uses `fallbackClass` (the caller's current class); with
 * neither, or for a class without shapes (Free), the mask is all zeros.
 */
export function maskFromPrompt(lib: MaskLibrary, cond: PromptConditions, seed: number, fallbackClass?: string): Uint8Array {
  const className = cond.className ?? fallbackClass;
  if (className === undefined) return new Uint8Array(lib.width * lib.height);
  return sampleMask(lib, className, seed, {
    count: cond.count,
    size: cond.size,
    shape: cond.shape,
    orientation: cond.orientation,
    placement: cond.placement,
  });
}
