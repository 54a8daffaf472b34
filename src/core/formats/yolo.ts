/**
 * Ultralytics YOLO segmentation labels (https://docs.ultralytics.com/datasets/segment/): one text file per image,
 * one line per object, `<class index> x1 y1 x2 y2 ...`, the polygon's points normalised to the image width and
 * height. Ultralytics finds an image's label file by replacing the last `/images/` in its path with `/labels/` and
 * the extension with `.txt`, so labels/<class>/<name>.txt sits beside images/<class>/<name>.png.
 *
 * Each object is one 8-connected region of the mask (the same connectivity the mask editor and COCO use for
 * "one defect"). Its polygon is the region's exact outline along pixel edges: coordinates are pixel-edge
 * coordinates (0 = the image's left/top edge, width/height = its right/bottom edge), so the polygon filled at
 * pixel centres is the region again, pixel for pixel. Points where the outline only runs on in the same
 * direction are dropped; a one-pixel region is its 4-corner square.
 *
 * Where two pixels of a region touch only diagonally, the outline passes through their shared corner twice
 * (it pinches there, it does not cross). A region with holes: YOLO has no holes, so each hole's outline is joined
 * to the outline around it by a zero-width cut, a vertical slit along a pixel edge, walked down and back up
 * (the keyhole construction; Ultralytics' own COCO converter joins a multi-part object's segments the same way).
 * The hole stays out of the polygon under both the even-odd and the non-zero rule (the hole's outline runs the
 * other way round) and the slit covers no pixel centre.
 */
import { StudioError } from '../errors';

/** A polygon as flat [x0, y0, x1, y1, ...] in pixel-edge coordinates. */
export type Polygon = number[];

/**
 * The 8-connected regions of a 0/1 row-major mask, in raster order of their first pixel, each as its outline
 * polygon (holes cut in, see the header).
 */
export function maskPolygons(mask: Uint8Array, width: number, height: number): Polygon[] {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new StudioError('badRequest', `mask size ${width}x${height} is not valid; accepted: whole numbers of pixels >= 1`);
  if (mask.length !== width * height) throw new StudioError('badRequest', `mask has ${mask.length} pixels but ${width}x${height} = ${width * height} were expected`);
  const label = new Int32Array(width * height);
  const out: Polygon[] = [];
  const stack: number[] = [];
  let next = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || label[start]) continue;
    next++;
    // Flood the region (8-connected), keeping its bounding box.
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    const pixels: number[] = [];
    label[start] = next;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop() as number;
      pixels.push(p);
      const px = p % width, py = (p - px) / width;
      if (px < x0) x0 = px;
      if (px > x1) x1 = px;
      if (py < y0) y0 = py;
      if (py > y1) y1 = py;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const qx = px + dx, qy = py + dy;
          if (qx < 0 || qy < 0 || qx >= width || qy >= height) continue;
          const q = qy * width + qx;
          if (mask[q] && !label[q]) {
            label[q] = next;
            stack.push(q);
          }
        }
    }
    out.push(regionPolygon(pixels, width, x0, y0, x1, y1));
  }
  return out;
}

/**
 * One region's polygon, worked out on its bounding box grown by one pixel on each side (so everything outside
 * the region around it is one 4-connected "outside" area). Grid g: 1 = the region, 0 = anything else.
 */
function regionPolygon(pixels: readonly number[], width: number, x0: number, y0: number, x1: number, y1: number): Polygon {
  const gw = x1 - x0 + 3, gh = y1 - y0 + 3;
  const inC = new Uint8Array(gw * gh);
  for (const p of pixels) {
    const px = p % width, py = (p - px) / width;
    inC[(py - y0 + 1) * gw + (px - x0 + 1)] = 1;
  }
  const c = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < gw && y < gh && inC[y * gw + x] === 1;
  // The areas not in the region, 4-connected: area 1 holds the border (the outside), any other is a hole.
  const area = new Int32Array(gw * gh);
  const tops: { id: number; x: number; y: number }[] = [];
  let areas = 0;
  const stack: number[] = [];
  for (let s = 0; s < gw * gh; s++) {
    if (inC[s] || area[s]) continue;
    areas++;
    // Raster order: the first pixel met is the area's top-left pixel (topmost row, leftmost in it).
    tops.push({ id: areas, x: s % gw, y: Math.floor(s / gw) });
    area[s] = areas;
    stack.push(s);
    while (stack.length) {
      const p = stack.pop() as number;
      const px = p % gw, py = (p - px) / gw;
      for (const [qx, qy] of [[px + 1, py], [px - 1, py], [px, py + 1], [px, py - 1]] as const) {
        if (qx < 0 || qy < 0 || qx >= gw || qy >= gh) continue;
        const q = qy * gw + qx;
        if (!inC[q] && !area[q]) {
          area[q] = areas;
          stack.push(q);
        }
      }
    }
  }
  // Rings, as lists of unit-step corner points, each walked with the region on its left (y down).
  const rings = new Map<number, number[]>();
  // The outside's ring starts on the top edge of the region's top-left pixel, walking west.
  const first = inC.indexOf(1);
  const fx = first % gw, fy = (first - fx) / gw;
  rings.set(1, traceRing(c, fx + 1, fy, -1, 0));
  // A hole's ring starts at its top-left corner, walking east along the bottom edge of the region pixel above.
  for (const t of tops) if (t.id !== 1) rings.set(t.id, traceRing(c, t.x, t.y, 1, 0));
  // Join the holes, the lowest top first: a hole's cut ends on an area that starts higher up (the outside or a
  // hole that has not been joined yet), so every hole ends up inside the outside's ring.
  const holes = tops.filter((t) => t.id !== 1).sort((a, b) => b.y - a.y || b.x - a.x);
  for (const h of holes) {
    // Up the pixel edge x = h.x from the hole's top-left corner, between region pixels, to the first corner
    // that another area touches; the pixel up-left of the corner may already be another area (a zero-length cut).
    let y = h.y;
    let target = 0;
    if (!c(h.x - 1, h.y - 1)) target = area[(h.y - 1) * gw + h.x - 1] as number;
    else
      for (y = h.y - 1; ; y--) {
        const l = (y - 1) * gw + h.x - 1, r = l + 1;
        if (!inC[l]) { target = area[l] as number; break; }
        if (!inC[r]) { target = area[r] as number; break; }
      }
    const into = rings.get(target) as number[];
    const ring = rings.get(h.id) as number[];
    let at = -1;
    for (let i = 0; i < into.length; i += 2) if (into[i] === h.x && into[i + 1] === y) { at = i; break; }
    if (at < 0) throw new Error(`internal: hole cut at (${h.x}, ${y}) does not meet the ring it should`);
    const down: number[] = [];
    for (let k = y + 1; k < h.y; k++) down.push(h.x, k);
    const up: number[] = [];
    for (let k = h.y - 1; k > y; k--) up.push(h.x, k);
    // into: ..., P, [cut down], hole ring from its start all the way round to its start again, [cut up], P, ...
    const joined = [...into.slice(0, at + 2), ...down, ...ring, h.x, h.y, ...up];
    if (down.length || h.y !== y) joined.push(h.x, y);
    else joined.push(h.x, h.y);
    rings.set(target, [...joined, ...into.slice(at + 2)]);
    rings.delete(h.id);
  }
  const full = rings.get(1) as number[];
  // The first joined hole with a zero-length cut repeats P right after P's own entry; drop such repeats.
  const dedup: number[] = [];
  for (let i = 0; i < full.length; i += 2) {
    const n = dedup.length;
    if (n && dedup[n - 2] === full[i] && dedup[n - 1] === full[i + 1]) continue;
    dedup.push(full[i] as number, full[i + 1] as number);
  }
  if (dedup.length > 2 && dedup[0] === dedup[dedup.length - 2] && dedup[1] === dedup[dedup.length - 1]) dedup.length -= 2;
  return simplify(dedup).map((v, i) => v + (i % 2 === 0 ? x0 - 1 : y0 - 1));
}

/**
 * Walks the edges between region pixels (on the left) and other pixels (on the right) from the corner (sx, sy)
 * in direction (dx, dy) until that edge comes round again. At a corner the walk turns right if the pixel ahead
 * on the right is in the region, goes straight if only the one ahead on the left is, else turns left: it hugs the
 * area on its right, so two region pixels that touch only at a corner stay one region (8-connected).
 */
function traceRing(c: (x: number, y: number) => boolean, sx: number, sy: number, sdx: number, sdy: number): number[] {
  const pts: number[] = [];
  let x = sx, y = sy, dx = sdx, dy = sdy;
  do {
    pts.push(x, y);
    x += dx;
    y += dy;
    // Pixels ahead of corner (x, y): the pixel with corner (x, y) that lies in direction d, left or right of it.
    // Left of d (y down) is (dy, -dx). Pixel with its top-left corner at (px, py) covers [px, px+1] x [py, py+1].
    const lx = dy, ly = -dx;
    const aheadLeft = c(x + Math.min(0, dx) + Math.min(0, lx), y + Math.min(0, dy) + Math.min(0, ly));
    const aheadRight = c(x + Math.min(0, dx) + Math.min(0, -lx), y + Math.min(0, dy) + Math.min(0, -ly));
    if (aheadRight) [dx, dy] = [-dy, dx];
    else if (!aheadLeft) [dx, dy] = [dy, -dx];
  } while (!(x === sx && y === sy && dx === sdx && dy === sdy));
  return pts;
}

/** Drops the corners where the outline goes on in the same direction (every edge here is horizontal or vertical). */
function simplify(p: readonly number[]): number[] {
  const n = p.length / 2;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = (i + n - 1) % n, b = (i + 1) % n;
    const ix = p[2 * i] as number, iy = p[2 * i + 1] as number;
    const inX = Math.sign(ix - (p[2 * a] as number)), inY = Math.sign(iy - (p[2 * a + 1] as number));
    const outX = Math.sign((p[2 * b] as number) - ix), outY = Math.sign((p[2 * b + 1] as number) - iy);
    if (inX !== outX || inY !== outY) out.push(ix, iy);
  }
  return out;
}

/** A mask's YOLO segmentation label file: one line per region, `<classIndex> x y ...` normalised, 6 decimals; '' for an empty mask. */
export function yoloLabel(mask: Uint8Array, width: number, height: number, classIndex: number): string {
  if (!Number.isInteger(classIndex) || classIndex < 0) throw new StudioError('badRequest', `YOLO class index ${classIndex} is not valid; accepted: a whole number >= 0 (the class's position in data.yaml's names)`);
  return maskPolygons(mask, width, height)
    .map((p) => `${classIndex} ${p.map((v, i) => (v / (i % 2 === 0 ? width : height)).toFixed(6)).join(' ')}\n`)
    .join('');
}

export interface YoloObject {
  classIndex: number;
  /** In pixel-edge coordinates of a width x height image. */
  polygon: Polygon;
}

/** Reads a YOLO segmentation label file back into pixel coordinates (errors name the line). */
export function parseYoloLabel(text: string, width: number, height: number): YoloObject[] {
  const objects: YoloObject[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const f = line.trim().split(/\s+/).map(Number);
    const bad = (why: string): never => {
      throw new StudioError('badRequest', `YOLO label line ${i + 1} ${why}; accepted: "<class index> x1 y1 x2 y2 x3 y3 ..." with coordinates from 0 to 1`);
    };
    if (!Number.isInteger(f[0]) || (f[0] as number) < 0) bad(`starts with "${line.trim().split(/\s+/)[0]}", not a class index`);
    const xy = f.slice(1);
    if (xy.length < 6 || xy.length % 2 !== 0) bad(`has ${xy.length} coordinates, not 3 or more x y pairs`);
    if (xy.some((v) => !(v >= 0 && v <= 1))) bad('has a coordinate outside 0..1');
    objects.push({ classIndex: f[0] as number, polygon: xy.map((v, k) => v * (k % 2 === 0 ? width : height)) });
  });
  return objects;
}

/** Fills polygons (pixel coordinates) at pixel centres, even-odd rule per polygon, ORed together: 0/1 per pixel. */
export function rasterisePolygons(polygons: readonly Polygon[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (const poly of polygons) {
    const n = poly.length / 2;
    for (let y = 0; y < height; y++) {
      const yc = y + 0.5;
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const ax = poly[2 * i] as number, ay = poly[2 * i + 1] as number;
        const j = (i + 1) % n;
        const bx = poly[2 * j] as number, by = poly[2 * j + 1] as number;
        if (ay > yc !== by > yc) xs.push(ax + ((yc - ay) * (bx - ax)) / (by - ay));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil((xs[k] as number) - 0.5)), to = Math.min(width - 1, Math.floor((xs[k + 1] as number) - 0.5));
        for (let x = from; x <= to; x++) out[y * width + x] = 1;
      }
    }
  }
  return out;
}

/**
 * data.yaml for an export folder holding images/<class>/*.png and labels/<class>/*.txt. `path` is left empty,
 * which Ultralytics reads as "the folder holding this data.yaml" (a relative path there is resolved against its
 * datasets folder in some versions). Class names are quoted (a name like "yes" or "a: b" stays a string).
 */
export function yoloDataYaml(classes: readonly string[]): string {
  if (!classes.length) throw new StudioError('badRequest', 'data.yaml needs at least one class name');
  return [
    '# Ultralytics YOLO segmentation dataset written by Defect Diffusion Studio (https://docs.ultralytics.com/datasets/segment/).',
    '# labels/<class>/<name>.txt belongs to images/<class>/<name>.png: one line per defect region, "<class index> x1 y1 ...".',
    '# The masks in masks/ are pixel-exact; the polygons are their traced outlines (along pixel edges, holes joined',
    '# by zero-width cuts), so filling a polygon at pixel centres gives its region of the mask back exactly.',
    '# train and val name the same images: split them (e.g. by seed) before you validate on them.',
    "path: '' # empty: the folder holding this file",
    'train: images',
    'val: images',
    'names:',
    ...classes.map((name, i) => `  ${i}: ${JSON.stringify(name)}`),
    '',
  ].join('\n');
}
